import type { SearchHit } from "../domain/chunk.js";
import type { QueryTransform } from "../ports/deep-memory-engine.js";
import type { VectorStore } from "../ports/vector-store.js";
import { fuseRankings, legDepth, type Fusion, type RankedHit } from "./fusion.js";
import { boostByNeighbors, neighborsOf } from "./neighbor-boost.js";
import { ValidationError } from "../errors/errors.js";
import { eventLoopYielder } from "../shared/event-loop.js";

/**
 * One search as configured: the dense leg with the (possibly transformed)
 * query embedding and, for a hybrid fusion on a store with keyword search,
 * the lexical leg with the raw text, run together and fused. A hybrid fusion
 * on a store without `textSearch` searches dense-only; a neighbour boost on a
 * store without `getEmbeddings` is left out.
 */
export async function fusedSearch(input: {
  vectorStore: VectorStore;
  userId: string;
  query: string;
  embedding: Float32Array;
  fusion: Fusion;
  k: number;
  signal?: AbortSignal;
}): Promise<SearchHit[]> {
  const { vectorStore, userId, fusion, k } = input;
  const neighbors = typeof vectorStore.getEmbeddings === "function" ? neighborsOf(fusion) : undefined;
  // The boost re-scores the fused top `pool`: fuse that deep, then cut to k.
  const fuseK = neighbors ? Math.max(k, neighbors.pool) : k;
  const depth = legDepth(fusion, fuseK);
  const lexical = fusion.method !== "dense" && typeof vectorStore.textSearch === "function";
  const [dense, keyword] = await Promise.all([
    vectorStore.search({ userId, embedding: input.embedding, k: lexical ? depth : k }),
    lexical ? vectorStore.textSearch!({ userId, query: input.query, k: depth, ...(input.signal ? { signal: input.signal } : {}) }) : [],
  ]);
  if (!lexical) return dense.slice(0, k);
  const fused = fuseRankings(dense, keyword, fusion, fuseK);
  if (!neighbors) return fused;
  const ids = fused.slice(0, neighbors.pool).map((h) => h.id);
  const vectors = await vectorStore.getEmbeddings!({ userId, ids, ...(input.signal ? { signal: input.signal } : {}) });
  return boostByNeighbors(fused, neighbors, (id) => vectors.get(id)).slice(0, k);
}

/** Each question's legs, as deep as asked: dense without and with the transform, and lexical where the store has it. */
export interface QuestionLegs {
  plain: SearchHit[][];
  tuned: SearchHit[][] | null;
  lexical: SearchHit[][] | null;
}

export async function searchLegs(input: {
  vectorStore: VectorStore;
  userId: string;
  queries: readonly string[];
  vectors: readonly Float32Array[];
  transform: QueryTransform | null;
  /** Also search without the transform (for a baseline). */
  plain: boolean;
  depth: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}): Promise<QuestionLegs> {
  const { vectorStore, userId, depth, signal } = input;
  const out: QuestionLegs = { plain: [], tuned: input.transform ? [] : null, lexical: vectorStore.textSearch ? [] : null };
  const none: Promise<SearchHit[]> = Promise.resolve([]);
  // In-memory stores answer synchronously: without this, evaluating a few thousand questions holds the event loop.
  const yieldSometimes = eventLoopYielder();
  for (let i = 0; i < input.vectors.length; i++) {
    await yieldSometimes();
    signal?.throwIfAborted();
    const q = input.vectors[i]!;
    const [plain, tuned, lexical] = await Promise.all([
      input.plain ? vectorStore.search({ userId, embedding: q, k: depth }) : none,
      input.transform ? vectorStore.search({ userId, embedding: input.transform.apply(q), k: depth }) : none,
      vectorStore.textSearch ? vectorStore.textSearch({ userId, query: input.queries[i]!, k: depth, ...(signal ? { signal } : {}) }) : none,
    ]);
    out.plain.push(plain);
    out.tuned?.push(tuned);
    out.lexical?.push(lexical);
    if ((i + 1) % 25 === 0 || i + 1 === input.vectors.length) input.onProgress?.(i + 1, input.vectors.length);
  }
  return out;
}

/**
 * For ranking stored legs with a neighbour-boosted fusion (`fusedRanking`'s
 * `vectorOf`): the embeddings of each question's fused top `pool`, one
 * `getEmbeddings` call per question. Undefined where the fusion has no boost.
 */
export async function poolEmbeddings(input: {
  vectorStore: VectorStore;
  userId: string;
  dense: readonly (readonly RankedHit[])[];
  lexical: readonly (readonly RankedHit[])[] | null;
  fusion: Fusion;
  signal?: AbortSignal;
}): Promise<((id: string) => Float32Array | undefined) | undefined> {
  const neighbors = neighborsOf(input.fusion);
  if (!neighbors) return undefined;
  const { vectorStore, userId, signal } = input;
  if (!vectorStore.getEmbeddings) throw new ValidationError("poolEmbeddings: a fusion with a neighbour boost needs a vector store with getEmbeddings");
  const vectors = new Map<string, Float32Array>();
  for (let q = 0; q < input.dense.length; q++) {
    signal?.throwIfAborted();
    const ids = fuseRankings(input.dense[q]!, input.lexical?.[q] ?? [], input.fusion, neighbors.pool)
      .map((h) => h.id)
      .filter((id) => !vectors.has(id));
    if (!ids.length) continue;
    for (const [id, v] of await vectorStore.getEmbeddings({ userId, ids, ...(signal ? { signal } : {}) })) vectors.set(id, v);
  }
  return (id) => vectors.get(id);
}
