import * as z from "zod";
import type { TrainingReport } from "./contract.js";
import { ValidationError } from "./errors.js";
import { parseOrThrow } from "./errors.js";
import type { DeepMemoryEngine, EngineModel, EngineTrainInput, QueryTransform } from "./contract.js";
import type { FitJob, PackedQuestions } from "./fit-model.js";
import { runFit } from "./fit-thread.js";
import { sampleCorpusRows } from "./corpus-sample.js";
import { ResidualTransform } from "./residual-transform.js";
import { yieldToEventLoop } from "./event-loop.js";

/**
 * Defaults were chosen on BEIR SciFact (all-MiniLM-L6-v2, 384 dimensions)
 * with dev splits carved from its training questions; see the README of this
 * folder for the measurements.
 */
export const localDeepMemoryOptionsSchema = z
  .object({
    /**
     * Rank r of the correction U Vt (capped at the embedding size): Vt spans the
     * questions' r main directions, U is learned. 64 lost 3 points of nDCG on
     * SciFact, 96-384 scored alike; apply costs 2 d r multiply-adds.
     */
    rank: z.number().int().positive().default(128),
    /** Upper bound on passes over the training pairs; early stopping usually ends sooner. */
    maxEpochs: z.number().int().positive().default(40),
    batchSize: z.number().int().min(2).default(64),
    learningRate: z.number().positive().default(2e-3),
    /** Softmax temperature over cosine similarities. */
    temperature: z.number().positive().default(0.05),
    /** AdamW decay of the factors: pulls the transform back toward the identity. */
    weightDecay: z.number().nonnegative().default(1),
    /** Top-ranked non-answer chunks mined per question and used as extra negatives. */
    hardNegatives: z.number().int().nonnegative().default(16),
    /** Best-ranked non-answer chunks skipped when mining: often unlabelled answers, not true negatives. */
    hardNegativeSkip: z.number().int().nonnegative().default(0),
    /** Power iterations that align the correction's input basis with the training questions (0: a random basis). */
    basisIterations: z.number().int().nonnegative().default(2),
    /** Share of training questions held back (seeded) to choose the epoch to keep. */
    validationFraction: z.number().gt(0).lt(1).default(0.15),
    /** Epochs without progress (see `minImprovement`) before stopping. */
    patience: z.number().int().positive().default(3),
    /**
     * Smallest relative drop of the validation loss that counts as progress:
     * training stops once `patience` epochs in a row have not lowered it by
     * this share below the last epoch that did. The epoch with the lowest loss
     * is kept either way. 0 waits for any drop at all; 0.01 stops on a
     * plateau (under 1% in 3 epochs), where rankings no longer move.
     */
    minImprovement: z.number().min(0).lt(1).default(0.01),
    /**
     * Weights of the question memory tried after training (see
     * question-memory.ts): each is scored on validation (nDCG@10) over the
     * kept epoch, and the memory is kept at the best weight only where it
     * beats the residual alone. [] (or only zeros) turns it off. It grows the model by
     * about d + 8 bytes per training pair and costs one lookup per query
     * (a sign-bit scan of the remembered questions, see memoryProbe).
     */
    memoryWeights: z.array(z.number().min(0).max(4)).max(8).default([0.1, 0.25, 0.5]),
    /** Nearest training questions a query attends to in the memory. */
    memoryNeighbours: z.number().int().min(1).max(64).default(8),
    /** Softmax temperature over those questions' cosine similarities. */
    memoryTemperature: z.number().positive().default(0.05),
    /**
     * Validation nDCG@10 the memory must add over the learned map alone to be
     * kept: it costs model size and a scan of the keys per query. Measured
     * gains: synthetic one-question-per-chunk 0.0005 (not worth it), SciFact
     * sentence pseudo-queries about 0.008, SciFact training claims 0.02.
     */
    memoryMinGain: z.number().min(0).max(1).default(0.002),
    /**
     * Above 4,096 remembered questions the keys are grouped into about
     * sqrt(n) lists and a query scans this share of them (its nearest
     * lists); 1 scans every key. SciFact, 41,888 keys, d=384: 0.35 matches
     * scanning every key (recall@10 0.809) at about 0.1 ms a lookup; 0.25
     * cost 0.3 points of recall@10, 0.2 about 0.7.
     */
    memoryProbe: z.number().gt(0).max(1).default(0.35),
    /**
     * Gates tried with each memory weight, as quantiles of the validation
     * questions' similarity to their nearest remembered question: with a
     * gate, a query less similar than that to every remembered question is
     * not pulled (a question about a chunk no training question was about
     * is left to the learned map, which the pull could only mislead). No
     * gate is always tried too; [] tries none.
     */
    memoryGateQuantiles: z.array(z.number().gt(0).lt(1)).max(16).default([]),
    /**
     * Let the corpus scan that mines hard negatives use one worker thread
     * (where the runtime has them): about a third off training time on two
     * cores. The result is the same either way.
     */
    workers: z.boolean().default(true),
    /**
     * Train on a worker thread so the calling thread's event loop stays free
     * (a server keeps answering while a model trains; on the example's
     * training the main thread otherwise went up to about 0.5 s without a
     * turn). Where no worker can start (browsers, a bundle without the
     * worker file) training runs on the calling thread, yielding to its
     * event loop every 50 ms. The model is the same bytes either way.
     */
    trainInWorker: z.boolean().default(true),
    /**
     * Once validation has chosen the epoch count (and the memory weight),
     * the map is trained again from the identity on the training and
     * validation questions together for that many epochs, so the share held
     * back for choosing is learnt from too; up to this many questions (0:
     * never). Above it the held-back share is hundreds of questions of its
     * own and a second pass costs as much as the first (the 5,000-pair speed
     * task is not refit). Never applies to validation questions the caller
     * holds back (EngineTrainInput.validation). SciFact dev splits (3 seeds):
     * recall@10 0.895 -> 0.899, nDCG@10 0.829 -> 0.834.
     */
    refitMaxQuestions: z.number().int().nonnegative().default(2500),
    /**
     * Above this many chunks, training reads every answer plus a seeded
     * uniform sample of the other chunks, about this many in all: hard
     * negatives are mined and validation scored against the sample, so
     * training time no longer grows with the corpus (see corpus-sample.ts).
     * 1,000,000 synthetic chunks at d = 384: see bench/src/million-chunks.ts.
     */
    corpusSample: z.number().int().min(1000).default(100_000),
  })
  .strict();

export type LocalDeepMemoryOptions = z.input<typeof localDeepMemoryOptionsSchema>;
export type ResolvedLocalDeepMemoryOptions = z.output<typeof localDeepMemoryOptionsSchema>;

const engineName = "local-residual-linear";

/**
 * Deep memory trained in process: a residual linear map on query embeddings
 * (q -> normalize(q + U Vt q)), starting at the identity, fitted with a
 * contrastive loss over in-batch and mined hard negatives, early-stopped on a
 * seeded validation split. Corpus embeddings never change. No service, no
 * native code: Float32Array kernels, on WebAssembly SIMD where the runtime
 * has it (Node 20+, current browsers) and plain JS otherwise.
 */
export class LocalDeepMemory implements DeepMemoryEngine {
  readonly name = engineName;
  readonly options: ResolvedLocalDeepMemoryOptions;

  constructor(options: LocalDeepMemoryOptions = {}) {
    this.options = parseOrThrow(localDeepMemoryOptionsSchema, options, "LocalDeepMemory options");
  }

  async train(input: EngineTrainInput): Promise<EngineModel> {
    const started = performance.now();
    const d = input.dimensions;
    checkTrainInput(input);
    const { trainInWorker, corpusSample, ...settings } = this.options;
    const sample = sampleCorpusRows(input.corpus.length, answerRows(input), corpusSample, input.seed);
    const renumber = (lists: readonly number[][]) => (sample ? lists.map((list) => list.map((row) => sample.position[row]!)) : lists);
    const questions = await packQuestions(input.queries, renumber(input.positives), d);
    const validation = input.validation ? await packQuestions(input.validation.queries, renumber(input.validation.positives), d) : null;
    const usable = countUsable(questions);
    const needed = validation ? 1 : 2;
    if (usable < needed) {
      throw new ValidationError(`Deep memory training needs at least ${needed} question${needed > 1 ? "s" : ""} with a relevant chunk`, [
        { path: "positives", message: `${usable === 0 ? "no" : "only one"} question has a relevant chunk` },
      ]);
    }
    if (validation && countUsable(validation) === 0) {
      throw new ValidationError("Deep memory validation questions need at least one with a relevant chunk", [
        { path: "validation.positives", message: "no validation question has a relevant chunk" },
      ]);
    }
    const corpusRows = sample ? Array.from(sample.rows, (row) => input.corpus[row]!) : input.corpus;
    const job: FitJob = {
      dimensions: d,
      corpus: await packShared(corpusRows, d),
      corpusCount: corpusRows.length,
      questions,
      validation,
      seed: input.seed,
      // Questions copied from their chunks teach the memory, not the map (EngineTrainInput.copiedQuestions).
      settings: input.copiedQuestions ? { ...settings, maxEpochs: 0 } : settings,
    };
    const { outcome } = await runFit(job, { signal: input.signal, onProgress: input.onProgress, inWorker: trainInWorker });
    const report: TrainingReport = { engine: engineName, ...outcome.report, wallMs: performance.now() - started };
    return { format: outcome.format, dimensions: d, weights: outcome.weights, report };
  }

  load(model: { format: string; dimensions: number; weights: Uint8Array }): QueryTransform {
    return ResidualTransform.fromBytes(model);
  }
}

function* answerRows(input: EngineTrainInput): Generator<number> {
  for (const list of input.positives) yield* list;
  for (const list of input.validation?.positives ?? []) yield* list;
}

function checkTrainInput(input: EngineTrainInput): void {
  const d = input.dimensions;
  const issues: { path: string; message: string }[] = [];
  if (!Number.isInteger(d) || d <= 0) issues.push({ path: "dimensions", message: "must be a positive integer" });
  if (!Number.isInteger(input.seed)) issues.push({ path: "seed", message: "must be an integer" });
  if (input.corpus.length === 0) issues.push({ path: "corpus", message: "is empty" });
  input.corpus.forEach((v, i) => {
    if (v.length !== d) issues.push({ path: `corpus.${i}`, message: `has ${v.length} dimensions, expected ${d}` });
  });
  const checkQuestions = (prefix: string, queries: readonly Float32Array[], positives: readonly number[][]) => {
    if (positives.length !== queries.length) {
      issues.push({ path: `${prefix}positives`, message: `has ${positives.length} entries for ${queries.length} queries` });
    }
    queries.forEach((v, i) => {
      if (v.length !== d) issues.push({ path: `${prefix}queries.${i}`, message: `has ${v.length} dimensions, expected ${d}` });
    });
    positives.forEach((list, i) => {
      for (const p of list) {
        if (!Number.isInteger(p) || p < 0 || p >= input.corpus.length) {
          issues.push({ path: `${prefix}positives.${i}`, message: `index ${p} is outside the corpus (0..${input.corpus.length - 1})` });
        }
      }
    });
  };
  checkQuestions("", input.queries, input.positives);
  if (input.validation) checkQuestions("validation.", input.validation.queries, input.validation.positives);
  if (issues.length > 0) {
    const shown = issues.slice(0, 20);
    throw new ValidationError(`Invalid deep memory training input: ${shown.map((i) => `${i.path} ${i.message}`).join("; ")}`, shown);
  }
}

/** Rows packed per slice before the packing yields to the event loop: about 4 MB of float32. */
const packSliceFloats = 1 << 20;

/**
 * Rows packed into one array, on a SharedArrayBuffer where the runtime has
 * one (a training worker then reads it in place, and the caller's thread
 * still has it should the worker fail to start), yielding between slices so
 * a large corpus does not hold the event loop.
 */
async function packShared(rows: readonly Float32Array[], d: number): Promise<Float32Array> {
  const bytes = rows.length * d * 4;
  const out = new Float32Array(typeof SharedArrayBuffer === "function" ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes));
  const slice = Math.max(1, Math.floor(packSliceFloats / d));
  for (let start = 0; start < rows.length; start += slice) {
    if (start > 0) await yieldToEventLoop();
    const end = Math.min(rows.length, start + slice);
    for (let i = start; i < end; i++) out.set(rows[i]!, i * d);
  }
  return out;
}

/** Questions packed, each one's answers deduplicated and sorted (compressed rows). */
async function packQuestions(queries: readonly Float32Array[], positives: readonly number[][], d: number): Promise<PackedQuestions> {
  const positiveStart = new Int32Array(queries.length + 1);
  const lists = positives.map((list) => Int32Array.from(new Set(list)).sort());
  lists.forEach((list, i) => (positiveStart[i + 1] = positiveStart[i]! + list.length));
  const positiveIndex = new Int32Array(positiveStart[queries.length]!);
  lists.forEach((list, i) => positiveIndex.set(list, positiveStart[i]));
  return { vectors: await packShared(queries, d), count: queries.length, positiveIndex, positiveStart };
}

function countUsable(questions: PackedQuestions): number {
  let usable = 0;
  for (let q = 0; q < questions.count; q++) if (questions.positiveStart[q + 1]! > questions.positiveStart[q]!) usable++;
  return usable;
}
