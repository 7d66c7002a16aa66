/**
 * Engine settings compared on dev splits (never on test) of a BEIR-layout
 * data set, dense-only: for each configuration, trains LocalDeepMemory on the
 * training questions minus a seeded dev share (several seeds) and reports
 * dev recall@10 / nDCG@10 (mean over seeds), and the test split's figures
 * beside them for the record (choose on dev).
 *
 *   tsx --conditions=@zip/source bench/src/engine-explore.ts <beir-dir> --configs '[{"name":"default"},{"name":"r384","rank":384}]'
 *       [--dev-seeds 42,43,44] [--dev-fraction 0.2] [--dev-split dev] [--full] [--out results]
 *
 * --dev-split names a split of the data set to use as dev instead (its own
 * dev qrels, e.g. BoolQ's). --full also trains on every training question
 * (the peers' setting: bench --dev-fraction 0), once per engine seed in
 * --full-seeds (default 42), and reports test (mean, and each seed's).
 * The "hybrid" columns fuse the transformed dense ranking with BM25 (RRF
 * k=60, top 100 each), as hybrid search without a chosen fusion does.
 * Embeddings come from the bench's cache (filled with the local embedder if missing).
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { LocalDeepMemory, type LocalDeepMemoryOptions, type MetricTable } from "@zip/deep-memory";
import { deterministicSplit, retrievalMetrics } from "@zip/deep-memory/evaluation";
import { Bm25Index, defaultHybridFusion, fuseRankings } from "@zip/deep-memory/retrieval";
import { LocalEmbedder } from "@zip/deep-memory-local-embedder";
import { loadBeir } from "./beir.js";
import { cachedEmbeddings } from "./vector-cache.js";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    configs: { type: "string", default: '[{"name":"default"}]' },
    "dev-seeds": { type: "string", default: "42,43,44" },
    "dev-fraction": { type: "string", default: "0.2" },
    "dev-split": { type: "string" },
    full: { type: "boolean", default: false },
    "full-seeds": { type: "string", default: "42" },
    "cache-dir": { type: "string", default: ".cache/bench" },
    "model-dir": { type: "string" },
    seed: { type: "string", default: "42" },
    out: { type: "string", default: "results" },
  },
});

type Config = LocalDeepMemoryOptions & { name: string };

async function main() {
  const data = await loadBeir(resolve(positionals[0]!));
  const embedder = new LocalEmbedder({ ...(values["model-dir"] ? { modelDir: values["model-dir"] } : {}), allowRemoteModels: false });
  const corpus = await cachedEmbeddings({ cacheDir: values["cache-dir"], label: `${data.name}-corpus`, embedder, texts: data.documents.map((d) => d.text), kind: "document", salt: data.corpusHash });
  const testIds = [...data.qrels.test!.keys()].filter((id) => data.queries.has(id));
  const trainAll = [...(data.qrels.train?.keys() ?? [])].filter((id) => data.queries.has(id));
  const devSplit = values["dev-split"];
  const devIds = devSplit ? [...data.qrels[devSplit]!.keys()].filter((id) => data.queries.has(id)) : [];
  const queryIds = [...new Set([...testIds, ...trainAll])];
  // The bench's cache key: test and train queries, in this order.
  const queryEmb = await cachedEmbeddings({ cacheDir: values["cache-dir"], label: `${data.name}-queries`, embedder, texts: queryIds.map((id) => data.queries.get(id)!), kind: "query", salt: data.corpusHash });
  const vector = new Map(queryIds.map((id, i) => [id, queryEmb.vectors[i]!]));
  if (devIds.some((id) => !vector.has(id))) {
    const missing = devIds.filter((id) => !vector.has(id));
    const extra = await cachedEmbeddings({ cacheDir: values["cache-dir"], label: `${data.name}-${devSplit}-queries`, embedder, texts: missing.map((id) => data.queries.get(id)!), kind: "query", salt: data.corpusHash });
    missing.forEach((id, i) => vector.set(id, extra.vectors[i]!));
  }
  const d = corpus.dims;
  const n = data.documents.length;
  const matrix = new Float32Array(n * d);
  corpus.vectors.forEach((v, i) => matrix.set(v, i * d));
  const docIndex = new Map(data.documents.map((doc, i) => [doc.id, i]));
  const bm25 = new Bm25Index();
  bm25.upsert(data.documents.map((doc) => ({ id: doc.id, text: doc.text })));
  const lexicalCache = new Map<string, { id: string; score: number }[]>();
  const lexical = (id: string) => {
    if (!lexicalCache.has(id)) lexicalCache.set(id, bm25.search(data.queries.get(id)!, 100));
    return lexicalCache.get(id)!;
  };
  const searchScored = (q: Float32Array): { id: string; score: number }[] => {
    const scores = new Float32Array(n);
    for (let r = 0; r < n; r++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += q[k]! * matrix[r * d + k]!;
      scores[r] = s;
    }
    return Array.from(scores.keys()).sort((a, b) => scores[b]! - scores[a]! || a - b).slice(0, 100).map((r) => ({ id: data.documents[r]!.id, score: scores[r]! }));
  };
  const hybridEvaluate = (ids: string[], qrels: Map<string, Set<string>>, apply: (q: Float32Array) => Float32Array): MetricTable =>
    retrievalMetrics(
      ids.map((id) => fuseRankings(searchScored(apply(vector.get(id)!)), lexical(id), defaultHybridFusion, 100).map((h) => h.id)),
      ids.map((id) => qrels.get(id)!),
      [1, 10, 100],
    ).metrics;
  const search = (q: Float32Array): string[] => {
    const scores = new Float32Array(n);
    for (let r = 0; r < n; r++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += q[k]! * matrix[r * d + k]!;
      scores[r] = s;
    }
    return Array.from(scores.keys()).sort((a, b) => scores[b]! - scores[a]! || a - b).slice(0, 100).map((r) => data.documents[r]!.id);
  };
  const evaluate = (ids: string[], qrels: Map<string, Set<string>>, apply: (q: Float32Array) => Float32Array): MetricTable =>
    retrievalMetrics(ids.map((id) => search(apply(vector.get(id)!))), ids.map((id) => qrels.get(id)!), [1, 10, 100]).metrics;
  const positivesOf = (id: string) => [...data.qrels.train!.get(id)!].map((doc) => docIndex.get(doc)).filter((i): i is number => i !== undefined);

  const configs = JSON.parse(values.configs) as Config[];
  const seeds = devSplit ? [Number(values.seed)] : values["dev-seeds"].split(",").map(Number);
  const fmt = (v: number | undefined) => (v ?? 0).toFixed(4);
  const rows: unknown[] = [];
  const identity = (q: Float32Array) => q;
  const baselineTest = evaluate(testIds, data.qrels.test!, identity);
  console.log(`${data.name}: ${n} documents, ${trainAll.length} train / ${testIds.length} test questions; dev ${devSplit ? `split "${devSplit}" (${devIds.length})` : `${values["dev-fraction"]} of train, seeds ${seeds.join(",")}`}`);
  console.log(`plain dense: test recall@10 ${fmt(baselineTest["recall@10"])} nDCG@10 ${fmt(baselineTest["ndcg@10"])}`);
  const baselineDev: MetricTable[] = [];
  const splits = seeds.map((seed) => {
    if (devSplit) return { train: trainAll, heldOut: devIds, qrels: data.qrels[devSplit]! };
    const s = deterministicSplit(trainAll, (id) => id, Number(values["dev-fraction"]), seed);
    return { ...s, qrels: data.qrels.train! };
  });
  for (const split of splits) baselineDev.push(evaluate(split.heldOut, split.qrels, identity));
  const mean = (tables: MetricTable[], key: string) => tables.reduce((s, t) => s + (t[key] ?? 0), 0) / tables.length;
  console.log(`plain dense: dev recall@10 ${fmt(mean(baselineDev, "recall@10"))} nDCG@10 ${fmt(mean(baselineDev, "ndcg@10"))}`);
  const baselineDevHybrid = splits.map((split) => hybridEvaluate(split.heldOut, split.qrels, identity));
  console.log(`hybrid (RRF k=60, no deep memory): dev recall@10 ${fmt(mean(baselineDevHybrid, "recall@10"))} nDCG@10 ${fmt(mean(baselineDevHybrid, "ndcg@10"))}`);
  console.log("config | dev recall@10 | dev nDCG@10 | dev hybrid r@10 / nDCG | test recall@10 | test nDCG@10 | train s | per seed: epochs (best) memory weight | full: test recall@10 / nDCG@10 | full hybrid");
  for (const config of configs) {
    const { name, ...options } = config;
    const dev: MetricTable[] = [];
    const devHybrid: MetricTable[] = [];
    const test: MetricTable[] = [];
    const seconds: number[] = [];
    const notes: string[] = [];
    for (const [i, split] of splits.entries()) {
      const ids = split.train.filter((id) => positivesOf(id).length > 0);
      const engine = new LocalDeepMemory(options);
      const s = performance.now();
      const model = await engine.train({
        dimensions: d,
        queries: ids.map((id) => vector.get(id)!),
        positives: ids.map(positivesOf),
        corpus: corpus.vectors,
        seed: Number(values.seed) + i,
        ...(process.env.EXPLORE_PROGRESS ? { onProgress: (p: object) => console.log(`  ${name} seed ${i}: ${JSON.stringify(p)}`) } : {}),
      });
      seconds.push((performance.now() - s) / 1000);
      const transform = engine.load(model);
      const apply = (q: Float32Array) => transform.apply(q);
      dev.push(evaluate(split.heldOut, split.qrels, apply));
      devHybrid.push(hybridEvaluate(split.heldOut, split.qrels, apply));
      test.push(evaluate(testIds, data.qrels.test!, apply));
      // LocalDeepMemory's transform keeps its memory's parameters; the gate is not in the report.
      const gate = (transform as { memory?: { parameters: { threshold: number } } | null }).memory?.parameters.threshold;
      const memoryNote = model.report.questionMemory ? `w${model.report.questionMemory.weight}${gate !== undefined && gate > -Infinity ? `@${gate.toFixed(2)}` : ""}` : "no-memory";
      notes.push(`${model.report.epochs}(${model.report.bestEpoch}) ${memoryNote}`);
    }
    let full: MetricTable | null = null;
    const fullRuns: MetricTable[] = [];
    const fullHybrid: MetricTable[] = [];
    if (values.full) {
      const ids = trainAll.filter((id) => positivesOf(id).length > 0);
      for (const seed of values["full-seeds"].split(",").map(Number)) {
        const engine = new LocalDeepMemory(options);
        const model = await engine.train({
          dimensions: d,
          queries: ids.map((id) => vector.get(id)!),
          positives: ids.map(positivesOf),
            corpus: corpus.vectors,
          seed,
        });
        const transform = engine.load(model);
        fullRuns.push(evaluate(testIds, data.qrels.test!, (q) => transform.apply(q)));
        fullHybrid.push(hybridEvaluate(testIds, data.qrels.test!, (q) => transform.apply(q)));
      }
      full = { "recall@10": mean(fullRuns, "recall@10"), "ndcg@10": mean(fullRuns, "ndcg@10") };
    }
    const row = {
      name,
      options,
      dev: { recallAt10: mean(dev, "recall@10"), ndcgAt10: mean(dev, "ndcg@10"), perSeed: dev.map((t) => [t["recall@10"], t["ndcg@10"]]) },
      devHybrid: { recallAt10: mean(devHybrid, "recall@10"), ndcgAt10: mean(devHybrid, "ndcg@10") },
      fullHybrid: fullHybrid.length ? { recallAt10: mean(fullHybrid, "recall@10"), ndcgAt10: mean(fullHybrid, "ndcg@10") } : null,
      test: { recallAt10: mean(test, "recall@10"), ndcgAt10: mean(test, "ndcg@10") },
      full: full ? { recallAt10: full["recall@10"], ndcgAt10: full["ndcg@10"], perSeed: fullRuns.map((t) => [t["recall@10"], t["ndcg@10"]]) } : null,
      trainSeconds: seconds,
      notes,
    };
    rows.push(row);
    console.log(
      `${name} | ${fmt(row.dev.recallAt10)} | ${fmt(row.dev.ndcgAt10)} | ${fmt(row.devHybrid.recallAt10)} / ${fmt(row.devHybrid.ndcgAt10)} | ${fmt(row.test.recallAt10)} | ${fmt(row.test.ndcgAt10)} | ${(seconds.reduce((a, b) => a + b, 0) / seconds.length).toFixed(2)} | ${notes.join(", ")} | ${full ? `${fmt(full["recall@10"])} / ${fmt(full["ndcg@10"])}${fullRuns.length > 1 ? ` (${fullRuns.map((t) => `${fmt(t["recall@10"])}/${fmt(t["ndcg@10"])}`).join(", ")})` : ""}` : "-"} | ${row.fullHybrid ? `${fmt(row.fullHybrid.recallAt10)} / ${fmt(row.fullHybrid.ndcgAt10)}` : "-"}`,
    );
  }
  await mkdir(values.out, { recursive: true });
  const file = join(values.out, `engine-explore-${data.name}-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
  await writeFile(file, `${JSON.stringify({ dataset: data.name, seeds, devSplit: devSplit ?? null, devFraction: Number(values["dev-fraction"]), baselineTest, rows }, null, 2)}\n`);
  console.log(`wrote ${file}`);
}

main().catch((error) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
