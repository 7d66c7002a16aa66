import { describe, expect, it } from "vitest";
import { corpusKernels, topK } from "./kernels.js";
import { topKOnWorker } from "./mining-worker.js";
import { SeededRandom } from "./random.js";

describe("topKOnWorker", () => {
  it("ranks like the main thread: same chunks, same order, answers excluded, -1 padded", async () => {
    const random = new SeededRandom(4);
    // Odd sizes exercise the padding to the kernel's row and column multiples.
    const [d, count, rows, width] = [37, 501, 9, 12];
    const corpus = Float32Array.from({ length: count * d }, () => random.normal());
    const queries = Float32Array.from({ length: rows * d }, () => random.normal());
    const keep = Int32Array.from({ length: rows }, (_, i) => (i % 3 === 0 ? width : 5));
    const excludeStart = Int32Array.from({ length: rows + 1 }, (_, i) => 2 * i);
    const exclude = Int32Array.from({ length: 2 * rows }, () => Math.floor(random.next() * count));

    const pending = topKOnWorker(corpus, count, d, { queries, rows, keep, exclude, excludeStart, width });
    expect(pending).not.toBeNull();
    const fromWorker = await pending!;

    const scores = new Float32Array(rows * count);
    corpusKernels(corpus, count, d).scoreAll(queries, rows, scores);
    const expected = new Int32Array(rows * width).fill(-1);
    for (let q = 0; q < rows; q++) {
      const excluded = exclude.subarray(excludeStart[q]!, excludeStart[q + 1]!);
      topK(scores, keep[q]!, expected.subarray(q * width, (q + 1) * width), undefined, q * count, count, (j) => excluded.includes(j));
    }
    expect([...fromWorker]).toEqual([...expected]);
    // Row 1 keeps 5 of 12 slots.
    expect(fromWorker[width + 4]).toBeGreaterThanOrEqual(0);
    expect(fromWorker[width + 5]).toBe(-1);
  });
});
