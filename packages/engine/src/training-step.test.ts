import { describe, expect, it } from "vitest";
import { corpusKernels, type StepBuffers } from "./kernels.js";
import { SeededRandom } from "./random.js";
import { createTrainingStep } from "./training-step.js";

const adam = { learningRate: 0.05, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.01 };

function unitRows(rows: number, d: number, random: SeededRandom): Float32Array {
  const x = new Float32Array(rows * d);
  for (let i = 0; i < rows; i++) {
    let s = 0;
    for (let k = 0; k < d; k++) {
      x[i * d + k] = random.normal();
      s += x[i * d + k]! ** 2;
    }
    for (let k = 0; k < d; k++) x[i * d + k]! /= Math.sqrt(s);
  }
  return x;
}

/** Masks candidates the way the trainer does: some other columns, some negatives, and every missing negative. */
function mask(b: StepBuffers, count: number, columnCount: number, negatives: Int32Array, pool: number): void {
  for (let i = 0; i < count; i++) {
    if (i % 3 === 0 && columnCount > 1) b.scores[i * b.stride + ((i + 1) % columnCount)] = -Infinity;
    for (let m = 0; m < pool; m++) {
      if (negatives[i * pool + m]! < 0 || (i + m) % 4 === 0) b.negativeScores[i * b.negativeStride + m] = -Infinity;
    }
  }
}

describe("training step", () => {
  // Sizes that exercise the kernels' padding: d and rank not multiples of 4
  // or 8, an odd pool, a short odd last batch, negatives missing (-1).
  it.each([
    { d: 10, rank: 10, pool: 3 },
    { d: 37, rank: 5, pool: 0 },
    { d: 64, rank: 16, pool: 4 },
  ])("computes the same scores and weights resident in wasm memory as in JS (d=$d, rank=$rank, pool=$pool)", ({ d, rank, pool }) => {
    const random = new SeededRandom(7);
    const corpusCount = 41;
    const questions = 30;
    const batch = 8;
    const corpus = unitRows(corpusCount, d, random);
    const queries = unitRows(questions, d, random);
    const z = unitRows(questions, rank, random);
    const negatives = new Int32Array(questions * pool).map((_, i) => (i % 5 === 4 ? -1 : Math.floor(random.next() * corpusCount)));
    const source = { queries, z, rank, batch, pool };
    const simdKernels = corpusKernels(corpus, corpusCount, d);
    expect(typeof simdKernels.trainingStep).toBe("function");
    const steps = [createTrainingStep(simdKernels, corpus, d, source), createTrainingStep(corpusKernels(corpus, corpusCount, d, { simd: false }), corpus, d, source)];

    const rows = new Int32Array(batch);
    const columns = new Int32Array(batch);
    const batchNegatives = new Int32Array(batch * pool);
    let stepNumber = 0;
    for (const count of [8, 8, 5, 8, 3]) {
      const columnCount = Math.max(1, count - 2);
      for (let i = 0; i < count; i++) rows[i] = Math.floor(random.next() * questions);
      for (let j = 0; j < columnCount; j++) columns[j] = (j * 7 + count) % corpusCount;
      for (let i = 0; i < count; i++) batchNegatives.set(negatives.subarray(rows[i]! * pool, (rows[i]! + 1) * pool), i * pool);
      stepNumber++;
      const targets = Int32Array.from({ length: count }, (_, i) => i % columnCount);
      const seen = steps.map((s) => {
        const b = s.forward(rows, count, columns, columnCount, batchNegatives);
        const scores: number[] = [];
        for (let i = 0; i < count; i++) {
          for (let j = 0; j < columnCount; j++) scores.push(b.scores[i * b.stride + j]!);
          for (let m = 0; m < pool; m++) scores.push(b.negativeScores[i * b.negativeStride + m]!);
        }
        mask(b, count, columnCount, batchNegatives, pool);
        return { scores, loss: s.backward(count, columnCount, targets, 0.1, { ...adam, step: stepNumber }) };
      });
      // A missing negative scores 0 in both.
      for (let e = 0; e < seen[0]!.scores.length; e++) expect(seen[0]!.scores[e]).toBeCloseTo(seen[1]!.scores[e]!, 5);
      // One candidate leaves nothing to learn: loss 0.
      if (columnCount + pool > 1) expect(seen[0]!.loss).toBeGreaterThan(0);
      expect(seen[0]!.loss).toBeCloseTo(seen[1]!.loss, 4);
    }
    const [simd, js] = steps.map((s) => {
      const u = new Float32Array(d * rank);
      s.readWeights(u);
      return u;
    });
    // Five AdamW steps at a large learning rate moved U well away from zero, the same way in both.
    expect(Math.max(...js!.map(Math.abs))).toBeGreaterThan(0.05);
    for (let e = 0; e < js!.length; e++) expect(simd![e]).toBeCloseTo(js![e]!, 4);
  });
});
