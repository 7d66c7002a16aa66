/**
 * BM25's k1 and b (the in-memory store's keyword search; bm25s's 1.5 / 0.75 by
 * default) over a grid, measured on dev questions (every training question,
 * plus the set's own dev split; test printed for the record only): keyword
 * search alone, plain hybrid search (RRF k=60 and the z-score sum 1/1) and the
 * LLM-free model (the question memory of the sentence pseudo-queries) with
 * the z-score sum 1/1.
 *
 *   tsx --conditions=@zip/source bench/src/bm25-explore.ts <beir-dir> [--dev-fraction 1] [--seed 42]
 *
 * Results: docs/hybrid-search.md. Embeddings come from the bench's cache.
 */
import { parseArgs } from "node:util";
import { InMemoryVectorStore, type MetricTable } from "@zip/deep-memory";
import { defaultHybridFusion } from "@zip/deep-memory/retrieval";
import { zScore11 } from "./explore-fusion.js";
import { openExplore, pseudoQueryVectors, sentenceMemoryModel } from "./explore-data.js";
import { sharedFlags } from "./bench-options.js";
import { Legs } from "./retrieval-eval.js";

const { values, positionals } = parseArgs({ allowPositionals: true, options: { ...sharedFlags } });
const fmt = (t: MetricTable) => `${(t["recall@10"] ?? 0).toFixed(3)}/${(t["ndcg@10"] ?? 0).toFixed(3)}`;
const log = (m: string) => console.error(`[bm25 ${new Date().toISOString().slice(11, 19)}] ${m}`);

async function main() {
  const { data, embedder, cacheDir, explore, devIds, seed } = await openExplore(positionals[0]!, values);
  const { corpus, testIds, devQrels, querySet } = explore;
  const pseudo = await pseudoQueryVectors(data, embedder, cacheDir, { style: "sentences", perDoc: Number(values["pseudo-per-doc"]), maxPairs: Number(values["max-pairs"]), seed }, log);
  const { transform: t } = await sentenceMemoryModel(data, corpus, pseudo, seed);
  console.log(`\n${data.name}: recall@10/nDCG@10 (dev | test, test for the record only): BM25 alone, plain RRF k=60, plain z-score 1/1, model z-score 1/1`);
  for (const [k1, b] of [0.9, 1.2, 1.5, 2.0].flatMap((k1) => [0.4, 0.6, 0.75, 0.9].map((b) => [k1, b] as const))) {
    const store = new InMemoryVectorStore(data.documents.map((d, i) => ({ id: d.id, text: d.text, embedding: corpus.vectors[i]! })), { textSearch: { k1, b } });
    const cells: string[] = [];
    for (const [qids, qrels] of [[devIds, devQrels], [testIds, data.qrels.test!]] as const) {
      const legs = await Legs.open(store, querySet(qids, qrels));
      cells.push([fmt(legs.lexicalMetrics()), fmt(await legs.metrics(null, defaultHybridFusion)), fmt(await legs.metrics(null, zScore11)), fmt(await legs.metrics(t, zScore11))].join(" "));
    }
    console.log(`k1 ${k1} b ${b}`.padEnd(16) + cells.join(" | "));
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
