/**
 * Two changes to how the legs are fused, measured on dev questions (every
 * training question, which the LLM-free path never sees, plus the set's own
 * dev split; test printed for the record only), for plain search and for the
 * LLM-free model (the question memory learned from the sentence pseudo-queries,
 * as the trainer does for copied questions):
 *
 * - reserve m: each leg's top m chunks are kept in the fused top k (10), in place
 *   of the lowest fused chunks that are in neither leg's top m;
 * - complete scores: each candidate of either leg is scored in both legs (its
 *   own cosine, its BM25 score from a keyword search 3,000 deep, 0 where it
 *   matched no query word), not given a missing leg's floor; z-scores use each
 *   leg's top-100 statistics, as the SDK's weighted fusion.
 *
 *   tsx --conditions=@zip/source bench/src/fusion-variants-explore.ts <beir-dir> [--dev-fraction 1] [--seed 42] [--k 10]
 *
 * Results and the decision: docs/hybrid-search.md. Embeddings come from the bench's cache.
 */
import { parseArgs } from "node:util";
import type { MetricTable, QueryTransform, SearchHit } from "@zip/deep-memory";
import { dot, normalize, retrievalMetrics } from "@zip/deep-memory/evaluation";
import { defaultHybridFusion, fusedRanking } from "@zip/deep-memory/retrieval";
import { zScore11 } from "./explore-fusion.js";
import { sharedFlags } from "./bench-options.js";
import { openExplore, pseudoQueryVectors, sentenceMemoryModel } from "./explore-data.js";
import { Legs, legDepth, topK, type QuerySet } from "./retrieval-eval.js";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    ...sharedFlags,
    /** The top k each leg's top m is reserved in (5: a chat's few chunks), and the recall@k printed. */
    k: { type: "string", default: "10" },
  },
});
const log = (m: string) => console.error(`[fusion-variants ${new Date().toISOString().slice(11, 19)}] ${m}`);
const k = Number(values.k);
const fmt = (t: MetricTable) => `${(t[`recall@${k}`] ?? 0).toFixed(3)} / ${(t["ndcg@10"] ?? 0).toFixed(3)}`;
/** How deep the keyword leg is read for complete scores: past that a chunk's BM25 score is taken as 0. */
const completeDepth = 3000;

/** `fused` with each leg's top `m` moved into the top k, in place of the lowest chunks in neither leg's top m. */
function reserveTop(fused: string[], dense: readonly SearchHit[], lexical: readonly SearchHit[], m: number): string[] {
  const reserved = new Set([...dense.slice(0, m), ...lexical.slice(0, m)].map((h) => h.id));
  const missing = [...fused.slice(k).filter((id) => reserved.has(id)), ...[...reserved].filter((id) => !fused.includes(id))];
  if (!missing.length) return fused;
  const head = fused.slice(0, k);
  let drop = missing.length;
  for (let i = head.length - 1; i >= 0 && drop > 0; i--) {
    if (reserved.has(head[i]!)) continue;
    head.splice(i, 1);
    drop--;
  }
  const top = [...head, ...missing].slice(0, k);
  const inTop = new Set(top);
  return [...top, ...fused.filter((id) => !inTop.has(id))];
}

function meanSd(xs: number[]): { mean: number; sd: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  return { mean, sd: Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / xs.length) || 1 };
}

async function main() {
  const { data, embedder, cacheDir, seed, explore, devIds } = await openExplore(positionals[0]!, values);
  const { store, corpus, testIds, devQrels, querySet } = explore;
  const pseudo = await pseudoQueryVectors(data, embedder, cacheDir, { style: "sentences", perDoc: Number(values["pseudo-per-doc"]), maxPairs: Number(values["max-pairs"]), seed }, log);
  const { transform } = await sentenceMemoryModel(data, corpus, pseudo, seed);
  const row = new Map(data.documents.map((d, i) => [d.id, i]));

  const sets: { queries: QuerySet; legs: Legs; bm25: Map<string, number>[] }[] = [];
  for (const [ids, qrels] of [[devIds, devQrels], [testIds, data.qrels.test!]] as const) {
    const queries = querySet(ids, qrels);
    const bm25: Map<string, number>[] = [];
    for (const text of queries.texts) bm25.push(new Map((await store.textSearch!({ userId: "bench", query: text, k: completeDepth })).map((h) => [h.id, h.score])));
    sets.push({ queries, legs: await Legs.open(store, queries), bm25 });
  }

  console.log(`\n${data.name}: ${devIds.length} dev questions, ${testIds.length} test; recall@${k} / nDCG@10 (dev | test, test for the record only)`);
  for (const [who, t] of [["plain", null], ["model", transform]] as [string, QueryTransform | null][]) {
    const rows = new Map<string, string[]>();
    for (const { queries, legs, bm25 } of sets) {
      const dense = await legs.denseFor(t);
      const add = (name: string, lists: string[][]) => rows.set(name, [...(rows.get(name) ?? []), fmt(retrievalMetrics(lists, queries.relevant, topK).metrics)]);
      for (const [name, fusion] of [["RRF k=60", defaultHybridFusion], ["z-score 1/1", zScore11]] as const)
        for (const m of [0, 1, 2, 3]) add(`${name}, reserve ${m}`, dense.map((d, i) => reserveTop(fusedRanking(d, legs.lexical[i]!, fusion, legDepth), d, legs.lexical[i]!, m)));
      for (const lexicalWeight of [0.75, 1, 1.25]) {
        add(`complete scores, z-score 1/${lexicalWeight}`, dense.map((d, i) => {
          const q = normalize(Float32Array.from(t ? t.apply(queries.vectors[i]!) : queries.vectors[i]!));
          const lexical = legs.lexical[i]!;
          const ds = meanSd(d.map((h) => h.score));
          // As the SDK's anchor: a keyword leg shorter than its depth counts a raw 0 among its statistics.
          const ls = meanSd([...lexical.map((h) => h.score), ...(lexical.length < legDepth ? [0] : [])]);
          const scored = [...new Set([...d, ...lexical].map((h) => h.id))].map((id) => ({
            id,
            score: (dot(q, corpus.vectors[row.get(id)!]!) - ds.mean) / ds.sd + (lexicalWeight * ((bm25[i]!.get(id) ?? 0) - ls.mean)) / ls.sd,
          }));
          return scored.sort((a, b) => b.score - a.score).map((s) => s.id);
        }));
      }
    }
    for (const [name, cells] of rows) console.log(`${`${who}, ${name}`.padEnd(44)} | ${cells.join(" | ")}`);
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
