/**
 * pnpm bench <beir-dataset-dir> [--out <dir>] [--model-dir <dir>] [--seed N]
 *            [--modes train,pseudo,sdk] [--pseudo-per-doc N] [--pseudo-style sentences|mixed] [--max-pairs N]
 *            [--engine-options '{"memoryProbe":1}'] [--no-speed]
 *
 * Embeds the corpus (cached on disk), measures plain search on the test split,
 * then trains deep memory three ways and measures it again:
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
  GenerationOutputError,
  InMemoryTrainingStore,
  InMemoryVectorStore,
  LocalDeepMemory,
  PseudoQueryGenerator,
  deterministicSplit,
  stableUnit,
  retrievalMetrics,
  type EngineModel,
  type Embedder,
  type MetricTable,
  type QueryTransform,
  type LocalDeepMemoryOptions,
  type TrainingReport,
} from "@zip/deep-memory";
import { LocalEmbedder } from "@zip/deep-memory-local-embedder";
import { loadBeir, type BeirDataset } from "./beir.js";
import { engineSpeed, referenceSpeed, type EngineSpeed } from "./engine-speed.js";
import { cachedEmbeddings } from "./vector-cache.js";

const topK = [1, 3, 5, 10, 50, 100];

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
    "no-speed": { type: "boolean", default: false },
  },
});

const datasetDir = positionals[0];
if (!datasetDir) {
  console.error("usage: pnpm bench <beir-dataset-dir> [--out <dir>] [--model-dir <dir>] [--modes train,pseudo,sdk]");
  process.exit(2);
}
const seed = Number(values.seed);
const modes = new Set(values.modes!.split(",").map((m) => m.trim()));
const pseudoStyle = values["pseudo-style"] === "mixed" ? "mixed" : "sentences";
/** LocalDeepMemory options for every mode, e.g. '{"memoryProbe":1}'; the engine validates them. */
const engineOptions = JSON.parse(values["engine-options"]!) as LocalDeepMemoryOptions;
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
  dev?: { withModel: MetricTable; withoutModel: MetricTable };
  test: { withModel: MetricTable; withoutModel: MetricTable; queries: number };
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
    cacheDir: values["cache-dir"]!,
    label: `${data.name}-corpus`,
    embedder,
    texts: data.documents.map((d) => d.text),
    kind: "document",
    salt: data.corpusHash,
    onProgress: (done, total) => done % 2048 < 256 && log(`embedding corpus ${done}/${total}`),
  });
  log(`corpus embedded in ${corpusEmb.seconds.toFixed(1)} s${corpusEmb.fromCache ? " (from cache)" : ""}, d=${corpusEmb.dims}`);
  const vectorStore = new InMemoryVectorStore(data.documents.map((d, i) => ({ id: d.id, text: d.text, embedding: corpusEmb.vectors[i]! })));

  // Test and dev query sets. The dev split is carved out of train queries (by id, seeded) for tuning and reporting.
  const testIds = [...data.qrels.test!.keys()].filter((id) => data.queries.has(id));
  const trainAll = [...(data.qrels.train?.keys() ?? [])].filter((id) => data.queries.has(id));
  const split = deterministicSplit(trainAll, (id) => id, Number(values["dev-fraction"]), seed);
  const queryIds = [...new Set([...testIds, ...trainAll])];
  const queryEmb = await cachedEmbeddings({
    cacheDir: values["cache-dir"]!,
    label: `${data.name}-queries`,
    embedder,
    texts: queryIds.map((id) => data.queries.get(id)!),
    kind: "query",
    salt: data.corpusHash,
  });
  const queryVector = new Map(queryIds.map((id, i) => [id, queryEmb.vectors[i]!]));

  const searchTimes: number[] = [];
  const evaluate = async (ids: string[], qrels: Map<string, Set<string>>, transform: QueryTransform | null) => {
    const rankings: string[][] = [];
    for (const id of ids) {
      const q = queryVector.get(id)!;
      const s = performance.now();
      const hits = await vectorStore.search({ userId: "bench", embedding: transform ? transform.apply(q) : q, k: 100 });
      searchTimes.push(performance.now() - s);
      rankings.push(hits.map((h) => h.id));
    }
    return retrievalMetrics(rankings, ids.map((id) => qrels.get(id)!), topK).metrics;
  };

  const baselineTest = await evaluate(testIds, data.qrels.test!, null);
  const baselineDev = split.heldOut.length ? await evaluate(split.heldOut, data.qrels.train!, null) : null;
  log(`baseline test recall@10 ${fmt(baselineTest["recall@10"])} nDCG@10 ${fmt(baselineTest["ndcg@10"])}`);

  const docIndex = new Map(data.documents.map((d, i) => [d.id, i]));
  const results: Record<string, ModeResult> = {};
  const applyTimes: { mode: string; microsPerQuery: number }[] = [];

  const trainEngine = async (queries: Float32Array[], positives: number[][]) => {
    const engine = new LocalDeepMemory(engineOptions);
    const s = performance.now();
    const model: EngineModel = await engine.train({ dimensions: corpusEmb.dims, queries, positives, corpus: corpusEmb.vectors, seed });
    return { engine, model, seconds: (performance.now() - s) / 1000, transform: engine.load(model) };
  };

  const finishMode = async (name: string, trained: Awaited<ReturnType<typeof trainEngine>>, trainPairs: number, notes: string) => {
    const withModelTest = await evaluate(testIds, data.qrels.test!, trained.transform);
    const dev = baselineDev ? { withModel: await evaluate(split.heldOut, data.qrels.train!, trained.transform), withoutModel: baselineDev } : undefined;
    applyTimes.push({ mode: name, microsPerQuery: timeApply(trained.transform, [...queryVector.values()]) });
    results[name] = {
      trainPairs,
      trainQueries: trained.model.report.trainQueries,
      trainingSeconds: trained.seconds,
      engineEpochs: trained.model.report.epochs,
      bestEpoch: trained.model.report.bestEpoch,
      questionMemory: trained.model.report.questionMemory,
      ...(dev ? { dev } : {}),
      test: { withModel: withModelTest, withoutModel: baselineTest, queries: testIds.length },
      notes,
    };
    log(`${name}: test recall@10 ${fmt(baselineTest["recall@10"])} -> ${fmt(withModelTest["recall@10"])}, nDCG@10 ${fmt(baselineTest["ndcg@10"])} -> ${fmt(withModelTest["ndcg@10"])} (trained in ${trained.seconds.toFixed(2)} s${memoryNote(trained.model.report)})`);
  };

  if (modes.has("train") && data.qrels.train) {
    const ids = split.train;
    const positives = ids.map((id) => [...data.qrels.train!.get(id)!].map((d) => docIndex.get(d)).filter((i): i is number => i !== undefined));
    const keep = positives.map((p, i) => (p.length ? i : -1)).filter((i) => i >= 0);
    const trained = await trainEngine(keep.map((i) => queryVector.get(ids[i]!)!), keep.map((i) => positives[i]!));
    const pairs = keep.reduce((s, i) => s + positives[i]!.length, 0);
    await finishMode("train", trained, pairs, `${keep.length} training queries (${split.heldOut.length} more held out as dev)`);
  }

  let pseudoPairs: { question: string; chunkId: string }[] = [];
  if (modes.has("pseudo") || modes.has("sdk")) {
    const generator = new PseudoQueryGenerator({ style: pseudoStyle });
    const perDoc = Number(values["pseudo-per-doc"]);
    const maxPairs = Number(values["max-pairs"]);
    let tooShort = 0;
    const byDocument = new Map<string, string[]>();
    for (const doc of data.documents) {
      if (!doc.text.trim()) continue;
      try {
        byDocument.set(doc.id, await generator.generate({ chunk: { id: doc.id, text: doc.text }, count: perDoc }));
      } catch (error) {
        // A document too short to ask about gets no pseudo-query, as in the SDK's generate step.
        if (!(error instanceof GenerationOutputError)) throw error;
        tooShort++;
      }
    }
    // Over the pair cap, documents are taken in a seeded order until it is reached, so the sample spreads over the corpus.
    let total = 0;
    for (const questions of byDocument.values()) total += questions.length;
    let keep = new Set(byDocument.keys());
    if (total > maxPairs) {
      keep = new Set();
      let taken = 0;
      for (const id of [...byDocument.keys()].sort((a, b) => stableUnit(a, seed) - stableUnit(b, seed) || (a < b ? -1 : 1))) {
        if (taken + byDocument.get(id)!.length > maxPairs) break;
        keep.add(id);
        taken += byDocument.get(id)!.length;
      }
    }
    for (const [chunkId, questions] of byDocument) if (keep.has(chunkId)) for (const question of questions) pseudoPairs.push({ question, chunkId });
    log(`pseudo-queries: ${pseudoPairs.length} from ${keep.size} documents (${generator.model}; ${tooShort} too short to ask about)`);
  }

  const cachingEmbedder = memoise(embedder);
  let realPairsSpeed: { pairs: number; dimensions: number; corpus: number; trainSeconds: number; epochs: number } | null = null;
  if (modes.has("pseudo") && pseudoPairs.length) {
    const emb = await cachedEmbeddings({
      cacheDir: values["cache-dir"]!,
      label: `${data.name}-pseudo`,
      embedder,
      texts: pseudoPairs.map((p) => p.question),
      kind: "query",
      onProgress: (done, total) => done % 4096 < 256 && log(`embedding pseudo-queries ${done}/${total}`),
    });
    pseudoPairs.forEach((p, i) => cachingEmbedder.remember(p.question, emb.vectors[i]!));
    const trained = await trainEngine(emb.vectors, pseudoPairs.map((p) => [docIndex.get(p.chunkId)!]));
    await finishMode("pseudo", trained, pseudoPairs.length, "pseudo-queries from the corpus only; no human query seen");
    // The speed target's size on real vectors: 5,000 of these pairs (a seeded sample) over the whole corpus.
    const sample = pseudoPairs.map((p, i) => ({ p, i })).filter(({ p }) => stableUnit(`${p.chunkId}\0${p.question}`, seed) < 5000 / pseudoPairs.length).slice(0, 5000);
    const realSpeed = await trainEngine(sample.map(({ i }) => emb.vectors[i]!), sample.map(({ p }) => [docIndex.get(p.chunkId)!]));
    realPairsSpeed = { pairs: sample.length, dimensions: corpusEmb.dims, corpus: data.documents.length, trainSeconds: realSpeed.seconds, epochs: realSpeed.model.report.epochs };
    log(`real-data speed: ${sample.length} pairs at d=${corpusEmb.dims} trained in ${realSpeed.seconds.toFixed(2)} s (${realSpeed.model.report.epochs} epochs)`);
  }

  if (modes.has("sdk") && pseudoPairs.length) {
    const perDoc = Number(values["pseudo-per-doc"]);
    const trainer = new DeepMemoryTrainer({
      vectorStore,
      store: new InMemoryTrainingStore(),
      embedder: cachingEmbedder,
      generator: new PseudoQueryGenerator({ style: pseudoStyle }),
      engine: new LocalDeepMemory(engineOptions),
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
    results.sdk = {
      trainPairs: detail.run.pairCount,
      trainQueries: metrics.trainPairs,
      trainingSeconds: metrics.training.wallMs / 1000,
      engineEpochs: metrics.training.epochs,
      bestEpoch: metrics.training.bestEpoch,
      questionMemory: metrics.training.questionMemory,
      dev: { withModel: metrics.heldOut.withModel, withoutModel: metrics.heldOut.withoutModel },
      test: { withModel: testEval.withModel, withoutModel: testEval.withoutModel, queries: testEval.queryCount },
      notes: `generate ${genSeconds.toFixed(1)} s + train ${(totalSeconds - genSeconds).toFixed(1)} s end to end; "dev" here is the trainer's own held-out pseudo-queries; verdict ${metrics.verdict}`,
    };
    log(`sdk: test recall@10 ${fmt(testEval.withoutModel["recall@10"])} -> ${fmt(testEval.withModel["recall@10"])} (${metrics.verdict})`);
  }

  const speed: EngineSpeed[] = values["no-speed"] ? [] : await engineSpeed({ seed, log });
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
    modes: results,
    timings: {
      corpusEmbeddingSeconds: corpusEmb.fromCache ? null : corpusEmb.seconds,
      searchMillisPerQuery: median(searchTimes),
      applyMicrosPerQuery: applyTimes,
      totalSeconds: (performance.now() - t0) / 1000,
      peakRssMiB: Math.round(peakRss / 2 ** 20),
    },
    engineSpeed: speed,
    realPairsSpeed,
  };

  printTable(report.baseline.test, results, testIds.length);
  if (speed.length) printSpeed(speed);
  if (realPairsSpeed) {
    console.log(`Real vectors: ${realPairsSpeed.pairs} ${data.name} pairs at d=${realPairsSpeed.dimensions} over ${realPairsSpeed.corpus} chunks trained in ${realPairsSpeed.trainSeconds.toFixed(2)} s (${realPairsSpeed.epochs} epochs)`);
  }
  console.log(`search ${report.timings.searchMillisPerQuery.toFixed(2)} ms/query over ${data.documents.length} docs; peak RSS ${report.timings.peakRssMiB} MiB`);
  const reference = report.machine.referenceDotMultiplyAddsPerNs;
  console.log(`machine reference (JS dot loop, multiply-adds per ns): ${reference.atStart.join(", ")} at start, ${reference.atEnd.join(", ")} at end`);
  await mkdir(values.out!, { recursive: true });
  const file = join(values.out!, `bench-${data.name}-${report.createdAt.replace(/[:.]/g, "-")}.json`);
  await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`wrote ${file}`);
}

function memoise(embedder: Embedder): Embedder & { remember(text: string, v: Float32Array): void } {
  const cache = new Map<string, Float32Array>();
  return {
    model: embedder.model,
    remember: (text, v) => cache.set(`query\0${text}`, v),
    async embed(texts, options) {
      const kind = options?.kind ?? "document";
      const missing = texts.filter((t) => !cache.has(`${kind}\0${t}`));
      if (missing.length) {
        const vectors = await embedder.embed(missing, options);
        missing.forEach((t, i) => cache.set(`${kind}\0${t}`, vectors[i]!));
      }
      return texts.map((t) => cache.get(`${kind}\0${t}`)!);
    },
  };
}

function timeApply(transform: QueryTransform, queries: Float32Array[]): number {
  const n = Math.min(queries.length, 2000);
  for (let i = 0; i < n; i++) transform.apply(queries[i]!);
  const rounds: number[] = [];
  for (let r = 0; r < 5; r++) {
    const s = performance.now();
    for (let i = 0; i < n; i++) transform.apply(queries[i]!);
    rounds.push(((performance.now() - s) * 1000) / n);
  }
  return median(rounds);
}

function median(values: number[]): number {
  if (!values.length) return 0;
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
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

function printTable(baseline: MetricTable, modes: Record<string, ModeResult>, queries: number) {
  const cols = ["recall@1", "recall@3", "recall@5", "recall@10", "recall@50", "recall@100", "ndcg@10", "mrr@10"];
  const rows: [string, MetricTable][] = [["baseline (no deep memory)", baseline]];
  for (const [name, r] of Object.entries(modes)) rows.push([`${name} (${r.trainPairs} pairs, ${r.trainingSeconds.toFixed(1)} s)`, r.test.withModel]);
  const width = Math.max(...rows.map(([n]) => n.length));
  console.log(`\nTest split, ${queries} queries`);
  console.log(`${"".padEnd(width)} | ${cols.map((c) => c.padStart(10)).join(" | ")}`);
  console.log(`${"-".repeat(width)}-+-${cols.map(() => "-".repeat(10)).join("-+-")}`);
  for (const [name, m] of rows) console.log(`${name.padEnd(width)} | ${cols.map((c) => fmt(m[c]).padStart(10)).join(" | ")}`);
}

function printSpeed(speed: EngineSpeed[]) {
  console.log("\nEngine speed (synthetic vectors)");
  console.log("dims | pairs | corpus | train s | epochs | val recall@10 before -> after | apply us/query");
  for (const s of speed) {
    const val = `${s.baselineValidationRecallAt10.toFixed(3)} -> ${s.validationRecallAt10.toFixed(3)}`;
    console.log(`${String(s.dimensions).padStart(4)} | ${String(s.pairs).padStart(5)} | ${String(s.corpus).padStart(6)} | ${s.trainSeconds.toFixed(2).padStart(7)} | ${String(s.epochs).padStart(6)} | ${val.padStart(29)} | ${s.applyMicrosPerQuery.toFixed(1).padStart(14)}`);
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
