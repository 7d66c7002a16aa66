import { InMemoryVectorStore, type InMemoryDocument } from "@zip/deep-memory";
import { boostByNeighbors, copiedQuestionsFusion, defaultHybridFusion, fuseRankings, fusedSearch, neighborsOf } from "@zip/deep-memory/retrieval";
import type { BeirDataset } from "./beir.js";
import { median, type QuerySet } from "./retrieval-eval.js";

export interface ScaleLatency {
  chunks: number;
  dimensions: number;
  queries: number;
  bm25IndexSeconds: number;
  /** Median ms per query: dense search at k=10 (what plain search costs). */
  denseMs: number;
  /** The dense leg of hybrid search: top 100. */
  denseDepthMs: number;
  /** The keyword leg: BM25 top 100. */
  lexicalMs: number;
  /** Fusing the two lists (RRF k=60) into the top 10. */
  fuseMs: number;
  /** The whole hybrid search at k=10, end to end. */
  hybridMs: number;
  /** Median per-query extra of the dense leg at depth 100 over k=10. */
  depthExtraMs: number;
  /** What hybrid search adds over dense search: the deeper dense leg, the keyword leg and the fusion. */
  addedMs: number;
  /**
   * The deeper dense leg's extra alone: the scan's products are the same at any depth, only keeping the best 100
   * instead of 10 differs. Timed on the same 60,000 scores per query with the store's own selection rule (median).
   */
  selectionExtraMs: number;
  /** selectionExtraMs + lexicalMs + fuseMs: what hybrid adds, each part timed without the 60,000-row scan's noise. */
  addedIsolatedMs: number;
  /**
   * The LLM-free path's neighbour boost on top (copiedQuestionsFusion): the store's embeddings of the z-score fused
   * top 100 and the boost over them. Independent of the corpus size.
   */
  neighborBoostMs: number;
}

/** InMemoryVectorStore.search's selection: the k best kept in a sorted array. */
function selectTop(scores: Float32Array, k: number): number[] {
  const topIdx: number[] = [];
  const topScore: number[] = [];
  for (let r = 0; r < scores.length; r++) {
    const s = scores[r]!;
    if (topIdx.length === k && s <= topScore[topScore.length - 1]!) continue;
    let pos = topScore.length;
    while (pos > 0 && topScore[pos - 1]! < s) pos--;
    topScore.splice(pos, 0, s);
    topIdx.splice(pos, 0, r);
    if (topIdx.length > k) {
      topIdx.pop();
      topScore.pop();
    }
  }
  return topIdx;
}

/**
 * What hybrid search adds per query over 60,000 in-memory chunks. The
 * chunks are the data set's documents cut as in the 60,000-document scale
 * check of docs/benchmarks.md (each document's sentences, then overlapping
 * two-sentence windows, until 60,000), so keyword statistics are those of
 * real text; their vectors are random unit vectors (search cost does not
 * depend on what they encode, and embedding 60,000 texts takes 15 minutes).
 */
export async function scaleLatency(input: {
  data: BeirDataset;
  testSet: QuerySet;
  dims: number;
  seed: number;
  log: (m: string) => void;
  chunks?: number;
  /** Test queries timed (default 100): three scans of 60,000 rows each. */
  queries?: number;
}): Promise<ScaleLatency> {
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
  // Each query runs every variant in turn, so a load spike on this shared machine hits them alike; a first
  // pass warms the code and caches, as in a running server.
  const times = { dense: [] as number[], denseDepth: [] as number[], lexical: [] as number[], fuse: [] as number[], hybrid: [] as number[], boost: [] as number[] };
  const neighbors = neighborsOf(copiedQuestionsFusion)!;
  const count = Math.min(input.testSet.texts.length, input.queries ?? 100);
  for (let pass = 0; pass < 2; pass++) {
    // The warm-up pass needs only a few queries.
    for (let i = 0; i < (pass === 0 ? Math.min(count, 20) : count); i++) {
      const query = input.testSet.texts[i]!;
      const embedding = input.testSet.vectors[i]!;
      const time = async <T>(into: number[], work: () => Promise<T> | T): Promise<T> => {
        const start = performance.now();
        const out = await work();
        if (pass > 0) into.push(performance.now() - start);
        return out;
      };
      await time(times.dense, () => store.search({ userId: "bench", embedding, k: 10 }));
      const dense = await time(times.denseDepth, () => store.search({ userId: "bench", embedding, k: 100 }));
      const lexical = await time(times.lexical, () => store.textSearch!({ userId: "bench", query, k: 100 }));
      await time(times.fuse, () => fuseRankings(dense, lexical, defaultHybridFusion, 10));
      await time(times.hybrid, () => fusedSearch({ vectorStore: store, userId: "bench", query, embedding, fusion: defaultHybridFusion, k: 10 }));
      const fused = fuseRankings(dense, lexical, copiedQuestionsFusion, neighbors.pool);
      await time(times.boost, async () => {
        const vectors = await store.getEmbeddings({ userId: "bench", ids: fused.map((h) => h.id) });
        return boostByNeighbors(fused, neighbors, (id) => vectors.get(id));
      });
    }
  }
  const [denseMs, denseDepthMs, lexicalMs, fuseMs, hybridMs, neighborBoostMs] = [times.dense, times.denseDepth, times.lexical, times.fuse, times.hybrid, times.boost].map(median) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  // The deeper dense leg's extra cost as the median of per-query differences: two scans of 60,000 rows vary by more
  // than their difference on a loaded machine, and pairing cancels the drift.
  const depthExtraMs = Math.max(0, median(times.denseDepth.map((t, i) => t - times.dense[i]!)));
  const addedMs = depthExtraMs + lexicalMs + fuseMs;
  // The selection alone, on each query's real scores over the same rows (100 repetitions of each depth, interleaved).
  const selectionExtras: number[] = [];
  const d = input.dims;
  const scores = new Float32Array(documents.length);
  for (let i = 0; i < Math.min(count, 20); i++) {
    const q = input.testSet.vectors[i]!;
    documents.forEach((doc, r) => {
      let s = 0;
      for (let j = 0; j < d; j++) s += q[j]! * doc.embedding[j]!;
      scores[r] = s;
    });
    const shallow: number[] = [];
    const deep: number[] = [];
    for (let rep = 0; rep < 100; rep++) {
      let t = performance.now();
      selectTop(scores, 10);
      shallow.push(performance.now() - t);
      t = performance.now();
      selectTop(scores, 100);
      deep.push(performance.now() - t);
    }
    selectionExtras.push(Math.max(0, median(deep) - median(shallow)));
  }
  const selectionExtraMs = median(selectionExtras);
  const addedIsolatedMs = selectionExtraMs + lexicalMs + fuseMs;
  input.log(
    `scale check (medians): dense k=10 ${denseMs.toFixed(2)} ms, dense k=100 ${denseDepthMs.toFixed(2)} ms, BM25 k=100 ${lexicalMs.toFixed(2)} ms, ` +
      `fusion ${fuseMs.toFixed(3)} ms, hybrid end to end ${hybridMs.toFixed(2)} ms: hybrid adds ${addedMs.toFixed(2)} ms (depth 100 +${depthExtraMs.toFixed(2)} ms paired); ` +
      `parts timed alone: selection of 100 instead of 10 +${selectionExtraMs.toFixed(3)} ms, so hybrid adds ${addedIsolatedMs.toFixed(2)} ms; ` +
      `the LLM-free path's neighbour boost ${neighborBoostMs.toFixed(2)} ms more`,
  );
  return {
    chunks: texts.length,
    dimensions: input.dims,
    queries: count,
    bm25IndexSeconds,
    denseMs,
    denseDepthMs,
    lexicalMs,
    fuseMs,
    hybridMs,
    depthExtraMs,
    addedMs,
    selectionExtraMs,
    addedIsolatedMs,
    neighborBoostMs,
  };
}
