import { AbortedError } from "../../errors/errors.js";
import type { EngineProgress } from "../../ports/deep-memory-engine.js";
import {
  adamStep,
  axpy,
  logSumExp,
  dot,
  gatherRows,
  matmul,
  matmulTransA,
  matmulTransB,
  normalizeRows,
  orthonormalizeRows,
  topK,
  type AdamState,
} from "./kernels.js";
import type { SeededRandom } from "./random.js";

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
  settings: FitSettings;
  random: SeededRandom;
  signal: AbortSignal | undefined;
  onProgress: ((progress: FitProgress) => void) | undefined;
}

/** EngineProgress plus nDCG@10, for callers that tune the engine. */
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
}

interface ValidationScore {
  recallAt10: number;
  ndcgAt10: number;
  /** Mean softmax cross-entropy of the answers over the whole corpus. */
  loss: number;
}

const scoreBlockRows = 32;

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortedError("Deep memory training was aborted");
}

/**
 * Applies q -> normalize(q + U Vt q) to `count` rows: writes the unit rows to
 * `out`, their pre-normalisation norms to `norms` and Vt q to `z`.
 */
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
 * Scores every query row against the whole corpus, one block of rows at a
 * time, and hands each row's scores to `visit`.
 */
function scanCorpus(
  queries: Float32Array,
  count: number,
  corpus: Float32Array,
  corpusCount: number,
  d: number,
  visit: (row: number, scores: Float32Array, offset: number) => void,
): void {
  const scores = new Float32Array(scoreBlockRows * corpusCount);
  for (let start = 0; start < count; start += scoreBlockRows) {
    const rows = Math.min(scoreBlockRows, count - start);
    matmulTransB(queries.subarray(start * d, (start + rows) * d), corpus, rows, corpusCount, d, scores);
    for (let i = 0; i < rows; i++) visit(start + i, scores, i * corpusCount);
  }
}

/**
 * For each query, the `pool` best-scoring corpus rows that are not among its
 * positives, after dropping the `skip` best of those (likely unlabelled
 * answers rather than true negatives). -1 pads short lists.
 */
export function mineHardNegatives(
  queries: Float32Array,
  set: QuerySet,
  corpus: Float32Array,
  corpusCount: number,
  d: number,
  pool: number,
  skip: number,
): Int32Array {
  const negatives = new Int32Array(set.count * pool).fill(-1);
  if (pool === 0) return negatives;
  const want = Math.min(pool + skip, corpusCount);
  const index = new Int32Array(want);
  const value = new Float32Array(want);
  const mark = new Int32Array(corpusCount).fill(-1);
  scanCorpus(queries, set.count, corpus, corpusCount, d, (row, scores, offset) => {
    for (const p of set.positives[row]!) mark[p] = row;
    const found = topK(scores, want, index, value, offset, corpusCount, (j) => mark[j] === row);
    for (let m = skip; m < found; m++) negatives[row * pool + m - skip] = index[m]!;
  });
  return negatives;
}

/** Activeloop-style recall@10 (share of a query's positives in its top 10) and binary nDCG@10, averaged. */
function scoreValidation(
  queries: Float32Array,
  set: QuerySet,
  corpus: Float32Array,
  corpusCount: number,
  d: number,
  tau: number,
): ValidationScore {
  if (set.count === 0) return { recallAt10: 0, ndcgAt10: 0, loss: 0 };
  let loss = 0;
  const k = Math.min(10, corpusCount);
  const index = new Int32Array(k);
  const value = new Float32Array(k);
  const mark = new Int32Array(corpusCount).fill(-1);
  let recall = 0;
  let ndcg = 0;
  scanCorpus(queries, set.count, corpus, corpusCount, d, (row, scores, offset) => {
    const positives = set.positives[row]!;
    for (const p of positives) mark[p] = row;
    const found = topK(scores, k, index, value, offset, corpusCount);
    let hits = 0;
    let dcg = 0;
    for (let m = 0; m < found; m++) {
      if (mark[index[m]!] === row) {
        hits++;
        dcg += 1 / Math.log2(m + 2);
      }
    }
    let ideal = 0;
    for (let m = 0; m < Math.min(k, positives.length); m++) ideal += 1 / Math.log2(m + 2);
    recall += hits / positives.length;
    ndcg += ideal > 0 ? dcg / ideal : 0;
    let max = -Infinity;
    for (let j = 0; j < corpusCount; j++) if (scores[offset + j]! > max) max = scores[offset + j]!;
    let sum = 0;
    for (let j = 0; j < corpusCount; j++) sum += Math.exp((scores[offset + j]! - max) / tau);
    const lse = max / tau + Math.log(sum);
    for (const p of positives) loss += (lse - scores[offset + p]! / tau) / positives.length;
  });
  return { recallAt10: recall / set.count, ndcgAt10: ndcg / set.count, loss: loss / set.count };
}

/**
 * Early stopping follows the validation loss: with the hundred-odd questions a
 * validation split usually has, recall@10 moves in coarse, noisy steps, while
 * the loss is smooth and bottomed out within an epoch of the best held-out
 * recall in our SciFact runs.
 */
const better = (a: ValidationScore, b: ValidationScore) => a.loss < b.loss - 1e-9;

/**
 * An orthonormal basis (rows of an r x d matrix) of the subspace the training
 * questions vary in most: randomized subspace iteration on the question
 * matrix. Learning only U over this fixed basis generalised better than
 * learning both factors, and costs half as much.
 */
export function queryBasis(queries: Float32Array, count: number, d: number, r: number, iterations: number, random: SeededRandom): Float32Array {
  const basis = new Float32Array(r * d);
  const randomRow = (row: Float32Array) => {
    for (let k = 0; k < d; k++) row[k] = random.normal();
  };
  randomRow(basis);
  for (let i = 1; i < r; i++) randomRow(basis.subarray(i * d, (i + 1) * d));
  orthonormalizeRows(basis, r, d, randomRow);
  // Rows beyond the questions' own span carry no signal; a few hundred rows
  // are plenty to find the dominant directions.
  const sample = Math.min(count, 4096);
  const y = new Float32Array(sample * r);
  for (let it = 0; it < iterations; it++) {
    matmulTransB(queries, basis, sample, r, d, y);
    matmulTransA(y, queries, sample, r, d, basis);
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
  const pool = Math.min(settings.hardNegatives, Math.max(0, nc - 1));

  // Identity start: U = 0 makes the residual U (Vt q) vanish.
  const vt = queryBasis(train.vectors, train.count, d, r, settings.basisIterations, random);
  const u = new Float32Array(d * r);
  const adamU: AdamState = { m: new Float32Array(u.length), v: new Float32Array(u.length) };
  const trainZ = new Float32Array(train.count * r);
  matmulTransB(train.vectors, vt, train.count, r, d, trainZ);

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

  const negatives = mineHardNegatives(train.vectors, train, corpus, nc, d, pool, settings.hardNegativeSkip);

  const valZ = new Float32Array(validation.count * r);
  const valOut = new Float32Array(validation.count * d);
  const valNorms = new Float32Array(validation.count);
  const validate = (): ValidationScore => {
    transformRows(validation.vectors, validation.count, d, r, u, vt, valZ, valOut, valNorms);
    return scoreValidation(valOut, validation, corpus, nc, d, tau);
  };

  const baseline = scoreValidation(validation.vectors, validation, corpus, nc, d, tau);
  let best = baseline;
  let bestEpoch = 0;
  let bestU = u.slice();

  // Batch buffers, allocated once.
  const B = Math.min(settings.batchSize, Math.max(1, exampleCount));
  const qb = new Float32Array(B * d);
  const cb = new Float32Array(B * d);
  const zb = new Float32Array(B * r);
  const qn = new Float32Array(B * d);
  const norms = new Float32Array(B);
  const scores = new Float32Array(B * B);
  const coef = new Float32Array(B * B);
  const negCoef = new Float32Array(B * pool);
  const grad = new Float32Array(B * d);
  const gradU = new Float32Array(d * r);
  const logits = new Float64Array(B + pool);
  const queryRows = new Int32Array(B);
  const columns = new Int32Array(B);
  const target = new Int32Array(B);
  const columnOf = new Int32Array(nc).fill(-1);
  const positiveMark = new Int32Array(nc).fill(-1);
  let stamp = 0;
  let step = 0;
  let epochsRun = 0;
  let sinceBest = 0;
  let lastYield = performance.now();

  for (let epoch = 1; epoch <= settings.maxEpochs; epoch++) {
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
      gatherRows(train.vectors, queryRows, bs, d, qb);
      gatherRows(trainZ, queryRows, bs, r, zb);
      gatherRows(corpus, columns, nb, d, cb);
      // q' = normalize(q + U z)
      matmulTransB(zb, u, bs, d, r, qn);
      for (let k = 0; k < bs * d; k++) qn[k]! += qb[k]!;
      normalizeRows(qn, bs, d, norms);
      matmulTransB(qn, cb, bs, nb, d, scores);

      const scale = 1 / (tau * bs);
      for (let i = 0; i < bs; i++) {
        const q = queryRows[i]!;
        stamp++;
        for (const p of train.positives[q]!) positiveMark[p] = stamp;
        const t = target[i]!;
        for (let j = 0; j < nb; j++) {
          // Another chunk that also answers this question is not a negative.
          logits[j] = j !== t && positiveMark[columns[j]!] === stamp ? -Infinity : scores[i * nb + j]! / tau;
        }
        for (let m = 0; m < pool; m++) {
          const c = negatives[q * pool + m]!;
          // Skip padding and chunks already present as batch columns.
          logits[nb + m] = c < 0 || columnOf[c]! >= 0 ? -Infinity : dot(qn, corpus, d, i * d, c * d) / tau;
        }
        const lse = logSumExp(logits, 0, nb + pool);
        lossSum += lse - logits[t]!;
        for (let j = 0; j < nb; j++) coef[i * nb + j] = (Math.exp(logits[j]! - lse) - (j === t ? 1 : 0)) * scale;
        for (let m = 0; m < pool; m++) negCoef[i * pool + m] = Math.exp(logits[nb + m]! - lse) * scale;
      }
      for (let j = 0; j < nb; j++) columnOf[columns[j]!] = -1;

      // d loss / d q' = sum_j coef_j c_j, then back through the normalisation.
      matmul(coef, cb, bs, nb, d, grad);
      for (let i = 0; i < bs; i++) {
        const q = queryRows[i]!;
        for (let m = 0; m < pool; m++) {
          const w = negCoef[i * pool + m]!;
          if (w !== 0) axpy(w, corpus, grad, d, negatives[q * pool + m]! * d, i * d);
        }
        const along = dot(grad, qn, d, i * d, i * d);
        const inv = 1 / norms[i]!;
        for (let k = 0; k < d; k++) grad[i * d + k] = (grad[i * d + k]! - along * qn[i * d + k]!) * inv;
      }
      // residual = U z: dU = G^T Z.
      matmulTransA(grad, zb, bs, d, r, gradU);
      step++;
      adamStep(u, gradU, adamU, {
        learningRate: settings.learningRate,
        beta1: 0.9,
        beta2: 0.999,
        epsilon: 1e-8,
        weightDecay: settings.weightDecay,
        step,
      });

      if (performance.now() - lastYield > 50) {
        // Long epochs still let timers (and so abort signals) run.
        await new Promise((resolve) => setImmediate(resolve));
        lastYield = performance.now();
      }
    }
    epochsRun = epoch;

    const score = validate();
    if (better(score, best)) {
      best = score;
      bestEpoch = epoch;
      bestU = u.slice();
      sinceBest = 0;
    } else {
      sinceBest++;
    }
    input.onProgress?.({
      epoch,
      epochs: settings.maxEpochs,
      loss: exampleCount > 0 ? lossSum / exampleCount : 0,
      validationRecallAt10: score.recallAt10,
      validationNdcgAt10: score.ndcgAt10,
      validationLoss: score.loss,
    });
    if (sinceBest >= settings.patience) break;
    await new Promise((resolve) => setImmediate(resolve));
    lastYield = performance.now();
  }
  throwIfAborted(signal);

  return {
    u: bestU,
    vt,
    rank: r,
    epochs: epochsRun,
    bestEpoch,
    baselineValidationRecallAt10: baseline.recallAt10,
    validationRecallAt10: best.recallAt10,
  };
}
