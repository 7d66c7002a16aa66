import { InMemoryVectorStore, defaultHybridFusion, denseOnly, type InMemoryDocument } from "@zip/deep-memory";
import type { BeirDataset } from "./beir.js";
import { latency, type QuerySet } from "./retrieval-eval.js";

export interface ScaleLatency {
  chunks: number;
  dimensions: number;
  queries: number;
  bm25IndexSeconds: number;
  /** Median ms per query at k=10. */
  denseMs: number;
  lexicalMs: number;
  hybridMs: number;
}

/**
 * What hybrid search adds per query over 60,000 in-memory chunks. The
 * chunks are the data set's documents cut as in the 60,000-document scale
 * check of docs/benchmarks.md (each document's sentences, then overlapping
 * two-sentence windows, until 60,000), so keyword statistics are those of
 * real text; their vectors are random unit vectors (search cost does not
 * depend on what they encode, and embedding 60,000 texts takes 15 minutes).
 */
export async function scaleLatency(input: { data: BeirDataset; testSet: QuerySet; dims: number; seed: number; log: (m: string) => void; chunks?: number }): Promise<ScaleLatency> {
  const target = input.chunks ?? 60_000;
  const texts: string[] = [];
  const sentences = input.data.documents.map((d) => d.text.split(/(?<=[.!?])\s+(?=[A-Z0-9])/).filter((s) => s.trim().length > 0));
  for (const list of sentences) for (const s of list) if (texts.length < target) texts.push(s);
  for (let width = 2; texts.length < target && width < 64; width++) {
    for (const list of sentences) for (let i = 0; i + width <= list.length && texts.length < target; i++) texts.push(list.slice(i, i + width).join(" "));
  }
  let state = input.seed >>> 0 || 1;
  const random = () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
  const documents: InMemoryDocument[] = texts.map((text, i) => ({ id: `s${i}`, text, embedding: Float32Array.from({ length: input.dims }, random) }));
  const store = new InMemoryVectorStore(documents);
  const start = performance.now();
  await store.textSearch!({ userId: "bench", query: "warm", k: 1 });
  const bm25IndexSeconds = (performance.now() - start) / 1000;
  input.log(`scale check: ${texts.length} chunks, BM25 index built in ${bm25IndexSeconds.toFixed(1)} s`);
  // A warm-up pass, then the measured one: both legs' code is compiled and the index is in cache, as in a running server.
  await latency(store, input.testSet, { transform: null, fusion: defaultHybridFusion });
  const denseMs = await latency(store, input.testSet, { transform: null, fusion: denseOnly });
  const lexicalMs = await latency(store, input.testSet, "lexical");
  const hybridMs = await latency(store, input.testSet, { transform: null, fusion: defaultHybridFusion });
  input.log(`scale check: dense ${denseMs.toFixed(2)} ms, BM25 ${lexicalMs.toFixed(2)} ms, hybrid ${hybridMs.toFixed(2)} ms per query`);
  return { chunks: texts.length, dimensions: input.dims, queries: input.testSet.texts.length, bm25IndexSeconds, denseMs, lexicalMs, hybridMs };
}
