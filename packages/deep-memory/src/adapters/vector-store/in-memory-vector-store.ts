import { readFile, writeFile, mkdir, rename } from "node:fs/promises";
import { dirname } from "node:path";
import * as z from "zod";
import type { Chunk, SearchHit } from "../../domain/chunk.js";
import { ValidationError } from "../../errors/errors.js";
import type { ChunkPage, CountChunksInput, GetEmbeddingsInput, ListChunksInput, TextSearchInput, VectorSearchInput, VectorStore } from "../../ports/vector-store.js";
import { normalize } from "../../evaluation/vector-math.js";
import { Bm25Index, bm25OptionsSchema, type Bm25Options } from "../../retrieval/bm25-index.js";
import { parseOrThrow, requireChunkIds } from "../../errors/validation.js";

export interface InMemoryDocument {
  id: string;
  text: string;
  embedding: Float32Array | number[];
  metadata?: Record<string, unknown>;
  /** Owner of a private chunk; chunks without one are shared by every user. */
  userId?: string;
}

export const inMemoryVectorStoreOptionsSchema = z
  .object({
    /**
     * Keyword search next to vector search (`textSearch`, BM25 with English
     * stemming), which the trainer fuses with dense search. The index is built
     * on the first text search and kept up to date on upsert and delete.
     * `false` leaves the store dense-only.
     */
    textSearch: z.union([z.literal(false), bm25OptionsSchema]).default(() => bm25OptionsSchema.parse({})),
  })
  .strict();
export type InMemoryVectorStoreOptions = z.input<typeof inMemoryVectorStoreOptionsSchema>;

const fileSchema = z.object({
  version: z.literal(1),
  dimensions: z.number().int().positive(),
  documents: z.array(
    z.object({
      id: z.string().min(1),
      text: z.string(),
      embedding: z.string(),
      metadata: z.record(z.string(), z.unknown()).optional(),
      userId: z.string().optional(),
    }),
  ),
});

interface Row {
  id: string;
  text: string;
  metadata: Record<string, unknown> | undefined;
  userId: string | undefined;
  offset: number;
}

/**
 * Exact cosine search over unit vectors packed in one Float32Array, and BM25
 * keyword search over the same chunks. Fine up to a few hundred thousand
 * chunks; saves to and loads from a JSON file.
 */
export class InMemoryVectorStore implements VectorStore {
  /** Keyword search (BM25); absent when the store was made with `textSearch: false`. */
  readonly textSearch?: (input: TextSearchInput) => Promise<SearchHit[]>;
  private rows: Row[] = [];
  private readonly index = new Map<string, number>();
  private matrix = new Float32Array(0);
  private dims: number | null = null;
  private readonly bm25Options: Bm25Options | false;
  /** Built on the first text search, then maintained on every change. */
  private lexical: Bm25Index | null = null;

  constructor(documents: InMemoryDocument[] = [], options: InMemoryVectorStoreOptions = {}) {
    this.bm25Options = parseOrThrow(inMemoryVectorStoreOptionsSchema, options, "InMemoryVectorStore options").textSearch;
    if (this.bm25Options !== false) this.textSearch = (input) => this.keywordSearch(input);
    this.upsert(documents);
  }

  get size(): number {
    return this.rows.length;
  }

  get dimensions(): number | null {
    return this.dims;
  }

  /** Adds documents, replacing any with the same id. */
  upsert(documents: InMemoryDocument[]): void {
    for (const doc of documents) {
      const vector = normalize(Float32Array.from(doc.embedding));
      if (this.dims === null) this.dims = vector.length;
      if (vector.length !== this.dims) {
        throw new ValidationError(`Document ${doc.id} has ${vector.length} dimensions, the store has ${this.dims}`, [
          { path: "embedding", message: `expected ${this.dims} dimensions` },
        ]);
      }
      const existing = this.index.get(doc.id);
      const row: Row = { id: doc.id, text: doc.text, metadata: doc.metadata, userId: doc.userId, offset: 0 };
      if (existing !== undefined) {
        row.offset = this.rows[existing]!.offset;
        this.rows[existing] = row;
      } else {
        row.offset = this.rows.length * this.dims;
        this.index.set(doc.id, this.rows.length);
        this.rows.push(row);
        this.grow(this.rows.length * this.dims);
      }
      this.matrix.set(vector, row.offset);
      // Per document, so a later document's bad embedding leaves both indexes agreeing on what was stored.
      this.lexical?.upsert([doc]);
    }
  }

  /** Removes chunks by id (unknown ids are ignored); returns how many were removed. */
  delete(ids: readonly string[]): number {
    const d = this.dims ?? 0;
    let removed = 0;
    for (const id of new Set(ids)) {
      const at = this.index.get(id);
      if (at === undefined) continue;
      // The last row moves into the hole, so rows and the matrix stay dense.
      const last = this.rows.length - 1;
      const hole = this.rows[at]!;
      if (at !== last) {
        const moved = this.rows[last]!;
        this.matrix.copyWithin(hole.offset, moved.offset, moved.offset + d);
        moved.offset = hole.offset;
        this.rows[at] = moved;
        this.index.set(moved.id, at);
      }
      this.rows.pop();
      this.index.delete(id);
      removed++;
    }
    this.lexical?.delete(ids);
    return removed;
  }

  async listChunks(input: ListChunksInput): Promise<ChunkPage> {
    const start = input.cursor === null ? 0 : Number.parseInt(input.cursor, 10);
    if (!Number.isInteger(start) || start < 0) throw new ValidationError(`Invalid cursor ${JSON.stringify(input.cursor)}`);
    const chunks: Chunk[] = [];
    let i = start;
    for (; i < this.rows.length && chunks.length < input.limit; i++) {
      const row = this.rows[i]!;
      if (!visibleTo(row, input.userId)) continue;
      const chunk: Chunk = { id: row.id, text: row.text };
      if (row.metadata) chunk.metadata = row.metadata;
      if (input.includeEmbeddings) chunk.embedding = this.vectorAt(row);
      chunks.push(chunk);
    }
    return { chunks, nextCursor: i < this.rows.length ? String(i) : null };
  }

  async countChunks(input: CountChunksInput): Promise<number> {
    const excluded = new Set(input.excludeIds);
    let count = 0;
    for (const row of this.rows) if (visibleTo(row, input.userId) && !excluded.has(row.id)) count++;
    return count;
  }

  async getEmbeddings(input: GetEmbeddingsInput): Promise<Map<string, Float32Array>> {
    requireChunkIds(input.ids);
    const out = new Map<string, Float32Array>();
    for (const id of input.ids) {
      const r = this.index.get(id);
      const row = r === undefined ? undefined : this.rows[r];
      if (row && visibleTo(row, input.userId)) out.set(id, this.vectorAt(row));
    }
    return out;
  }

  async search(input: VectorSearchInput): Promise<SearchHit[]> {
    if (this.dims === null || input.k <= 0) return [];
    if (input.embedding.length !== this.dims) {
      throw new ValidationError(`Query has ${input.embedding.length} dimensions, the store has ${this.dims}`);
    }
    const q = normalize(Float32Array.from(input.embedding));
    const d = this.dims;
    // Keep the k best in a small sorted array: k is tiny next to the corpus.
    const topIdx: number[] = [];
    const topScore: number[] = [];
    for (let r = 0; r < this.rows.length; r++) {
      const row = this.rows[r]!;
      if (!visibleTo(row, input.userId)) continue;
      let s = 0;
      const o = row.offset;
      for (let j = 0; j < d; j++) s += q[j]! * this.matrix[o + j]!;
      if (topIdx.length === input.k && s <= topScore[topScore.length - 1]!) continue;
      let pos = topScore.length;
      while (pos > 0 && topScore[pos - 1]! < s) pos--;
      topScore.splice(pos, 0, s);
      topIdx.splice(pos, 0, r);
      if (topIdx.length > input.k) {
        topIdx.pop();
        topScore.pop();
      }
    }
    return topIdx.map((r, i) => {
      const row = this.rows[r]!;
      const hit: SearchHit = { id: row.id, text: row.text, score: topScore[i]! };
      if (row.metadata) hit.metadata = row.metadata;
      return hit;
    });
  }

  private async keywordSearch(input: TextSearchInput): Promise<SearchHit[]> {
    input.signal?.throwIfAborted();
    if (input.k <= 0) return [];
    if (!this.lexical) {
      this.lexical = new Bm25Index(this.bm25Options || {});
      this.lexical.upsert(this.rows);
    }
    return this.lexical.search(input.query, input.k, (id) => visibleTo(this.rows[this.index.get(id)!]!, input.userId)).map(({ id, score }) => {
      const row = this.rows[this.index.get(id)!]!;
      const hit: SearchHit = { id, text: row.text, score };
      if (row.metadata) hit.metadata = row.metadata;
      return hit;
    });
  }

  /** Writes the store to a JSON file atomically (temp file + rename). */
  async save(path: string): Promise<void> {
    const documents = this.rows.map((row) => ({
      id: row.id,
      text: row.text,
      embedding: Buffer.from(this.vectorAt(row).buffer).toString("base64"),
      ...(row.metadata ? { metadata: row.metadata } : {}),
      ...(row.userId ? { userId: row.userId } : {}),
    }));
    await mkdir(dirname(path), { recursive: true });
    const tmp = `${path}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify({ version: 1, dimensions: this.dims ?? 1, documents }));
    await rename(tmp, path);
  }

  static async load(path: string, options: InMemoryVectorStoreOptions = {}): Promise<InMemoryVectorStore> {
    const parsed = fileSchema.safeParse(JSON.parse(await readFile(path, "utf8")));
    if (!parsed.success) throw new ValidationError(`${path} is not a saved InMemoryVectorStore`);
    return new InMemoryVectorStore(
      parsed.data.documents.map((doc) => {
        const bytes = Buffer.from(doc.embedding, "base64");
        const embedding = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4).slice();
        return { ...doc, embedding };
      }),
      options,
    );
  }

  private vectorAt(row: Row): Float32Array {
    return this.matrix.slice(row.offset, row.offset + this.dims!);
  }

  private grow(length: number): void {
    if (length <= this.matrix.length) return;
    const next = new Float32Array(Math.max(length, this.matrix.length * 2));
    next.set(this.matrix);
    this.matrix = next;
  }
}

function visibleTo(row: Row, userId: string): boolean {
  return row.userId === undefined || row.userId === userId;
}
