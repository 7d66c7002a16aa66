import { describe, expect, it } from "vitest";
import { mineCandidates } from "./mining.js";
import { corpusKernels } from "./kernels.js";
import { SeededRandom } from "./random.js";

function unitRows(rows: number, d: number, random: SeededRandom): Float32Array {
  const x = new Float32Array(rows * d);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let k = 0; k < d; k++) s += (x[r * d + k] = random.normal()) ** 2;
    for (let k = 0; k < d; k++) x[r * d + k]! /= Math.sqrt(s);
  }
  return x;
}

describe("mineCandidates", { timeout: 30_000 }, () => {
  it("mines the same hard negatives and validation candidates on int16 codes (main thread and worker) as an exact float32 scan", async () => {
    // Big enough (rows x chunks x d >= 3e9) that a worker takes half the questions.
    const random = new SeededRandom(9);
    const [d, chunks, questions] = [384, 4000, 2000];
    const corpus = unitRows(chunks, d, random);
    const queries = unitRows(questions, d, random);
    // Each question near its chunk, so answers (excluded from negatives) rank high.
    for (let e = 0; e < questions * d; e++) queries[e] = 0.6 * queries[e]! + corpus[e]!;
    const set = (from: number, to: number) => ({
      vectors: queries.slice(from * d, to * d),
      count: to - from,
      positives: Array.from({ length: to - from }, (_, i) => Int32Array.of(from + i)),
    });
    const [train, validation] = [set(0, 1700), set(1700, questions)];
    const mine = (simd: boolean, workers: boolean) =>
      mineCandidates(train, validation, corpusKernels(corpus, chunks, d, { simd }), corpus, chunks, d, 16, 0, new SeededRandom(1), { workers });

    const exact = await mine(false, false);
    for (const workers of [false, true]) {
      const coded = await mine(true, workers);
      expect(coded.worker).toBeNull();
      expect([...coded.negatives]).toEqual([...exact.negatives]);
      expect([...coded.validation.index]).toEqual([...exact.validation.index]);
    }
    // A question's own chunk is never its negative.
    expect(exact.negatives.subarray(0, 16)).not.toContain(0);
    expect(exact.negatives.every((c) => c >= 0)).toBe(true);
  });
});
