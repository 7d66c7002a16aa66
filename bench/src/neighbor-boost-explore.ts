/**
 * The neighbour boost (`Fusion.neighbors`), measured on dev questions (every
 * training question, which the LLM-free path never sees, plus the set's own
 * dev split; test printed for the record only): each of the fused top `pool`
 * chunks gains `weight` x the cosine-weighted mean score of its `count` most
 * similar chunks in the pool (pools 30, 50 and 100 by default). For plain search and the LLM-free model (the
 * question memory learned from sentence pseudo-queries, as the trainer makes
 * it), on the z-score sum 1/1 and on RRF k=60. With --trained, the model is
 * trained on 80% of the real training questions and the other 20% are dev.
 *
 *   tsx --conditions=@zip/source bench/src/neighbor-boost-explore.ts <beir-dir> [--dev-fraction 1] [--seed 42] [--trained]
 *       [--pools 30,50,100]
 *
 * Results and the setting chosen: docs/hybrid-search.md. Embeddings come from the bench's cache.
 */
import { parseArgs } from "node:util";
import { LocalDeepMemory, type MetricTable, type QueryTransform } from "@zip/deep-memory";
import { deterministicSplit, retrievalMetrics } from "@zip/deep-memory/evaluation";
import { boostByNeighbors, defaultHybridFusion, fuseRankings, type Neighbors } from "@zip/deep-memory/retrieval";
import { zScore11 } from "./explore-fusion.js";
import { sharedFlags } from "./bench-options.js";
import { openExplore, pseudoQueryVectors, sentenceMemoryModel } from "./explore-data.js";
import { Legs, legDepth, topK } from "./retrieval-eval.js";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { ...sharedFlags, trained: { type: "boolean", default: false }, pools: { type: "string", default: "30,50,100" } },
});
const log = (m: string) => console.error(`[neighbor-boost ${new Date().toISOString().slice(11, 19)}] ${m}`);
const fmt = (t: MetricTable) => `${(t["recall@10"] ?? 0).toFixed(3)} / ${(t["ndcg@10"] ?? 0).toFixed(3)} / r5 ${(t["recall@5"] ?? 0).toFixed(3)}`;

async function main() {
  const { data, embedder, cacheDir, seed, explore, devIds: allDev } = await openExplore(positionals[0]!, values);
  const { store, corpus, testIds, devQrels, querySet } = explore;
  const row = new Map(data.documents.map((d, i) => [d.id, i]));
  const vectorOf = (id: string) => corpus.vectors[row.get(id) ?? -1];
  const models: [string, QueryTransform | null][] = [["plain", null]];
  let devIds = allDev;
  if (values.trained) {
    const split = deterministicSplit(explore.trainAll, (id) => id, 0.2, seed);
    devIds = split.heldOut;
    const ids = split.train.filter((id) => [...data.qrels.train!.get(id)!].some((d) => row.has(d)));
    const engine = new LocalDeepMemory();
    const model = await engine.train({
      dimensions: corpus.dims,
      queries: querySet(ids, data.qrels.train!).vectors,
      positives: ids.map((id) => [...data.qrels.train!.get(id)!].flatMap((d) => (row.has(d) ? [row.get(d)!] : []))),
      corpus: corpus.vectors,
      seed,
    });
    models.push(["trained", engine.load(model)]);
  } else {
    const pseudo = await pseudoQueryVectors(data, embedder, cacheDir, { style: "sentences", perDoc: Number(values["pseudo-per-doc"]), maxPairs: Number(values["max-pairs"]), seed }, log);
    models.push(["LLM-free", (await sentenceMemoryModel(data, corpus, pseudo, seed)).transform]);
  }
  const sets = [];
  for (const [ids, qrels] of [[devIds, devQrels], [testIds, data.qrels.test!]] as const) {
    const queries = querySet(ids, qrels);
    sets.push({ queries, legs: await Legs.open(store, queries) });
  }
  console.log(`\n${data.name}${values.trained ? " (trained)" : ""}: ${devIds.length} dev, ${testIds.length} test; recall@10 / nDCG@10 / recall@5 (dev | test)`);
  for (const [who, transform] of models) {
    for (const [name, base] of [["z-score 1/1", zScore11], ["RRF k=60", defaultHybridFusion]] as const) {
      const boosts: [string, Neighbors | null][] = [["no boost", null]];
      for (const pool of values.pools.split(",").map(Number)) for (const count of [2, 3, 5]) for (const weight of [0.25, 0.5, 0.75]) boosts.push([`pool ${pool}, count ${count}, weight ${weight}`, { count, weight, pool }]);
      for (const [label, neighbors] of boosts) {
        const cells: string[] = [];
        for (const { queries, legs } of sets) {
          const dense = await legs.denseFor(transform);
          // The SDK's boost over the fused top 100 (RRF's fused scores are boosted as a weighted fusion's would be).
          const ranked = dense.map((d, i) => {
            const fused = fuseRankings(d, legs.lexical[i]!, base, legDepth);
            return (neighbors ? boostByNeighbors(fused, neighbors, vectorOf) : fused).map((h) => h.id);
          });
          cells.push(fmt(retrievalMetrics(ranked, queries.relevant, topK).metrics));
        }
        console.log(`${`${who}, ${name}, ${label}`.padEnd(52)} | ${cells.join(" | ")}`);
      }
    }
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
