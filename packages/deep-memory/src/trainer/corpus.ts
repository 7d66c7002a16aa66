import { createHash } from "node:crypto";
import type { Chunk } from "../domain/chunk.js";
import { normalize } from "../evaluation/vector-math.js";
import type { Embedder } from "../ports/embedder.js";
import type { VectorStore } from "../ports/vector-store.js";

/** Every chunk of a user's knowledge base, page by page. */
export async function collectChunks(
  vectorStore: VectorStore,
  userId: string,
  options: { pageSize: number; includeEmbeddings: boolean; signal?: AbortSignal },
): Promise<Chunk[]> {
  const chunks: Chunk[] = [];
  const seen = new Set<string>();
  let cursor: string | null = null;
  do {
    options.signal?.throwIfAborted();
    const page = await vectorStore.listChunks({
      userId,
      cursor,
      limit: options.pageSize,
      includeEmbeddings: options.includeEmbeddings,
    });
    // A store that pages by offset can repeat a chunk when rows move; keep the first.
    for (const chunk of page.chunks) {
      if (seen.has(chunk.id)) continue;
      seen.add(chunk.id);
      chunks.push(chunk);
    }
    if (page.nextCursor !== null && page.nextCursor === cursor) break;
    cursor = page.nextCursor;
  } while (cursor !== null);
  return chunks;
}

/**
 * Embeddings of chunks whose store does not keep them, computed once per
 * (model, text) and reused: training a second time embeds nothing new.
 */
export class EmbeddingCache {
  private readonly vectors = new Map<string, Float32Array>();
  constructor(private readonly maxEntries = 200_000) {}

  async embedChunks(
    embedder: Embedder,
    chunks: readonly Chunk[],
    batchSize: number,
    onProgress?: (done: number, total: number) => void,
    signal?: AbortSignal,
  ): Promise<Float32Array[]> {
    const out = new Array<Float32Array>(chunks.length);
    const missing: number[] = [];
    chunks.forEach((chunk, i) => {
      if (chunk.embedding) out[i] = normalize(Float32Array.from(chunk.embedding));
      else {
        const cached = this.vectors.get(this.key(embedder, chunk.text));
        if (cached) out[i] = cached;
        else missing.push(i);
      }
    });
    for (let start = 0; start < missing.length; start += batchSize) {
      signal?.throwIfAborted();
      const batch = missing.slice(start, start + batchSize);
      const vectors = await embedder.embed(
        batch.map((i) => chunks[i]!.text),
        signal ? { kind: "document", signal } : { kind: "document" },
      );
      batch.forEach((i, j) => {
        const v = normalize(Float32Array.from(vectors[j]!));
        out[i] = v;
        this.remember(this.key(embedder, chunks[i]!.text), v);
      });
      onProgress?.(Math.min(start + batch.length, missing.length), missing.length);
    }
    return out;
  }

  private key(embedder: Embedder, text: string): string {
    return createHash("sha256").update(embedder.model).update("\0").update(text).digest("base64");
  }

  private remember(key: string, vector: Float32Array): void {
    if (this.vectors.size >= this.maxEntries) this.vectors.delete(this.vectors.keys().next().value!);
    this.vectors.set(key, vector);
  }
}

/** Embeds texts as queries in batches, unit length. */
export async function embedQueries(
  embedder: Embedder,
  texts: readonly string[],
  batchSize: number,
  onProgress?: (done: number, total: number) => void,
  signal?: AbortSignal,
): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (let start = 0; start < texts.length; start += batchSize) {
    signal?.throwIfAborted();
    const batch = texts.slice(start, start + batchSize);
    const vectors = await embedder.embed(batch, signal ? { kind: "query", signal } : { kind: "query" });
    if (vectors.length !== batch.length) {
      throw new Error(`Embedder returned ${vectors.length} vectors for ${batch.length} texts`);
    }
    for (const v of vectors) out.push(normalize(Float32Array.from(v)));
    onProgress?.(out.length, texts.length);
  }
  return out;
}
