import { threadId } from "node:worker_threads";
import { describe, expect, it } from "vitest";
import type { EngineProgress } from "./contract.js";
import type { FitJob } from "./fit-model.js";
import { runFit } from "./fit-thread.js";
import { normalizeRows } from "./kernels.js";
import { LocalDeepMemory, localDeepMemoryOptionsSchema } from "./local-deep-memory.js";
import { SeededRandom } from "./random.js";

function unitRows(rows: number, d: number, random: SeededRandom): Float32Array {
  const x = Float32Array.from({ length: rows * d }, () => random.normal());
  normalizeRows(x, rows, d);
  return x;
}

/**
 * Three questions per chunk for the first third of the chunks, each near a
 * random topic of its chunk's rather than near the chunk: no linear map
 * finds the chunks, a question memory does (so one is kept).
 */
function job(seed: number, d: number, chunks: number, questionCount: number, settings: Record<string, unknown> = {}): FitJob {
  const random = new SeededRandom(seed);
  const corpus = unitRows(chunks, d, random);
  const topics = unitRows(Math.ceil(questionCount / 3), d, random);
  const vectors = unitRows(questionCount, d, random);
  for (let q = 0; q < questionCount; q++) {
    for (let k = 0; k < d; k++) vectors[q * d + k] = 0.3 * vectors[q * d + k]! + topics[Math.floor(q / 3) * d + k]!;
  }
  normalizeRows(vectors, questionCount, d);
  const positiveStart = Int32Array.from({ length: questionCount + 1 }, (_, i) => i);
  const positiveIndex = Int32Array.from({ length: questionCount }, (_, q) => Math.floor(q / 3));
  const { trainInWorker: _, ...resolved } = localDeepMemoryOptionsSchema.parse({ maxEpochs: 2, ...settings });
  return { dimensions: d, corpus, corpusCount: chunks, questions: { vectors, count: questionCount, positiveIndex, positiveStart }, validation: null, seed, settings: resolved };
}

describe("runFit", { timeout: 60_000 }, () => {
  it("trains on a worker thread, and the same bytes, report and progress on the calling thread", async () => {
    // The second job is big enough (questions x chunks x d >= 3e9) that the worker starts a mining worker of its own.
    for (const fit of [job(1, 48, 600, 900), job(2, 256, 4000, 3000)]) {
      const progress: { worker: EngineProgress[]; caller: EngineProgress[] } = { worker: [], caller: [] };
      const onWorker = await runFit(fit, { inWorker: true, onProgress: (p) => progress.worker.push(p) });
      const onCaller = await runFit(fit, { inWorker: false, onProgress: (p) => progress.caller.push(p) });
      expect(onWorker.threadId).not.toBe(threadId);
      expect(onCaller.threadId).toBe(threadId);
      expect(onWorker.outcome.report.questionMemory).toBeDefined();
      expect(Buffer.from(onWorker.outcome.weights).equals(Buffer.from(onCaller.outcome.weights))).toBe(true);
      expect(onWorker.outcome.report).toEqual(onCaller.outcome.report);
      expect(progress.worker).toHaveLength(2);
      expect(progress.worker).toEqual(progress.caller);
    }
  });

  it("trains on the calling thread, to the same bytes, when the worker cannot start", async () => {
    const fit = job(3, 32, 300, 300);
    const missing = await runFit(fit, { inWorker: true, entry: { file: new URL("./no-such-fit-worker.js", import.meta.url) } });
    const broken = await runFit(fit, { inWorker: true, entry: { source: "throw new Error('cannot load')" } });
    const expected = await runFit(fit, { inWorker: false });
    for (const run of [missing, broken]) {
      expect(run.threadId).toBe(threadId);
      expect(Buffer.from(run.outcome.weights).equals(Buffer.from(expected.outcome.weights))).toBe(true);
    }
  });
});

describe("LocalDeepMemory.train and the caller's event loop", { timeout: 30_000 }, () => {
  it("leaves the calling thread free: its event loop keeps turning from the start of training to the first epoch", async () => {
    // Before training moved to a worker, everything up to the first epoch's
    // progress (packing, mining, the question basis, the first epoch: well
    // under 50 ms of batches here) ran in one synchronous stretch on this
    // thread, so a setImmediate loop made no turn in it at all. Now this
    // thread only waits; thousands of turns fit in the worker's start-up alone.
    const fit = job(4, 64, 2000, 1500);
    const corpus = Array.from({ length: fit.corpusCount }, (_, i) => fit.corpus.slice(i * 64, (i + 1) * 64));
    const queries = Array.from({ length: fit.questions.count }, (_, i) => fit.questions.vectors.slice(i * 64, (i + 1) * 64));
    const positives = Array.from(fit.questions.positiveIndex, (c) => [c]);
    let turns = 0;
    let spinning = true;
    const spin = () => {
      turns++;
      if (spinning) setImmediate(spin);
    };
    const turnsAtProgress: number[] = [];
    const started = turns;
    setImmediate(spin);
    await new LocalDeepMemory({ maxEpochs: 2 }).train({ dimensions: 64, queries, positives, corpus, seed: 4, onProgress: () => turnsAtProgress.push(turns) });
    spinning = false;
    expect(turnsAtProgress).toHaveLength(2);
    expect(turnsAtProgress[0]! - started).toBeGreaterThan(1000);
  });
});
