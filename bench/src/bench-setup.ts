import { resolve } from "node:path";
import { InMemoryVectorStore, type MetricTable } from "@zip/deep-memory";
import { deterministicSplit } from "@zip/deep-memory/evaluation";
import { LocalEmbedder } from "@zip/deep-memory-local-embedder";
import { loadBeir, type BeirDataset } from "./beir.js";
import { fmt, log, type BenchOptions } from "./bench-options.js";
import { defaultHybridFusion, denseOnly, latency, Legs, type QuerySet } from "./retrieval-eval.js";
import { cachedEmbeddings } from "./vector-cache.js";

/** The data set embedded and indexed, its query sets, and the figures without deep memory that every mode compares with. */
export interface BenchSetup {
  options: BenchOptions;
  data: BeirDataset;
  embedder: LocalEmbedder;
  corpusEmb: Awaited<ReturnType<typeof cachedEmbeddings>>;
  vectorStore: InMemoryVectorStore;
  bm25IndexSeconds: number;
  testIds: string[];
  split: { train: string[]; heldOut: string[] };
  queryVector: Map<string, Float32Array>;
  testSet: QuerySet;
  testLegs: Legs;
  devLegs: Legs | null;
  baselineTest: MetricTable;
  bm25Test: MetricTable;
  hybridTest: MetricTable;
  baselineDev: MetricTable | null;
  plainLatency: { dense: number; bm25: number; hybrid: number };
  docIndex: Map<string, number>;
  corpusIds: string[];
}

export async function prepareBench(options: BenchOptions): Promise<BenchSetup> {
  const data = await loadBeir(resolve(options.datasetDir));
  log(`${data.name}: ${data.documents.length} documents, ${data.queries.size} queries, splits ${Object.keys(data.qrels).join("/")}`);

  const embedder = new LocalEmbedder({ ...(options.modelDir ? { modelDir: options.modelDir } : {}), allowRemoteModels: false });
  log(`embedder ${embedder.model} (${embedder.source.kind === "local" ? embedder.source.dir : "hub"})`);

  const corpusEmb = await cachedEmbeddings({
    cacheDir: options.cacheDir,
    label: `${data.name}-corpus`,
    embedder,
    texts: data.documents.map((d) => d.text),
    kind: "document",
    salt: data.corpusHash,
    onProgress: (done, total) => done % 2048 < 256 && log(`embedding corpus ${done}/${total}`),
  });
  log(`corpus embedded in ${corpusEmb.seconds.toFixed(1)} s${corpusEmb.fromCache ? " (from cache)" : ""}, d=${corpusEmb.dims}`);
  const vectorStore = new InMemoryVectorStore(data.documents.map((d, i) => ({ id: d.id, text: d.text, embedding: corpusEmb.vectors[i]! })));

  // Keyword search over the same chunks (BM25), built here so its cost is reported apart from searching.
  const indexStart = performance.now();
  await vectorStore.textSearch!({ userId: "bench", query: "warm", k: 1 });
  const bm25IndexSeconds = (performance.now() - indexStart) / 1000;
  log(`BM25 index over ${data.documents.length} documents built in ${bm25IndexSeconds.toFixed(2)} s`);

  // Test and dev query sets. The dev split is carved out of train queries (by id, seeded) for tuning and reporting;
  // --dev-fraction 0 trains on every train query (the trainer-style validation split is still carved for the fusion).
  const devFraction = options.devFraction;
  const testIds = [...data.qrels.test!.keys()].filter((id) => data.queries.has(id));
  const trainAll = [...(data.qrels.train?.keys() ?? [])].filter((id) => data.queries.has(id));
  const devSplit = options.devSplit;
  if (devSplit && !data.qrels[devSplit]) throw new Error(`${data.name} has no qrels/${devSplit}.tsv`);
  const ownDev = devSplit ? [...data.qrels[devSplit]!.keys()].filter((id) => data.queries.has(id)) : [];
  const split = devSplit
    ? { train: trainAll, heldOut: ownDev }
    : devFraction > 0
      ? deterministicSplit(trainAll, (id) => id, devFraction, options.seed)
      : { train: trainAll, heldOut: [] as string[] };
  const devQrels = devSplit ? data.qrels[devSplit]! : data.qrels.train;
  const queryIds = [...new Set([...testIds, ...trainAll])];
  const queryEmb = await cachedEmbeddings({
    cacheDir: options.cacheDir,
    label: `${data.name}-queries`,
    embedder,
    texts: queryIds.map((id) => data.queries.get(id)!),
    kind: "query",
    salt: data.corpusHash,
  });
  const queryVector = new Map(queryIds.map((id, i) => [id, queryEmb.vectors[i]!]));
  const missingDev = ownDev.filter((id) => !queryVector.has(id));
  if (missingDev.length) {
    const texts = missingDev.map((id) => data.queries.get(id)!);
    const extra = await cachedEmbeddings({ cacheDir: options.cacheDir, label: `${data.name}-${devSplit}-queries`, embedder, texts, kind: "query", salt: data.corpusHash });
    missingDev.forEach((id, i) => queryVector.set(id, extra.vectors[i]!));
  }
  const querySet = (ids: string[], qrels: Map<string, Set<string>>): QuerySet => ({
    texts: ids.map((id) => data.queries.get(id)!),
    vectors: ids.map((id) => queryVector.get(id)!),
    relevant: ids.map((id) => qrels.get(id)!),
  });
  const testSet = querySet(testIds, data.qrels.test!);
  const testLegs = await Legs.open(vectorStore, testSet);
  const devLegs = split.heldOut.length ? await Legs.open(vectorStore, querySet(split.heldOut, devQrels!)) : null;

  const baselineTest = await testLegs.metrics(null, denseOnly);
  const bm25Test = testLegs.lexicalMetrics();
  const hybridTest = await testLegs.metrics(null, defaultHybridFusion);
  const baselineDev = devLegs ? await devLegs.metrics(null, denseOnly) : null;
  const plainLatency = {
    dense: await latency(vectorStore, testSet, { transform: null, fusion: denseOnly }),
    bm25: await latency(vectorStore, testSet, "lexical"),
    hybrid: await latency(vectorStore, testSet, { transform: null, fusion: defaultHybridFusion }),
  };
  log(`test recall@10 / nDCG@10: dense ${fmt(baselineTest["recall@10"])} / ${fmt(baselineTest["ndcg@10"])}, BM25 ${fmt(bm25Test["recall@10"])} / ${fmt(bm25Test["ndcg@10"])}, hybrid ${fmt(hybridTest["recall@10"])} / ${fmt(hybridTest["ndcg@10"])}`);

  return {
    options,
    data,
    embedder,
    corpusEmb,
    vectorStore,
    bm25IndexSeconds,
    testIds,
    split,
    queryVector,
    testSet,
    testLegs,
    devLegs,
    baselineTest,
    bm25Test,
    hybridTest,
    baselineDev,
    plainLatency,
    docIndex: new Map(data.documents.map((d, i) => [d.id, i])),
    corpusIds: data.documents.map((d) => d.id),
  };
}
