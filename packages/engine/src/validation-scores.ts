/** Scoring the validation questions against their candidate lists (mining.ts): recall@10, nDCG@10 and the loss that picks the epoch. */
import { logSumExp, topK, type CorpusKernels } from "./kernels.js";
import type { CandidateLists, QuerySet } from "./mining.js";

export interface ValidationScore {
  recallAt10: number;
  ndcgAt10: number;
  /** Mean softmax cross-entropy of the answers over the question's candidates. */
  loss: number;
}

/** Each validation question's scores against its candidates, packed like candidates.index. */
export function validationScores(queries: Float32Array, set: QuerySet, candidates: CandidateLists, corpus: CorpusKernels, d: number): Float32Array {
  const scores = new Float32Array(candidates.start[set.count]!);
  for (let i = 0; i < set.count; i++) {
    const from = candidates.start[i]!;
    const n = candidates.start[i + 1]! - from;
    corpus.gatherDots(queries.subarray(i * d, (i + 1) * d), 1, candidates.index.subarray(from, from + n), n, scores.subarray(from, from + n));
  }
  return scores;
}

/** Activeloop-style recall@10 (share of a question's answers in its top 10), binary nDCG@10 and the loss, averaged, from validationScores. */
export function scoreValidation(packedScores: Float32Array, set: QuerySet, candidates: CandidateLists, tau: number): ValidationScore {
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
export const better = (a: ValidationScore, b: ValidationScore) => a.loss < b.loss - 1e-9;
