import { AbortedError } from "./errors.js";
import type { EngineProgress } from "./contract.js";
import { EpochRunner } from "./epoch-runner.js";
import { corpusKernels, matmulTransB, normalizeRows } from "./kernels.js";
import { mineCandidates, type CandidateLists, type QuerySet } from "./mining.js";
import { queryBasis } from "./query-basis.js";
import { QuestionMemory } from "./question-memory.js";
import type { SeededRandom } from "./random.js";
import { better, scoreValidation, validationScores } from "./validation-scores.js";
import { yieldToEventLoop } from "./event-loop.js";

export type { QuerySet } from "./mining.js";

export interface FitSettings {
  rank: number;
  maxEpochs: number;
  batchSize: number;
  learningRate: number;
  temperature: number;
  weightDecay: number;
  hardNegatives: number;
  hardNegativeSkip: number;
  basisIterations: number;
  patience: number;
  /** Relative validation-loss drop that counts as progress for `patience`. */
  minImprovement: number;
  /** Question-memory weights tried on validation after training; none above 0: no memory. */
  memoryWeights: readonly number[];
  memoryNeighbours: number;
  memoryTemperature: number;
  /** Validation nDCG@10 the memory must add over the learned map alone to be kept. */
  memoryMinGain: number;
  /** Share of the memory's inverted lists a query scans (above 4,096 keys); 1 scans every key. */
  memoryProbe: number;
  /** Gates tried with each weight: a query is pulled only if its nearest key is as similar as this quantile of the validation questions' nearest keys. */
  memoryGateQuantiles: readonly number[];
  /** Whether mining may use a worker thread (where the runtime has them). */
  workers?: boolean;
  /** Up to this many questions, the map is trained again on training and (carved) validation questions once the epoch count is chosen. */
  refitMaxQuestions?: number;
}

export interface FitInput {
  dimensions: number;
  corpus: Float32Array;
  corpusCount: number;
  train: QuerySet;
  validation: QuerySet;
  /** Whether the validation questions join the question memory once its weight is chosen (not when the caller holds them back). */
  rememberValidation: boolean;
  settings: FitSettings;
  random: SeededRandom;
  signal: AbortSignal | undefined;
  onProgress: ((progress: FitProgress) => void) | undefined;
}

/** EngineProgress plus what a caller tuning the engine wants to see. */
export interface FitProgress extends EngineProgress {
  validationNdcgAt10: number;
  validationLoss: number;
}

export interface FitResult {
  u: Float32Array;
  vt: Float32Array;
  rank: number;
  epochs: number;
  bestEpoch: number;
  baselineValidationRecallAt10: number;
  validationRecallAt10: number;
  /** The question memory that beat the residual alone on validation, or null. */
  memory: QuestionMemory | null;
}

/** A trained epoch awaiting its verdict: its weights, training loss, transformed validation questions and their scores (packed like CandidateLists.index). */
interface EpochResult {
  epoch: number;
  u: Float32Array;
  loss: number;
  queries: Float32Array;
  scores: Promise<Float32Array> | Float32Array;
  /** Whether the scores are in (or their worker failed): judging it will not wait. */
  ready: boolean;
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortedError("Deep memory training was aborted");
}

/** q -> normalize(q + U (Vt q)) for `count` rows; z receives Vt q, norms the lengths before normalising. */
function transformRows(
  queries: Float32Array,
  count: number,
  d: number,
  r: number,
  u: Float32Array,
  vt: Float32Array,
  z: Float32Array,
  out: Float32Array,
  norms: Float32Array,
): void {
  matmulTransB(queries, vt, count, r, d, z);
  matmulTransB(z, u, count, d, r, out);
  for (let i = 0; i < count * d; i++) out[i]! += queries[i]!;
  normalizeRows(out, count, d, norms);
}

/**
 * The memory remembers chunks: a question about a chunk no training question
 * was about can only be pulled the wrong way. Below this share of validation
 * questions with an answer among the training questions' chunks it is not
 * tried (5,000 questions about 5,000 different chunks: 0%, and 0.15 s saved).
 */
const memoryMinRemembered = 0.1;

/** Share of validation questions with at least one answer that some training question also has. */
function rememberedShare(train: QuerySet, validation: QuerySet, corpusCount: number): number {
  const known = new Uint8Array(corpusCount);
  for (const positives of train.positives) for (const p of positives) known[p] = 1;
  let covered = 0;
  for (const positives of validation.positives) if (positives.some((p) => known[p] === 1)) covered++;
  return validation.count > 0 ? covered / validation.count : 0;
}

/** How often (ms) an epoch yields to take in the worker's validation scores of the epoch before. */
const pendingPollMs = 4;

/**
 * Candidate gates: the given quantiles of the validation questions' nearest-key
 * similarities (ascending, distinct). Quantiles, not fixed cosines: similarity
 * scales differ between embedding models.
 */
function gateThresholds(nearest: Float32Array, quantiles: readonly number[]): number[] {
  const sorted = Float32Array.from(nearest.filter((s) => s > -Infinity)).sort();
  if (sorted.length === 0) return [];
  const picked = quantiles.map((q) => sorted[Math.min(sorted.length - 1, Math.floor(q * (sorted.length - 1)))]!);
  return [...new Set(picked)].sort((a, b) => a - b);
}

/**
 * Hard negatives of the validation questions, for a refit that trains on
 * them: the first `pool` non-answers of each one's candidate list (its best
 * chunks under plain search, best first), -1 padded.
 */
function validationNegatives(validation: QuerySet, lists: CandidateLists, pool: number): Int32Array {
  const out = new Int32Array(validation.count * pool).fill(-1);
  for (let v = 0; v < validation.count; v++) {
    const answers = validation.positives[v]!;
    let m = 0;
    for (let j = lists.start[v]!; j < lists.start[v]! + lists.head[v]! && m < pool; j++) {
      const c = lists.index[j]!;
      if (!answers.includes(c)) out[v * pool + m++] = c;
    }
  }
  return out;
}

/** Two question sets as one: rows, coordinates and negatives of `a` first, then `b`'s. */
function joinSets(a: QuerySet, b: QuerySet, d: number): QuerySet {
  const vectors = new Float32Array((a.count + b.count) * d);
  vectors.set(a.vectors.subarray(0, a.count * d));
  vectors.set(b.vectors.subarray(0, b.count * d), a.count * d);
  return { vectors, count: a.count + b.count, positives: [...a.positives, ...b.positives] };
}

/**
 * Trains U with softmax cross-entropy over cosine / temperature. Each example
 * is (question, one of its chunks); its candidates are the distinct positive
 * chunks of the batch plus its own mined hard negatives. Any candidate that
 * also answers the question is masked, so questions about the same chunk
 * never push each other away. The epoch with the lowest validation loss
 * wins; epoch 0 (the identity) competes too, so a model that cannot fit
 * beyond the training questions stays plain search.
 */
export async function fitResidual(input: FitInput): Promise<FitResult> {
  const { dimensions: d, corpus, corpusCount: nc, train, validation, settings, random, signal } = input;
  const r = Math.min(settings.rank, d);
  const tau = settings.temperature;
  const kernels = corpusKernels(corpus, nc, d);
  const pool = Math.min(settings.hardNegatives, Math.max(0, nc - 1 - settings.hardNegativeSkip));
  throwIfAborted(signal);

  // Identity start: U = 0 makes the residual U (Vt q) vanish.
  const u = new Float32Array(d * r);
  const trainZ = new Float32Array(train.count * r);
  let vt: Float32Array = new Float32Array(0);
  const mined = await mineCandidates(train, validation, kernels, corpus, nc, d, pool, settings.hardNegativeSkip, random, {
    workers: settings.workers,
    keepWorker: true,
    // The question basis is found while the mining worker starts and scans its share.
    meanwhile: () => {
      vt = queryBasis(train.vectors, train.count, d, r, settings.basisIterations, random);
      matmulTransB(train.vectors, vt, train.count, r, d, trainZ);
    },
  });
  try {
    throwIfAborted(signal);

    const valZ = new Float32Array(validation.count * r);
    const valNorms = new Float32Array(validation.count);
    const transformValidation = (weights: Float32Array): Float32Array => {
      const out = new Float32Array(validation.count * d);
      transformRows(validation.vectors, validation.count, d, r, weights, vt, valZ, out, valNorms);
      return out;
    };
    const scoresOf = (queries: Float32Array) => validationScores(queries, validation, mined.validation, kernels, d);
    const worker = mined.worker;

    const baseline = scoreValidation(scoresOf(validation.vectors), validation, mined.validation, tau);
    let best = baseline;
    let bestEpoch = 0;
    let bestU: Float32Array = u.slice();
    const runner = new EpochRunner(kernels, corpus, d, train, trainZ, r, mined.negatives, pool, nc, settings, random);
    let epochsRun = 0;
    // Progress is a drop of at least minImprovement below the last epoch that made one.
    let progressLoss = baseline.loss;
    let sinceProgress = 0;
    let lastYield = performance.now();
    let pending: EpochResult | null = null;
    /** Records an epoch's validation; true when training should stop. */
    const judge = async (result: EpochResult): Promise<boolean> => {
      let scores: Float32Array;
      try {
        scores = await result.scores;
      } catch {
        // A failed worker costs time, never the result: the same scores, computed here.
        scores = scoresOf(result.queries);
      }
      const score = scoreValidation(scores, validation, mined.validation, tau);
      epochsRun = result.epoch;
      if (better(score, best)) {
        best = score;
        bestEpoch = result.epoch;
        bestU = result.u;
      }
      if (score.loss < progressLoss * (1 - settings.minImprovement) - 1e-9) {
        progressLoss = score.loss;
        sinceProgress = 0;
      } else {
        sinceProgress++;
      }
      input.onProgress?.({
        epoch: result.epoch,
        epochs: settings.maxEpochs,
        loss: result.loss,
        validationRecallAt10: score.recallAt10,
        validationNdcgAt10: score.ndcgAt10,
        validationLoss: score.loss,
      });
      return sinceProgress >= settings.patience;
    };
    // Long epochs still let timers (and so abort signals) run; while the
    // worker scores the last epoch, every few ms, to judge it once it has.
    const afterBatch = (): Promise<boolean> | undefined => {
      throwIfAborted(signal);
      if (performance.now() - lastYield <= (pending ? pendingPollMs : 50)) return undefined;
      return (async () => {
        await yieldToEventLoop();
        lastYield = performance.now();
        if (!pending?.ready) return false;
        const judged = pending;
        pending = null;
        // Stopping drops the rest of this epoch: the kept weights come from judged epochs only.
        return judge(judged);
      })();
    };

    for (let epoch = 1; epoch <= settings.maxEpochs; epoch++) {
      throwIfAborted(signal);
      const pass = await runner.run(afterBatch);
      if (pass.stopped) break;
      runner.readWeights(u);
      const queries = transformValidation(u);
      const scores = worker ? worker.score(queries, validation.count) : scoresOf(queries);
      const current: EpochResult = { epoch, u: u.slice(), loss: pass.loss, queries, scores, ready: !worker };
      if (scores instanceof Promise) {
        // An epoch dropped when training stops leaves its scores unread, and closing the worker rejects them.
        scores.then(
          () => (current.ready = true),
          () => (current.ready = true),
        );
      }
      // With a worker, this epoch's validation runs there while the next epoch
      // trains here, and an epoch is judged during or after the next: the same
      // verdicts in the same order, so the same model; when training stops,
      // part of an epoch's batches is wasted.
      const stop: boolean = worker ? pending !== null && (await judge(pending)) : await judge(current);
      pending = worker && !stop ? current : null;
      if (stop) break;
      await yieldToEventLoop();
      lastYield = performance.now();
    }
    if (pending) await judge(pending);
    throwIfAborted(signal);

    // The question memory, tried on validation at each weight over the kept
    // epoch's transform, judged by nDCG@10: the loss kept rewarding stronger
    // pulls that reorder the top (SciFact training questions: weight 0.5
    // lowered validation and test nDCG@10 while the loss still fell).
    let memory: QuestionMemory | null = null;
    let final = best;
    const weights = [...new Set(settings.memoryWeights)].filter((w) => w > 0).sort((a, b) => a - b);
    if (weights.length > 0 && validation.count > 0 && train.count > 0 && rememberedShare(train, validation, nc) >= memoryMinRemembered) {
      const parameters = { neighbours: settings.memoryNeighbours, temperature: settings.memoryTemperature, weight: 0, probe: settings.memoryProbe, threshold: -Infinity };
      const trial = QuestionMemory.build(train.vectors, train.positives, corpus, d, parameters);
      const transformed = transformValidation(bestU);
      const near = trial.lookup(validation.vectors, validation.count);
      const thresholds = [-Infinity, ...gateThresholds(near.nearest, settings.memoryGateQuantiles)];
      for (const weight of weights) {
        for (const threshold of thresholds) {
          throwIfAborted(signal);
          const pulled = transformed.slice();
          trial.pullRows(near, weight, pulled, threshold);
          normalizeRows(pulled, validation.count, d, valNorms);
          const score = scoreValidation(scoresOf(pulled), validation, mined.validation, tau);
          // Ties keep the earlier choice: the weaker pull, then no gate or the lower one.
          if (score.ndcgAt10 >= Math.max(final.ndcgAt10, best.ndcgAt10 + settings.memoryMinGain) + 1e-9) {
            final = score;
            parameters.weight = weight;
            parameters.threshold = threshold;
          }
        }
      }
      if (parameters.weight > 0 && !input.rememberValidation) {
        memory = trial;
        memory.setPull(parameters.weight, parameters.threshold);
      } else if (parameters.weight > 0) {
        // The weight is chosen; the validation questions now join the keys (more questions remembered, nothing left to choose).
        const all = joinSets(train, validation, d);
        memory = QuestionMemory.build(all.vectors, all.positives, corpus, d, parameters);
      }
    }

    // With the epoch count chosen, a carved validation split has nothing left
    // to choose: the map is trained again from the identity on every question
    // for that many epochs (never on questions the caller held back).
    const refitting = train.count + validation.count <= (settings.refitMaxQuestions ?? 0);
    if (refitting && input.rememberValidation && bestEpoch > 0 && validation.count > 0) {
      const all = joinSets(train, validation, d);
      const allZ = new Float32Array(all.count * r);
      matmulTransB(all.vectors, vt, all.count, r, d, allZ);
      const negatives = new Int32Array(all.count * pool);
      negatives.set(mined.negatives.subarray(0, train.count * pool));
      negatives.set(validationNegatives(validation, mined.validation, pool), train.count * pool);
      const refit = new EpochRunner(kernels, corpus, d, all, allZ, r, negatives, pool, nc, settings, random);
      const yieldEvery50ms = (): Promise<boolean> | undefined => {
        throwIfAborted(signal);
        if (performance.now() - lastYield <= 50) return undefined;
        return yieldToEventLoop().then(() => ((lastYield = performance.now()), false));
      };
      for (let epoch = 1; epoch <= bestEpoch; epoch++) await refit.run(yieldEvery50ms);
      bestU = new Float32Array(d * r);
      refit.readWeights(bestU);
    }

    return {
      u: bestU,
      vt,
      rank: r,
      epochs: epochsRun,
      bestEpoch,
      baselineValidationRecallAt10: baseline.recallAt10,
      validationRecallAt10: final.recallAt10,
      memory,
    };
  } finally {
    mined.worker?.close();
  }
}
