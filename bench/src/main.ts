/**
 * pnpm bench <beir-dataset-dir> [--out <dir>] [--model-dir <dir>] [--seed N]
 *            [--modes train,pseudo,sdk] [--pseudo-per-doc N] [--pseudo-style sentences|mixed] [--max-pairs N]
 *            [--engine-options '{"memoryProbe":1}'] [--no-speed] [--no-scale] [--reference <file>]
 *
 * Embeds the corpus (cached on disk), measures dense, BM25 and hybrid search
 * on the test split, then trains deep memory three ways and measures it again,
 * dense-only and fused with BM25 as the trainer would search:
 *   (a) train   : the data set's own training queries (a dev split carved out of them);
 *   (b) pseudo  : LLM-free pseudo-queries from the corpus only, no human query seen;
 *   (c) sdk     : the SDK's own generate -> train path with the offline generator.
 * Prints a table and writes every figure to one JSON file.
 */
import { cpus, freemem, totalmem, platform, arch, release } from "node:os";
import { mkdir, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import {
  DeepMemoryTrainer,
  InMemoryTrainingStore,
  InMemoryVectorStore,
  LocalDeepMemory,
  PseudoQueryGenerator,
  type Fusion,
  type FusionScore,
  type MetricTable,
  type QueryTransform,
  type LocalDeepMemoryOptions,
  type TrainingReport,
} from "@zip/deep-memory";
import { deterministicSplit, stableUnit } from "@zip/deep-memory/evaluation";
import { describeFusion } from "@zip/deep-memory/retrieval";
import { retrievalReportSchema } from "@zip/deep-memory/schemas";
import { LocalEmbedder } from "@zip/deep-memory-local-embedder";
import { loadBeir } from "./beir.js";
import { engineSpeed, referenceSpeed, type EngineSpeed } from "./engine-speed.js";
import { loadReference, printRetrievalTable, type Row } from "./report.js";
import { defaultHybridFusion, denseOnly, latency, Legs, topK, trainWithFusion, type QuerySet } from "./retrieval-eval.js";
import { scaleLatency, type ScaleLatency } from "./scale-latency.js";
import { memoise, printSpeed, timeApply } from "./bench-helpers.js";
import { cachedEmbeddings } from "./vector-cache.js";
import { pseudoPairsFor } from "./pseudo-pairs.js";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    out: { type: "string", default: "results" },
    "model-dir": { type: "string" },
    "cache-dir": { type: "string", default: ".cache/bench" },
    seed: { type: "string", default: "42" },
    modes: { type: "string", default: "train,pseudo,sdk" },
    "pseudo-per-doc": { type: "string", default: "10" },
    "pseudo-style": { type: "string", default: "sentences" },
    "engine-options": { type: "string", default: "{}" },
    "max-pairs": { type: "string", default: "60000" },
    "dev-fraction": { type: "string", default: "0.2" },
    /** Measure on this split of the data set's own (e.g. "dev") instead of carving one from train: training uses every train query. */
    "dev-split": { type: "string" },
    "no-speed": { type: "boolean", default: false },
    /** Skips the 60,000-chunk hybrid latency check. */
    "no-scale": { type: "boolean", default: false },
    /** Python-measured alternatives for this data set; defaults to bench/reference/<name>.alternatives.json when present. */
    reference: { type: "string" },
    /** Train again on the validation questions too once they chose the fusion, up to this many questions (default: the trainer's). */
    "retrain-max-questions": { type: "string" },
  },
});

const datasetDir = positionals[0];
if (!datasetDir) {
  console.error("usage: pnpm bench <beir-dataset-dir> [--out <dir>] [--model-dir <dir>] [--modes train,pseudo,sdk]");
  process.exit(2);
}
const seed = Number(values.seed);
const modes = new Set(values.modes.split(",").map((m) => m.trim()));
const pseudoStyle = values["pseudo-style"] === "mixed" ? "mixed" : "sentences";
/** LocalDeepMemory options for every mode, e.g. '{"memoryProbe":1}'; the engine validates them. */
const engineOptions = JSON.parse(values["engine-options"]) as LocalDeepMemoryOptions;
const log = (message: string) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}`);

let peakRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 200);
sampler.unref();

interface ModeResult {
  trainPairs: number;
  trainQueries: number;
  trainingSeconds: number;
  engineEpochs: number;
  bestEpoch: number;
  /** The question memory kept with the model, if validation chose one. */
  questionMemory?: TrainingReport["questionMemory"];
  /** The fusion chosen on validation questions, and their scores (best first). */
  fusion: Fusion;
  validation?: { questions: number; scores: FusionScore[]; copied?: number };
  dev?: { withModel: MetricTable; withoutModel: MetricTable; dense?: MetricTable; hybrid?: MetricTable };
  test: {
    /** The configuration the trainer would enable: the model with the fusion chosen on validation. */
    withModel: MetricTable;
    /** Plain search as the trainer runs it without a model: hybrid with the default fusion. */
    withoutModel: MetricTable;
    /** The model on dense search alone (stores without keyword search). */
    dense: MetricTable;
    /** The model with the chosen fusion (= withModel). */
    hybrid: MetricTable;
    queries: number;
  };
  latencyMs: { dense: number; hybrid: number };
  notes: string;
}

async function main() {
  const t0 = performance.now();
  // This machine's speed now and at the end: timings compare across machines (or moments) only through it.
  const referenceAtStart = referenceSpeed();
  const data = await loadBeir(resolve(datasetDir!));
  log(`${data.name}: ${data.documents.length} documents, ${data.queries.size} queries, splits ${Object.keys(data.qrels).join("/")}`);

  const embedder = new LocalEmbedder({ ...(values["model-dir"] ? { modelDir: values["model-dir"] } : {}), allowRemoteModels: false });
  log(`embedder ${embedder.model} (${embedder.source.kind === "local" ? embedder.source.dir : "hub"})`);

  const corpusEmb = await cachedEmbeddings({
    cacheDir: values["cache-dir"],
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
  const devFraction = Number(values["dev-fraction"]);
  const testIds = [...data.qrels.test!.keys()].filter((id) => data.queries.has(id));
  const trainAll = [...(data.qrels.train?.keys() ?? [])].filter((id) => data.queries.has(id));
  const devSplit = values["dev-split"];
  if (devSplit && !data.qrels[devSplit]) throw new Error(`${data.name} has no qrels/${devSplit}.tsv`);
  const ownDev = devSplit ? [...data.qrels[devSplit]!.keys()].filter((id) => data.queries.has(id)) : [];
  const split = devSplit
    ? { train: trainAll, heldOut: ownDev }
    : devFraction > 0
      ? deterministicSplit(trainAll, (id) => id, devFraction, seed)
      : { train: trainAll, heldOut: [] as string[] };
  const devQrels = devSplit ? data.qrels[devSplit]! : data.qrels.train;
  const queryIds = [...new Set([...testIds, ...trainAll])];
  const queryEmb = await cachedEmbeddings({
    cacheDir: values["cache-dir"],
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
    const extra = await cachedEmbeddings({ cacheDir: values["cache-dir"], label: `${data.name}-${devSplit}-queries`, embedder, texts, kind: "query", salt: data.corpusHash });
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

  const docIndex = new Map(data.documents.map((d, i) => [d.id, i]));
  const corpusIds = data.documents.map((d) => d.id);
  const results: Record<string, ModeResult> = {};
  const applyTimes: { mode: string; microsPerQuery: number }[] = [];

  /** Trains as the trainer does on a store with keyword search: validation carved, fusion chosen on it. */
  const trainEngine = (questions: { text: string; vector: Float32Array; positives: number[] }[]) =>
    trainWithFusion({
      engine: new LocalDeepMemory(engineOptions),
      store: vectorStore,
      questions,
      corpus: corpusEmb.vectors,
      corpusIds,
      corpusTexts: data.documents.map((d) => d.text),
      seed,
      ...(values["retrain-max-questions"] ? { retrainMaxQuestions: Number(values["retrain-max-questions"]) } : {}),
    });

  const measureModel = async (transform: QueryTransform, fusion: Fusion) => {
    const dense = await testLegs.metrics(transform, denseOnly);
    const hybrid = await testLegs.metrics(transform, fusion);
    const latencyMs = {
      dense: await latency(vectorStore, testSet, { transform, fusion: denseOnly }),
      hybrid: await latency(vectorStore, testSet, { transform, fusion }),
    };
    return { dense, hybrid, latencyMs };
  };

  const finishMode = async (name: string, trained: Awaited<ReturnType<typeof trainEngine>>, trainPairs: number, notes: string) => {
    const { dense, hybrid, latencyMs } = await measureModel(trained.transform, trained.fusion);
    const dev =
      devLegs && baselineDev
        ? {
            withModel: await devLegs.metrics(trained.transform, trained.fusion),
            withoutModel: baselineDev,
            dense: await devLegs.metrics(trained.transform, denseOnly),
            hybrid: await devLegs.metrics(null, defaultHybridFusion),
          }
        : undefined;
    applyTimes.push({ mode: name, microsPerQuery: timeApply(trained.transform, [...queryVector.values()]) });
    const report = trained.model.report;
    results[name] = {
      trainPairs,
      trainQueries: report.trainQueries,
      trainingSeconds: trained.seconds,
      engineEpochs: report.epochs,
      bestEpoch: report.bestEpoch,
      questionMemory: report.questionMemory,
      fusion: trained.fusion,
      validation: {
        questions: trained.validationQuestions,
        scores: trained.validationScores,
        ...(trained.copiedValidationQuestions !== undefined ? { copied: trained.copiedValidationQuestions } : {}),
      },
      ...(dev ? { dev } : {}),
      test: { withModel: hybrid, withoutModel: hybridTest, dense, hybrid, queries: testIds.length },
      latencyMs,
      notes,
    };
    log(
      `${name}: test recall@10 dense ${fmt(baselineTest["recall@10"])} -> ${fmt(dense["recall@10"])}, hybrid ${fmt(hybridTest["recall@10"])} -> ${fmt(hybrid["recall@10"])}; ` +
        `nDCG@10 dense ${fmt(dense["ndcg@10"])}, hybrid ${fmt(hybrid["ndcg@10"])} (trained in ${trained.seconds.toFixed(2)} s${memoryNote(report)}; ${describeFusion(trained.fusion)})`,
    );
  };

  if (modes.has("train") && data.qrels.train) {
    const questions = split.train
      .map((id) => ({
        text: data.queries.get(id)!,
        vector: queryVector.get(id)!,
        positives: [...data.qrels.train!.get(id)!].map((d) => docIndex.get(d)).filter((i): i is number => i !== undefined),
      }))
      .filter((q) => q.positives.length > 0);
    const trained = await trainEngine(questions);
    const pairs = questions.reduce((sum, q) => sum + q.positives.length, 0);
    await finishMode("train", trained, pairs, `${questions.length} training queries (${trained.validationQuestions} of them held back to choose the fusion; ${split.heldOut.length} more held out as dev)`);
  }

  const pseudoPairs: { question: string; chunkId: string }[] = [];
  if (modes.has("pseudo") || modes.has("sdk")) {
    const made = await pseudoPairsFor(data, { style: pseudoStyle, perDoc: Number(values["pseudo-per-doc"]), maxPairs: Number(values["max-pairs"]), seed });
    pseudoPairs.push(...made.pairs);
    log(`pseudo-queries: ${pseudoPairs.length} from ${made.documents} documents (${made.model}; ${made.tooShort} too short to ask about)`);
  }

  const cachingEmbedder = memoise(embedder);
  let realPairsSpeed: { pairs: number; dimensions: number; corpus: number; trainSeconds: number; epochs: number } | null = null;
  if (modes.has("pseudo") && pseudoPairs.length) {
    const emb = await cachedEmbeddings({
      cacheDir: values["cache-dir"],
      label: `${data.name}-pseudo`,
      embedder,
      texts: pseudoPairs.map((p) => p.question),
      kind: "query",
      onProgress: (done, total) => done % 4096 < 256 && log(`embedding pseudo-queries ${done}/${total}`),
    });
    pseudoPairs.forEach((p, i) => cachingEmbedder.remember(p.question, emb.vectors[i]!));
    const trained = await trainEngine(pseudoPairs.map((p, i) => ({ text: p.question, vector: emb.vectors[i]!, positives: [docIndex.get(p.chunkId)!] })));
    await finishMode("pseudo", trained, pseudoPairs.length, "pseudo-queries from the corpus only; no human query seen");
    // The speed target's size on real vectors: 5,000 of these pairs (a seeded sample) over the whole corpus.
    const sample = pseudoPairs.map((p, i) => ({ p, i })).filter(({ p }) => stableUnit(`${p.chunkId}\0${p.question}`, seed) < 5000 / pseudoPairs.length).slice(0, 5000);
    const engine = new LocalDeepMemory(engineOptions);
    const s = performance.now();
    const speedModel = await engine.train({
      dimensions: corpusEmb.dims,
      queries: sample.map(({ i }) => emb.vectors[i]!),
      positives: sample.map(({ p }) => [docIndex.get(p.chunkId)!]),
      corpus: corpusEmb.vectors,
      seed,
    });
    realPairsSpeed = { pairs: sample.length, dimensions: corpusEmb.dims, corpus: data.documents.length, trainSeconds: (performance.now() - s) / 1000, epochs: speedModel.report.epochs };
    log(`real-data speed: ${sample.length} pairs at d=${corpusEmb.dims} trained in ${realPairsSpeed.trainSeconds.toFixed(2)} s (${realPairsSpeed.epochs} epochs)`);
  }

  if (modes.has("sdk") && pseudoPairs.length) {
    const perDoc = Number(values["pseudo-per-doc"]);
    const trainingStore = new InMemoryTrainingStore();
    const engine = new LocalDeepMemory(engineOptions);
    const trainer = new DeepMemoryTrainer({
      vectorStore,
      store: trainingStore,
      embedder: cachingEmbedder,
      generator: new PseudoQueryGenerator({ style: pseudoStyle }),
      engine,
      options: { questionsPerChunk: perDoc, maxPairs: Number(values["max-pairs"]), concurrency: 4, seed },
    });
    const s = performance.now();
    const userId = "bench";
    const gen = await trainer.generate({ userId });
    const genDone = await trainer.waitForJob({ userId, jobId: gen.jobId });
    if (genDone.type !== "completed") throw new Error(`SDK generate failed: ${JSON.stringify(genDone)}`);
    const genSeconds = (performance.now() - s) / 1000;
    const tr = await trainer.train({ userId, runId: gen.runId });
    const trDone = await trainer.waitForJob({ userId, jobId: tr.jobId });
    if (trDone.type !== "completed") throw new Error(`SDK train failed: ${JSON.stringify(trDone)}`);
    const totalSeconds = (performance.now() - s) / 1000;
    const detail = await trainer.getRun({ userId, runId: gen.runId });
    const metrics = detail.run.metrics!;
    await trainer.updateSettings({ userId, enabled: true }).catch(() => undefined);
    const testEval = await trainer.evaluate({
      userId,
      runId: gen.runId,
      queries: testIds.map((id) => data.queries.get(id)!),
      relevance: testIds.map((id) => [...data.qrels.test!.get(id)!].map((d) => [d, 1] as [string, number])),
      topK,
    });
    // The same model on the bench's own legs, dense-only and fused: evaluate() gives only the configuration it would enable.
    const stored = await trainingStore.getModel(userId, gen.runId);
    const transform = engine.load(stored!);
    const fusion = retrievalReportSchema.parse(metrics.retrieval).withModel;
    const { dense, hybrid, latencyMs } = await measureModel(transform, fusion);
    results.sdk = {
      trainPairs: detail.run.pairCount,
      trainQueries: metrics.trainPairs,
      trainingSeconds: metrics.training.wallMs / 1000,
      engineEpochs: metrics.training.epochs,
      bestEpoch: metrics.training.bestEpoch,
      questionMemory: metrics.training.questionMemory,
      fusion,
      validation: {
        questions: metrics.retrieval!.validationQuestions,
        scores: metrics.retrieval!.validation,
        ...(metrics.retrieval!.copiedValidationQuestions !== undefined ? { copied: metrics.retrieval!.copiedValidationQuestions } : {}),
      },
      dev: { withModel: metrics.heldOut.withModel, withoutModel: metrics.heldOut.withoutModel },
      test: { withModel: testEval.withModel, withoutModel: testEval.withoutModel, dense, hybrid, queries: testEval.queryCount },
      latencyMs,
      notes: `generate ${genSeconds.toFixed(1)} s + train ${(totalSeconds - genSeconds).toFixed(1)} s end to end; "dev" here is the trainer's own held-out pseudo-queries (judged on ${metrics.retrieval!.judgedOn}); verdict ${metrics.verdict}: ${metrics.reason}`,
    };
    log(`sdk: test recall@10 ${fmt(testEval.withoutModel["recall@10"])} -> ${fmt(testEval.withModel["recall@10"])} (${metrics.verdict}; ${describeFusion(fusion)}; dense-only ${fmt(dense["recall@10"])})`);
  }

  const scale: ScaleLatency | null = values["no-scale"] ? null : await scaleLatency({ data, testSet, dims: corpusEmb.dims, seed, log });
  const speed: EngineSpeed[] = values["no-speed"] ? [] : await engineSpeed({ seed, log });
  const referenceRows = await loadReference(values.reference, data, log);
  clearInterval(sampler);
  peakRss = Math.max(peakRss, process.memoryUsage().rss, process.resourceUsage().maxRSS * 1024);

  const report = {
    createdAt: new Date().toISOString(),
    dataset: {
      name: data.name,
      dir: data.dir,
      documents: data.documents.length,
      corpusSha256: data.corpusHash,
      queries: { test: testIds.length, train: split.train.length, dev: split.heldOut.length },
    },
    model: { embedder: embedder.model, dimensions: corpusEmb.dims, ...engineDescription() },
    seed,
    pseudoQueries: { style: pseudoStyle, perDocument: Number(values["pseudo-per-doc"]), maxPairs: Number(values["max-pairs"]) },
    machine: {
      cpu: cpus()[0]?.model ?? "unknown",
      cores: cpus().length,
      memoryGiB: +(totalmem() / 2 ** 30).toFixed(1),
      freeMemoryGiB: +(freemem() / 2 ** 30).toFixed(1),
      platform: `${platform()} ${release()} ${arch()}`,
      node: process.version,
      referenceDotMultiplyAddsPerNs: { atStart: referenceAtStart, atEnd: referenceSpeed() },
    },
    baseline: { test: baselineTest, ...(baselineDev ? { dev: baselineDev } : {}) },
    baselines: { bm25: { test: bm25Test }, hybrid: { test: hybridTest, fusion: defaultHybridFusion } },
    modes: results,
    reference: referenceRows ? { file: referenceRows.file, rows: referenceRows.rows } : null,
    timings: {
      corpusEmbeddingSeconds: corpusEmb.fromCache ? null : corpusEmb.seconds,
      bm25IndexSeconds,
      searchMillisPerQuery: plainLatency.dense,
      latencyMsPerQuery: plainLatency,
      scale,
      applyMicrosPerQuery: applyTimes,
      totalSeconds: (performance.now() - t0) / 1000,
      peakRssMiB: Math.round(peakRss / 2 ** 20),
    },
    engineSpeed: speed,
    realPairsSpeed,
  };

  const rows: Row[] = [
    { label: "dense (no deep memory)", metrics: baselineTest, trainingSeconds: null, latencyMs: plainLatency.dense },
    { label: "BM25", metrics: bm25Test, trainingSeconds: null, latencyMs: plainLatency.bm25 },
    { label: "hybrid, RRF k=60 (no deep memory)", metrics: hybridTest, trainingSeconds: null, latencyMs: plainLatency.hybrid },
  ];
  for (const [name, r] of Object.entries(results)) {
    rows.push({ label: `${name}: deep memory dense-only (store without text search; ${r.trainPairs} pairs)`, metrics: r.test.dense, trainingSeconds: r.trainingSeconds, latencyMs: r.latencyMs.dense });
    const copiedNote = r.validation?.copied !== undefined ? `; ${r.validation.copied} validation questions copied from their chunks: fusion fixed for them` : "";
    rows.push({ label: `${name}: deep memory + hybrid (${shortFusion(r.fusion)}${copiedNote})`, metrics: r.test.hybrid, trainingSeconds: r.trainingSeconds, latencyMs: r.latencyMs.hybrid });
  }
  for (const ref of referenceRows?.rows ?? []) rows.push({ label: `Python reference: ${ref.label}`, metrics: ref.test, trainingSeconds: ref.trainingSeconds ?? null, latencyMs: null });
  printRetrievalTable(`Test split, ${testIds.length} queries (${data.name})`, rows);
  if (scale) {
    console.log(
      `\nHybrid search at ${scale.chunks} chunks (d=${scale.dimensions}, random vectors, ${scale.queries} queries, k=10, medians): dense ${scale.denseMs.toFixed(2)} ms; ` +
        `hybrid adds ${scale.addedMs.toFixed(2)} ms (dense leg to depth 100 +${scale.depthExtraMs.toFixed(2)}, BM25 top 100 ${scale.lexicalMs.toFixed(2)}, fusion ${scale.fuseMs.toFixed(3)}); end to end ${scale.hybridMs.toFixed(2)} ms; ` +
        `with the depth's extra timed alone (+${scale.selectionExtraMs.toFixed(3)} ms) hybrid adds ${scale.addedIsolatedMs.toFixed(2)} ms`,
    );
  }
  if (speed.length) printSpeed(speed);
  if (realPairsSpeed) {
    console.log(`Real vectors: ${realPairsSpeed.pairs} ${data.name} pairs at d=${realPairsSpeed.dimensions} over ${realPairsSpeed.corpus} chunks trained in ${realPairsSpeed.trainSeconds.toFixed(2)} s (${realPairsSpeed.epochs} epochs)`);
  }
  console.log(`dense search ${plainLatency.dense.toFixed(2)} ms/query over ${data.documents.length} docs (BM25 index built in ${bm25IndexSeconds.toFixed(2)} s); peak RSS ${report.timings.peakRssMiB} MiB`);
  const reference = report.machine.referenceDotMultiplyAddsPerNs;
  console.log(`machine reference (JS dot loop, multiply-adds per ns): ${reference.atStart.join(", ")} at start, ${reference.atEnd.join(", ")} at end`);
  await mkdir(values.out, { recursive: true });
  const file = join(values.out, `bench-${data.name}-${report.createdAt.replace(/[:.]/g, "-")}.json`);
  await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`wrote ${file}`);
}

const fmt = (v: number | undefined) => (v === undefined ? "  -  " : v.toFixed(3));

function engineDescription(): { engine: string; engineOptions: LocalDeepMemory["options"] } {
  const engine = new LocalDeepMemory(engineOptions);
  return { engine: engine.name, engineOptions: engine.options };
}

function memoryNote(report: TrainingReport): string {
  const memory = report.questionMemory;
  return memory ? `; question memory of ${memory.keys} questions over ${memory.chunks} chunks, weight ${memory.weight}` : "; no question memory";
}

function shortFusion(fusion: Fusion): string {
  if (fusion.method === "dense") return "dense won on validation";
  const w = `${fusion.weights.dense}/${fusion.weights.lexical}`;
  return fusion.method === "rrf" ? `RRF k=${fusion.k} w=${w} top ${fusion.depth}` : `${fusion.normalization} w=${w} top ${fusion.depth}`;
}

main().catch((error) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
