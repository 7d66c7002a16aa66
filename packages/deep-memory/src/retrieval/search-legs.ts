import type { SearchHit } from "../domain/chunk.js";
import type { QueryTransform } from "../ports/deep-memory-engine.js";
import type { VectorStore } from "../ports/vector-store.js";
import { fuseRankings, legDepth, type Fusion } from "./fusion.js";
import { eventLoopYielder } from "../shared/event-loop.js";

/**
 * One search as configured: the dense leg with the (possibly transformed)
 * query embedding and, for a hybrid fusion on a store with keyword search,
 * the lexical leg with the raw text, run together and fused. A hybrid fusion
 * on a store without `textSearch` searches dense-only.
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
  const depth = legDepth(fusion, k);
  const lexical = fusion.method !== "dense" && typeof vectorStore.textSearch === "function";
  const [dense, keyword] = await Promise.all([
    vectorStore.search({ userId, embedding: input.embedding, k: lexical ? depth : k }),
    lexical ? vectorStore.textSearch!({ userId, query: input.query, k: depth, ...(input.signal ? { signal: input.signal } : {}) }) : [],
  ]);
  return lexical ? fuseRankings(dense, keyword, fusion, k) : dense.slice(0, k);
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
