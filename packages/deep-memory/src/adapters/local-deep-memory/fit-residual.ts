import { AbortedError } from "../../errors/errors.js";
import type { EngineProgress } from "../../ports/deep-memory-engine.js";
import {
  corpusKernels,
  gatherRows,
  logSumExp,
  matmulTransB,
  normalizeRows,
  orthonormalizeRows,
  topK,
  transpose,
  type CorpusKernels,
} from "./kernels.js";
import { startCorpusWorker, type CorpusWorker } from "./mining-worker.js";
import { QuestionMemory } from "./question-memory.js";
import type { SeededRandom } from "./random.js";
import { createTrainingStep } from "./training-step.js";

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
  /** Whether mining may use a worker thread (where the runtime has them). */
  workers?: boolean;
}

/** Row-major queries with, for each row, the corpus rows that answer it. */
export interface QuerySet {
  vectors: Float32Array;
  count: number;
  positives: Int32Array[];
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

interface ValidationScore {
  recallAt10: number;
  ndcgAt10: number;
  /** Mean softmax cross-entropy of the answers over the question's candidates. */
  loss: number;
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

/**
 * Per-question candidate lists, packed: question i owns
 * index[start[i]..start[i+1]); the first head[i] are its best chunks under
 * plain search plus its answers, the rest a uniform sample of the other
 * chunks, each standing for tailWeight[i] of them.
 */
interface CandidateLists {
  index: Int32Array;
  start: Int32Array;
  head: Int32Array;
  tailWeight: Float64Array;
}

/**
 * Validation scores each question against its `validationCandidates` best
 * chunks under plain search, its answers and `validationTailSample` random
 * others, not the whole corpus: 25x cheaper per epoch at 5,000 chunks. The
 * random sample, up-weighted, stands in for the rest of the corpus in the
 * loss; without it the loss kept falling long after held-out recall peaked.
 */
const validationCandidates = 100;
const validationTailSample = 100;
/** Rows used to find the question basis; more adds time, not accuracy. */
const basisSampleRows = 1024;

/** Lets timers and I/O (an abort, a progress write) run between chunks of CPU work; setTimeout where setImmediate is missing (browsers). */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => (typeof setImmediate === "function" ? setImmediate(resolve) : setTimeout(resolve, 0)));
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

/**
 * Mining ranks on int16 codes (twice the multiply-adds per instruction of
 * float32) and scores this many more than it keeps exactly: a chunk would
 * have to fall this many places on errors of about 1e-4 to be missed.
 */
const rescoreMargin = 16;

/** How often (ms) an epoch yields to take in the worker's validation scores of the epoch before. */
const pendingPollMs = 4;

/** Share of the mining rows a worker thread takes while the main thread does the rest. */
const workerShare = 0.5;
/**
 * A worker costs about 35 ms to start (Node 20) and scans at about 20 GMAC/s;
 * below this many multiply-adds (about 150 ms of scanning) it saves little or nothing.
 */
const workerMinWork = 3e9;

/**
 * One pass over the corpus with plain (untransformed) questions. For each
 * training question: its `pool` best non-answer chunks after skipping the
 * `skip` best (likely unlabelled answers), -1 padded. For each validation
 * question: its candidate list. Where worker threads are available, a worker
 * ranks the last share of the questions; every result is placed by
 * question, so it is the same as a single-threaded pass. `meanwhile` runs on
 * the main thread once the worker is started, before the main share. With
 * `keepWorker` the worker is returned (with the validation lists set) for
 * the trainer's validation scoring, and the caller closes it.
 */
export async function mineCandidates(
  train: QuerySet,
  validation: QuerySet,
  corpus: CorpusKernels,
  corpusMatrix: Float32Array,
  corpusCount: number,
  d: number,
  pool: number,
  skip: number,
  random: SeededRandom,
  options: { workers?: boolean; meanwhile?: () => void; keepWorker?: boolean } = {},
): Promise<{ negatives: Int32Array; validation: CandidateLists; worker: CorpusWorker | null }> {
  const trainRows = pool > 0 ? train.count : 0;
  const total = trainRows + validation.count;
  const width = Math.min(Math.max(pool + skip, validationCandidates), corpusCount);
  // Row i: a training question (keep pool + skip, excluding its answers) or a validation one (keep 100).
  const keep = new Int32Array(total);
  const excludeStart = new Int32Array(total + 1);
  for (let row = 0; row < total; row++) {
    const isTrain = row < trainRows;
    keep[row] = isTrain ? Math.min(pool + skip, corpusCount) : Math.min(validationCandidates, corpusCount);
    excludeStart[row + 1] = excludeStart[row]! + (isTrain ? train.positives[row]!.length : 0);
  }
  const exclude = new Int32Array(excludeStart[total]!);
  for (let row = 0; row < trainRows; row++) exclude.set(train.positives[row]!, excludeStart[row]!);
  const vectorOf = (row: number) =>
    row < trainRows ? train.vectors.subarray(row * d, (row + 1) * d) : validation.vectors.subarray((row - trainRows) * d, (row - trainRows + 1) * d);

  const ranked = new Int32Array(total * width).fill(-1);
  let local = total;
  let worker: CorpusWorker | null = null;
  if (options.workers !== false && total * corpusCount * d >= workerMinWork) {
    const first = Math.floor(total * (1 - workerShare));
    const rows = total - first;
    const queries = new Float32Array(rows * d);
    for (let i = 0; i < rows; i++) queries.set(vectorOf(first + i), i * d);
    const base = excludeStart[first]!;
    worker = startCorpusWorker(corpusMatrix, corpusCount, d, {
      queries,
      rows,
      keep: keep.slice(first),
      exclude: exclude.slice(base, excludeStart[total]!),
      excludeStart: excludeStart.slice(first).map((e) => e - base),
      width,
      margin: rescoreMargin,
    });
    if (worker) local = first;
  }
  const rankRows = (from: number, to: number) => {
    const blockRows = Math.max(4, Math.min(128, Math.floor(4_194_304 / corpusCount)));
    const scores = new Float32Array(blockRows * corpusCount);
    const rows = new Float32Array(blockRows * d);
    const mark = new Int32Array(corpusCount).fill(-1);
    const shortlist = new Int32Array(Math.min(width + rescoreMargin, corpusCount));
    const value = new Float32Array(shortlist.length);
    const exact = new Float32Array(shortlist.length);
    const position = new Int32Array(width);
    for (let start = from; start < to; start += blockRows) {
      const count = Math.min(blockRows, to - start);
      for (let i = 0; i < count; i++) rows.set(vectorOf(start + i), i * d);
      if (corpus.rankingScores) corpus.rankingScores(rows, count, scores);
      else corpus.scoreAll(rows, count, scores);
      for (let i = 0; i < count; i++) {
        const row = start + i;
        for (let e = excludeStart[row]!; e < excludeStart[row + 1]!; e++) mark[exclude[e]!] = row;
        const out = ranked.subarray(row * width, (row + 1) * width);
        const skipAnswer = (j: number) => mark[j] === row;
        if (!corpus.rankingScores) {
          topK(scores, keep[row]!, out, value, i * corpusCount, corpusCount, skipAnswer);
          continue;
        }
        // The int16 scores shortlist; the shortlist's exact scores rank.
        const n = topK(scores, Math.min(keep[row]! + rescoreMargin, corpusCount), shortlist, value, i * corpusCount, corpusCount, skipAnswer);
        corpus.gatherDots(rows.subarray(i * d, (i + 1) * d), 1, shortlist, n, exact);
        const found = topK(exact, keep[row]!, position, value, 0, n);
        for (let m = 0; m < found; m++) out[m] = shortlist[position[m]!]!;
      }
    }
  };
  options.meanwhile?.();
  rankRows(0, local);
  if (worker) {
    try {
      ranked.set(await worker.topK, local * width);
    } catch {
      // A worker that failed to run costs time, never the result.
      worker.close();
      worker = null;
      rankRows(local, total);
    }
  }

  const negatives = new Int32Array(train.count * pool).fill(-1);
  for (let row = 0; row < trainRows; row++) {
    for (let m = skip; m < pool + skip && m < width; m++) negatives[row * pool + m - skip] = ranked[row * width + m]!;
  }
  const lists: number[][] = [];
  const heads: number[] = [];
  const weights: number[] = [];
  const inList = new Int32Array(corpusCount).fill(-1);
  for (let v = 0; v < validation.count; v++) {
    const top = ranked.subarray((trainRows + v) * width, (trainRows + v + 1) * width);
    const list: number[] = [];
    for (const c of top) if (c >= 0) list.push(c);
    for (const p of validation.positives[v]!) if (!list.includes(p)) list.push(p);
    for (const c of list) inList[c] = v;
    const rest = corpusCount - list.length;
    const sample = Math.min(validationTailSample, rest);
    heads.push(list.length);
    weights.push(sample > 0 ? rest / sample : 0);
    // Sample without replacement among the chunks not already listed.
    for (let taken = 0; taken < sample; ) {
      const c = Math.floor(random.next() * corpusCount);
      if (inList[c] === v) continue;
      inList[c] = v;
      list.push(c);
      taken++;
    }
    lists.push(list);
  }
  const startOf = new Int32Array(lists.length + 1);
  lists.forEach((list, i) => (startOf[i + 1] = startOf[i]! + list.length));
  const packed = new Int32Array(startOf[lists.length]!);
  lists.forEach((list, i) => packed.set(list, startOf[i]!));
  if (worker && options.keepWorker && validation.count > 0) {
    worker.setLists(packed, startOf);
  } else {
    worker?.close();
    worker = null;
  }
  return {
    negatives,
    validation: { index: packed, start: startOf, head: Int32Array.from(heads), tailWeight: Float64Array.from(weights) },
    worker,
  };
}

/** Each validation question's scores against its candidates, packed like candidates.index. */
function validationScores(queries: Float32Array, set: QuerySet, candidates: CandidateLists, corpus: CorpusKernels, d: number): Float32Array {
  const scores = new Float32Array(candidates.start[set.count]!);
  for (let i = 0; i < set.count; i++) {
    const from = candidates.start[i]!;
    const n = candidates.start[i + 1]! - from;
    corpus.gatherDots(queries.subarray(i * d, (i + 1) * d), 1, candidates.index.subarray(from, from + n), n, scores.subarray(from, from + n));
  }
  return scores;
}

/** Activeloop-style recall@10 (share of a question's answers in its top 10), binary nDCG@10 and the loss, averaged, from validationScores. */
function scoreValidation(packedScores: Float32Array, set: QuerySet, candidates: CandidateLists, tau: number): ValidationScore {
  if (set.count === 0) return { recallAt10: 0, ndcgAt10: 0, loss: 0 };
  let longest = 0;
  for (let i = 0; i < set.count; i++) longest = Math.max(longest, candidates.start[i + 1]! - candidates.start[i]!);
  const logits = new Float64Array(longest);
  const index = new Int32Array(10);
  let recall = 0;
  let ndcg = 0;
  let loss = 0;
  for (let i = 0; i < set.count; i++) {
    const from = candidates.start[i]!;
    const n = candidates.start[i + 1]! - from;
    const scores = packedScores.subarray(from, from + n);
    for (let j = 0; j < n; j++) logits[j] = scores[j]! / tau;
    const positives = set.positives[i]!;
    const isPositive = (j: number) => positives.includes(candidates.index[from + j]!);
    // Tail samples count in the ranking too: one that overtakes an answer is a real miss.
    const found = topK(scores, Math.min(10, n), index, undefined, 0, n);
    let hits = 0;
    let dcg = 0;
    for (let m = 0; m < found; m++) {
      if (isPositive(index[m]!)) {
        hits++;
        dcg += 1 / Math.log2(m + 2);
      }
    }
    let ideal = 0;
    for (let m = 0; m < Math.min(10, positives.length); m++) ideal += 1 / Math.log2(m + 2);
    recall += hits / positives.length;
    ndcg += ideal > 0 ? dcg / ideal : 0;
    const head = candidates.head[i]!;
    const lse = logAddExp(logSumExp(logits, 0, head), Math.log(candidates.tailWeight[i]!) + logSumExp(logits, head, n - head));
    for (let j = 0; j < head; j++) if (isPositive(j)) loss += (lse - logits[j]!) / positives.length;
  }
  return { recallAt10: recall / set.count, ndcgAt10: ndcg / set.count, loss: loss / set.count };
}

function logAddExp(a: number, b: number): number {
  if (a === -Infinity) return b;
  if (b === -Infinity) return a;
  const max = Math.max(a, b);
  return max + Math.log(Math.exp(a - max) + Math.exp(b - max));
}

/**
 * The kept epoch is the one with the lowest validation loss: with the hundred-odd questions a
 * validation split usually has, recall@10 moves in coarse, noisy steps, while
 * the loss is smooth and bottomed out within an epoch of the best held-out
 * recall in our SciFact runs.
 */
const better = (a: ValidationScore, b: ValidationScore) => a.loss < b.loss - 1e-9;

/**
 * An orthonormal basis (rows of an r x d matrix) of the subspace the training
 * questions vary in most: randomized subspace iteration on a sample of the
 * question matrix. Learning only U over this fixed basis generalised better
 * than learning both factors, and costs half as much.
 */
export function queryBasis(queries: Float32Array, count: number, d: number, r: number, iterations: number, random: SeededRandom): Float32Array {
  const basis = new Float32Array(r * d);
  const randomRow = (row: Float32Array) => {
    for (let k = 0; k < d; k++) row[k] = random.normal();
  };
  for (let i = 0; i < r; i++) randomRow(basis.subarray(i * d, (i + 1) * d));
  orthonormalizeRows(basis, r, d, randomRow);
  if (iterations === 0 || count === 0) return basis;
  const n = Math.min(count, basisSampleRows);
  const chosen = random.shuffle(Array.from({ length: count }, (_, i) => i)).slice(0, n);
  const sample = new Float32Array(n * d);
  gatherRows(queries, chosen, n, d, sample);
  const sampleT = new Float32Array(d * n);
  transpose(sample, n, d, sampleT);
  const y = new Float32Array(n * r);
  const yT = new Float32Array(r * n);
  for (let it = 0; it < iterations; it++) {
    // basis <- orth((Q basis^T)^T Q): one power step toward the top right singular vectors.
    matmulTransB(sample, basis, n, r, d, y);
    transpose(y, n, r, yT);
    matmulTransB(yT, sampleT, r, d, n, basis);
    orthonormalizeRows(basis, r, d, randomRow);
  }
  return basis;
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

  // Examples: one per (question, positive chunk), positives deduplicated per question.
  const exQuery: number[] = [];
  const exChunk: number[] = [];
  for (let q = 0; q < train.count; q++) {
    for (const p of train.positives[q]!) {
      exQuery.push(q);
      exChunk.push(p);
    }
  }
  const exampleCount = exQuery.length;
  const order = new Int32Array(exampleCount);
  for (let e = 0; e < exampleCount; e++) order[e] = e;

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
  const negatives = mined.negatives;
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

    // Batch buffers, allocated once.
    const B = Math.min(settings.batchSize, Math.max(1, exampleCount));
    const batchStep = createTrainingStep(kernels, corpus, d, { queries: train.vectors, z: trainZ, rank: r, batch: B, pool });
    const negIndex = new Int32Array(B * pool);
    const queryRows = new Int32Array(B);
    const columns = new Int32Array(B);
    const target = new Int32Array(B);
    const columnOf = new Int32Array(nc).fill(-1);
    const positiveMark = new Int32Array(nc).fill(-1);
    let stamp = 0;
    let step = 0;
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

    epochs: for (let epoch = 1; epoch <= settings.maxEpochs; epoch++) {
      throwIfAborted(signal);
      random.shuffle(order);
      let lossSum = 0;

      for (let start = 0; start < exampleCount; start += B) {
        throwIfAborted(signal);
        const bs = Math.min(B, exampleCount - start);
        // Candidate columns: each distinct positive chunk of the batch once.
        let nb = 0;
        for (let i = 0; i < bs; i++) {
          const e = order[start + i]!;
          const chunk = exChunk[e]!;
          queryRows[i] = exQuery[e]!;
          if (columnOf[chunk]! < 0) {
            columnOf[chunk] = nb;
            columns[nb++] = chunk;
          }
          target[i] = columnOf[chunk]!;
        }
        for (let i = 0; i < bs; i++) {
          const from = queryRows[i]! * pool;
          for (let m = 0; m < pool; m++) negIndex[i * pool + m] = negatives[from + m]!;
        }
        const { scores, negativeScores, stride, negativeStride } = batchStep.forward(queryRows, bs, columns, nb, negIndex);
        for (let i = 0; i < bs; i++) {
          stamp++;
          for (const p of train.positives[queryRows[i]!]!) positiveMark[p] = stamp;
          const t = target[i]!;
          // Another chunk that also answers this question is not a negative.
          for (let j = 0; j < nb; j++) if (j !== t && positiveMark[columns[j]!] === stamp) scores[i * stride + j] = -Infinity;
          for (let m = 0; m < pool; m++) {
            // Padding, and chunks already present as batch columns, are not candidates twice.
            const c = negIndex[i * pool + m]!;
            if (c < 0 || columnOf[c]! >= 0) negativeScores[i * negativeStride + m] = -Infinity;
          }
        }
        for (let j = 0; j < nb; j++) columnOf[columns[j]!] = -1;
        step++;
        lossSum += batchStep.backward(bs, nb, target, tau, {
          learningRate: settings.learningRate,
          beta1: 0.9,
          beta2: 0.999,
          epsilon: 1e-8,
          weightDecay: settings.weightDecay,
          step,
        });

        // Long epochs still let timers (and so abort signals) run; while the
        // worker scores the last epoch, every few ms, to judge it once it has.
        if (performance.now() - lastYield > (pending ? pendingPollMs : 50)) {
          await yieldToEventLoop();
          lastYield = performance.now();
          if (pending?.ready) {
            const judged = pending;
            pending = null;
            // Stopping drops the rest of this epoch: the kept weights come from judged epochs only.
            if (await judge(judged)) break epochs;
          }
        }
      }
      batchStep.readWeights(u);
      const queries = transformValidation(u);
      const scores = worker ? worker.score(queries, validation.count) : scoresOf(queries);
      const current: EpochResult = { epoch, u: u.slice(), loss: exampleCount > 0 ? lossSum / exampleCount : 0, queries, scores, ready: !worker };
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
      const parameters = { neighbours: settings.memoryNeighbours, temperature: settings.memoryTemperature, weight: 0, probe: settings.memoryProbe };
      const trial = QuestionMemory.build(train.vectors, train.positives, corpus, d, parameters);
      const transformed = transformValidation(bestU);
      const near = trial.lookup(validation.vectors, validation.count);
      for (const weight of weights) {
        throwIfAborted(signal);
        const pulled = transformed.slice();
        trial.pullRows(near, weight, pulled);
        normalizeRows(pulled, validation.count, d, valNorms);
        const score = scoreValidation(scoresOf(pulled), validation, mined.validation, tau);
        if (score.ndcgAt10 >= Math.max(final.ndcgAt10, best.ndcgAt10 + settings.memoryMinGain) + 1e-9) {
          final = score;
          parameters.weight = weight;
        }
      }
      if (parameters.weight > 0 && !input.rememberValidation) {
        memory = trial;
        memory.setWeight(parameters.weight);
      } else if (parameters.weight > 0) {
        // The weight is chosen; the validation questions now join the keys (more questions remembered, nothing left to choose).
        const questions = new Float32Array((train.count + validation.count) * d);
        questions.set(train.vectors.subarray(0, train.count * d));
        questions.set(validation.vectors.subarray(0, validation.count * d), train.count * d);
        memory = QuestionMemory.build(questions, [...train.positives, ...validation.positives], corpus, d, parameters);
      }
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
