import {
  DeepMemoryTrainer,
  InMemoryTrainingStore,
  LocalDeepMemory,
  PseudoQueryGenerator,
  type Embedder,
  type Fusion,
  type FusionScore,
  type MetricTable,
  type QueryTransform,
  type TrainingReport,
} from "@zip/deep-memory";
import { stableUnit } from "@zip/deep-memory/evaluation";
import { describeFusion } from "@zip/deep-memory/retrieval";
import { retrievalReportSchema } from "@zip/deep-memory/schemas";
import { memoise, timeApply } from "./bench-helpers.js";
import { fmt, log } from "./bench-options.js";
import type { BenchSetup } from "./bench-setup.js";
import { pseudoPairsFor } from "./pseudo-pairs.js";
import { defaultHybridFusion, denseOnly, latency, topK, trainWithFusion } from "./retrieval-eval.js";
import { cachedEmbeddings } from "./vector-cache.js";

export interface ModeResult {
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

export interface RealPairsSpeed {
  pairs: number;
  dimensions: number;
  corpus: number;
  trainSeconds: number;
  epochs: number;
}

export interface ModesOutcome {
  results: Record<string, ModeResult>;
  applyTimes: { mode: string; microsPerQuery: number }[];
  realPairsSpeed: RealPairsSpeed | null;
}

type Question = { text: string; vector: Float32Array; positives: number[] };
type PseudoPair = { question: string; chunkId: string };

/** Trains deep memory each way named in --modes (train, pseudo, sdk) and measures it on the test split, in that order. */
export async function runModes(setup: BenchSetup): Promise<ModesOutcome> {
  const { options, data, embedder } = setup;
  const outcome: ModesOutcome = { results: {}, applyTimes: [], realPairsSpeed: null };
  if (options.modes.has("train") && data.qrels.train) await runTrainMode(setup, outcome);

  const pseudoPairs: PseudoPair[] = [];
  if (options.modes.has("pseudo") || options.modes.has("sdk")) {
    const made = await pseudoPairsFor(data, { style: options.pseudoStyle, perDoc: options.pseudoPerDoc, maxPairs: options.maxPairs, seed: options.seed });
    pseudoPairs.push(...made.pairs);
    log(`pseudo-queries: ${pseudoPairs.length} from ${made.documents} documents (${made.model}; ${made.tooShort} too short to ask about)`);
  }

  const cachingEmbedder = memoise(embedder);
  if (options.modes.has("pseudo") && pseudoPairs.length) await runPseudoMode(setup, outcome, pseudoPairs, cachingEmbedder);
  if (options.modes.has("sdk") && pseudoPairs.length) await runSdkMode(setup, outcome, cachingEmbedder);
  return outcome;
}

/** Trains as the trainer does on a store with keyword search: validation carved, fusion chosen on it. */
function trainEngine(setup: BenchSetup, questions: Question[]) {
  const { options } = setup;
  return trainWithFusion({
    engine: new LocalDeepMemory(options.engineOptions),
    store: setup.vectorStore,
    questions,
    corpus: setup.corpusEmb.vectors,
    corpusIds: setup.corpusIds,
    corpusTexts: setup.data.documents.map((d) => d.text),
    seed: options.seed,
    ...(options.retrainMaxQuestions !== undefined ? { retrainMaxQuestions: options.retrainMaxQuestions } : {}),
  });
}

async function measureModel(setup: BenchSetup, transform: QueryTransform, fusion: Fusion) {
  const dense = await setup.testLegs.metrics(transform, denseOnly);
  const hybrid = await setup.testLegs.metrics(transform, fusion);
  const latencyMs = {
    dense: await latency(setup.vectorStore, setup.testSet, { transform, fusion: denseOnly }),
    hybrid: await latency(setup.vectorStore, setup.testSet, { transform, fusion }),
  };
  return { dense, hybrid, latencyMs };
}

async function finishMode(setup: BenchSetup, outcome: ModesOutcome, name: string, trained: Awaited<ReturnType<typeof trainEngine>>, trainPairs: number, notes: string) {
  const { devLegs, baselineDev, baselineTest, hybridTest } = setup;
  const { dense, hybrid, latencyMs } = await measureModel(setup, trained.transform, trained.fusion);
  const dev =
    devLegs && baselineDev
      ? {
          withModel: await devLegs.metrics(trained.transform, trained.fusion),
          withoutModel: baselineDev,
          dense: await devLegs.metrics(trained.transform, denseOnly),
          hybrid: await devLegs.metrics(null, defaultHybridFusion),
        }
      : undefined;
  outcome.applyTimes.push({ mode: name, microsPerQuery: timeApply(trained.transform, [...setup.queryVector.values()]) });
  const report = trained.model.report;
  outcome.results[name] = {
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
    test: { withModel: hybrid, withoutModel: hybridTest, dense, hybrid, queries: setup.testIds.length },
    latencyMs,
    notes,
  };
  log(
    `${name}: test recall@10 dense ${fmt(baselineTest["recall@10"])} -> ${fmt(dense["recall@10"])}, hybrid ${fmt(hybridTest["recall@10"])} -> ${fmt(hybrid["recall@10"])}; ` +
      `nDCG@10 dense ${fmt(dense["ndcg@10"])}, hybrid ${fmt(hybrid["ndcg@10"])} (trained in ${trained.seconds.toFixed(2)} s${memoryNote(report)}; ${describeFusion(trained.fusion)})`,
  );
}

/** (a) The data set's own training queries, less the dev split carved out of them. */
async function runTrainMode(setup: BenchSetup, outcome: ModesOutcome) {
  const { data, split } = setup;
  const questions = split.train
    .map((id) => ({
      text: data.queries.get(id)!,
      vector: setup.queryVector.get(id)!,
      positives: [...data.qrels.train!.get(id)!].map((d) => setup.docIndex.get(d)).filter((i): i is number => i !== undefined),
    }))
    .filter((q) => q.positives.length > 0);
  const trained = await trainEngine(setup, questions);
  const pairs = questions.reduce((sum, q) => sum + q.positives.length, 0);
  await finishMode(setup, outcome, "train", trained, pairs, `${questions.length} training queries (${trained.validationQuestions} of them held back to choose the fusion; ${split.heldOut.length} more held out as dev)`);
}

/** (b) LLM-free pseudo-queries from the corpus only; also times training on 5,000 of them (the speed target on real vectors). */
async function runPseudoMode(setup: BenchSetup, outcome: ModesOutcome, pseudoPairs: PseudoPair[], cachingEmbedder: ReturnType<typeof memoise>) {
  const { options, data, corpusEmb, docIndex } = setup;
  const seed = options.seed;
  const emb = await cachedEmbeddings({
    cacheDir: options.cacheDir,
    label: `${data.name}-pseudo`,
    embedder: setup.embedder,
    texts: pseudoPairs.map((p) => p.question),
    kind: "query",
    onProgress: (done, total) => done % 4096 < 256 && log(`embedding pseudo-queries ${done}/${total}`),
  });
  pseudoPairs.forEach((p, i) => cachingEmbedder.remember(p.question, emb.vectors[i]!));
  const trained = await trainEngine(setup, pseudoPairs.map((p, i) => ({ text: p.question, vector: emb.vectors[i]!, positives: [docIndex.get(p.chunkId)!] })));
  await finishMode(setup, outcome, "pseudo", trained, pseudoPairs.length, "pseudo-queries from the corpus only; no human query seen");
  // The speed target's size on real vectors: 5,000 of these pairs (a seeded sample) over the whole corpus.
  const sample = pseudoPairs.map((p, i) => ({ p, i })).filter(({ p }) => stableUnit(`${p.chunkId}\0${p.question}`, seed) < 5000 / pseudoPairs.length).slice(0, 5000);
  const engine = new LocalDeepMemory(options.engineOptions);
  const s = performance.now();
  const speedModel = await engine.train({
    dimensions: corpusEmb.dims,
    queries: sample.map(({ i }) => emb.vectors[i]!),
    positives: sample.map(({ p }) => [docIndex.get(p.chunkId)!]),
    corpus: corpusEmb.vectors,
    seed,
  });
  const speed = { pairs: sample.length, dimensions: corpusEmb.dims, corpus: data.documents.length, trainSeconds: (performance.now() - s) / 1000, epochs: speedModel.report.epochs };
  outcome.realPairsSpeed = speed;
  log(`real-data speed: ${sample.length} pairs at d=${corpusEmb.dims} trained in ${speed.trainSeconds.toFixed(2)} s (${speed.epochs} epochs)`);
}

/** (c) The SDK's own generate -> train path with the offline generator, judged by evaluate() and on the bench's legs. */
async function runSdkMode(setup: BenchSetup, outcome: ModesOutcome, cachingEmbedder: Embedder) {
  const { options, data, testIds } = setup;
  const trainingStore = new InMemoryTrainingStore();
  const engine = new LocalDeepMemory(options.engineOptions);
  const trainer = new DeepMemoryTrainer({
    vectorStore: setup.vectorStore,
    store: trainingStore,
    embedder: cachingEmbedder,
    generator: new PseudoQueryGenerator({ style: options.pseudoStyle }),
    engine,
    options: { questionsPerChunk: options.pseudoPerDoc, maxPairs: options.maxPairs, concurrency: 4, seed: options.seed },
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
  const { dense, hybrid, latencyMs } = await measureModel(setup, transform, fusion);
  outcome.results.sdk = {
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

function memoryNote(report: TrainingReport): string {
  const memory = report.questionMemory;
  return memory ? `; question memory of ${memory.keys} questions over ${memory.chunks} chunks, weight ${memory.weight}` : "; no question memory";
}
