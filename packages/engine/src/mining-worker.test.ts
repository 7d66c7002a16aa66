import { threadId } from "node:worker_threads";
import { describe, expect, it } from "vitest";
import { corpusKernels, topK } from "./kernels.js";
import { startCorpusWorker } from "./mining-worker.js";
import { SeededRandom } from "./random.js";

describe("startCorpusWorker", () => {
  it("ranks like the main thread: same chunks, same order, answers excluded, -1 padded", async () => {
    const random = new SeededRandom(4);
    // Odd sizes exercise the padding to the kernel's row and column multiples.
    const [d, count, rows, width] = [37, 501, 9, 12];
    const corpus = Float32Array.from({ length: count * d }, () => random.normal());
    const queries = Float32Array.from({ length: rows * d }, () => random.normal());
    const keep = Int32Array.from({ length: rows }, (_, i) => (i % 3 === 0 ? width : 5));
    const excludeStart = Int32Array.from({ length: rows + 1 }, (_, i) => 2 * i);
    const exclude = Int32Array.from({ length: 2 * rows }, () => Math.floor(random.next() * count));

    const worker = startCorpusWorker(corpus, count, d, { queries, rows, keep, exclude, excludeStart, width, margin: 16 });
    expect(worker).not.toBeNull();
    const fromWorker = await worker!.topK;
    // Ranked on another thread, not here.
    expect(await worker!.threadId).not.toBe(threadId);
    expect(await worker!.threadId).toBeGreaterThan(0);
    worker!.close();

    const scores = new Float32Array(rows * count);
    corpusKernels(corpus, count, d).scoreAll(queries, rows, scores);
    const expected = new Int32Array(rows * width).fill(-1);
    for (let q = 0; q < rows; q++) {
      const excluded = exclude.subarray(excludeStart[q], excludeStart[q + 1]);
      topK(scores, keep[q]!, expected.subarray(q * width, (q + 1) * width), undefined, q * count, count, (j) => excluded.includes(j));
    }
    expect([...fromWorker]).toEqual([...expected]);
    // Row 1 keeps 5 of 12 slots.
    expect(fromWorker[width + 4]).toBeGreaterThanOrEqual(0);
    expect(fromWorker[width + 5]).toBe(-1);
  });

  it("then scores ragged candidate lists exactly as the main thread's gatherDots does, until closed", async () => {
    const random = new SeededRandom(5);
    const [d, count] = [37, 203];
    const corpus = Float32Array.from({ length: count * d }, () => random.normal());
    const job = { queries: corpus.slice(0, 2 * d), rows: 2, keep: Int32Array.of(3, 3), exclude: new Int32Array(0), excludeStart: new Int32Array(3), width: 3, margin: 4 };
    const worker = startCorpusWorker(corpus, count, d, job)!;
    await worker.topK;
    // Lists of odd and even lengths, one the whole corpus.
    const lengths = [5, 8, count, 1];
    const start = new Int32Array(lengths.length + 1);
    lengths.forEach((n, i) => (start[i + 1] = start[i]! + n));
    const index = Int32Array.from({ length: start[lengths.length]! }, () => Math.floor(random.next() * count));
    worker.setLists(index, start);
    const kernels = corpusKernels(corpus, count, d);
    for (let round = 0; round < 2; round++) {
      const queries = Float32Array.from({ length: lengths.length * d }, () => random.normal());
      const scores = await worker.score(queries, lengths.length);
      const expected = new Float32Array(index.length);
      for (let i = 0; i < lengths.length; i++) {
        kernels.gatherDots(queries.subarray(i * d, (i + 1) * d), 1, index.subarray(start[i], start[i + 1]), lengths[i]!, expected.subarray(start[i], start[i + 1]));
      }
      expect([...scores]).toEqual([...expected]);
    }
    const late = worker.score(new Float32Array(lengths.length * d), lengths.length);
    worker.close();
    await expect(late).rejects.toThrow(/closed/);
    await expect(worker.score(new Float32Array(lengths.length * d), lengths.length)).rejects.toThrow(/closed/);
  });

  it("fails its promises, never the process, when its file cannot load (the caller then mines alone)", async () => {
    const corpus = new Float32Array(8 * 4).fill(0.5);
    const job = { queries: corpus.slice(0, 8), rows: 2, keep: Int32Array.of(1, 1), exclude: new Int32Array(0), excludeStart: new Int32Array(3), width: 1, margin: 1 };
    const worker = startCorpusWorker(corpus, 8, 4, job, { file: new URL("./no-such-corpus-worker.js", import.meta.url) });
    // Node starts the thread and then reports the missing module as an error event.
    expect(worker).not.toBeNull();
    await expect(worker!.topK).rejects.toThrow(/Cannot find module/);
    await expect(worker!.threadId).rejects.toThrow(/Cannot find module/);
  });
});
