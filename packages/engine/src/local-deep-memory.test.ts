import { describe, expect, it } from "vitest";
import { ValidationError } from "./errors.js";
import type { EngineProgress, EngineTrainInput } from "./contract.js";
import { dot } from "./kernels.js";
import { LocalDeepMemory, type LocalDeepMemoryOptions } from "./local-deep-memory.js";
import { fastOptions, recallAt10, rotatedWorld, unit, unitVector } from "./local-deep-memory.test-support.js";
import { SeededRandom } from "./random.js";
import { residualFormat, residualMemoryFormat } from "./residual-transform.js";

// Trainings take a few seconds each on a loaded 2-core machine (a worker thread starts for each).
describe("LocalDeepMemory training", { timeout: 30_000 }, () => {
  it("learns a hidden linear distortion and raises held-out recall@10 on unseen chunks", async () => {
    const world = rotatedWorld(1);
    const engine = new LocalDeepMemory(fastOptions);
    const model = await engine.train(world.input);
    const transform = engine.load(model);
    const baseline = recallAt10((q) => q, world.heldOutQueries, world.heldOutAnswers, world.corpus);
    const trained = recallAt10((q) => transform.apply(q), world.heldOutQueries, world.heldOutAnswers, world.corpus);
    expect(baseline).toBeLessThan(0.2);
    expect(trained).toBeGreaterThan(baseline + 0.5);
    expect(model.report.validationRecallAt10).toBeGreaterThan(model.report.baselineValidationRecallAt10);
    expect(model.report.bestEpoch).toBeGreaterThan(0);
  });

  it("reports what it did (the core checks the shape against its schema: engine-package.test.ts there)", async () => {
    const world = rotatedWorld(2);
    const model = await new LocalDeepMemory({ ...fastOptions, maxEpochs: 3, validationFraction: 0.2 }).train(world.input);
    // The question memory is kept only where it beat the learned map alone on validation.
    expect(model.format).toBe(model.report.questionMemory ? residualMemoryFormat : residualFormat);
    expect(model.dimensions).toBe(32);
    expect(model.report.engine).toBe("local-residual-linear");
    expect(model.report.trainQueries + model.report.validationQueries).toBe(400);
    expect(model.report.validationQueries).toBe(80);
    expect(model.report.epochs).toBeLessThanOrEqual(3);
    expect(model.report.bestEpoch).toBeLessThanOrEqual(model.report.epochs);
  });

  it("does not treat other answers of the same question, or other questions about the same chunk, as negatives", async () => {
    // Each question sits between its two answer chunks, and every chunk has
    // three questions. With one batch holding all of them, a loss that used
    // a question's second answer (or a same-chunk question's duplicate
    // column) as a negative could not go below log 2 = 0.69.
    const random = new SeededRandom(3);
    const d = 64;
    const corpus = Array.from({ length: 200 }, () => unitVector(random, d));
    const queries: Float32Array[] = [];
    const positives: number[][] = [];
    for (let pair = 0; pair < 40; pair++) {
      const a = 2 * pair;
      const b = 2 * pair + 1;
      for (let copy = 0; copy < 3; copy++) {
        const q = Float32Array.from({ length: d }, (_, k) => corpus[a]![k]! + corpus[b]![k]! + 0.05 * random.normal());
        queries.push(unit(q));
        positives.push(copy === 2 ? [b, a, b] : [a, b]);
      }
    }
    const losses: number[] = [];
    await new LocalDeepMemory({ rank: 8, maxEpochs: 2, patience: 5, batchSize: 1024, hardNegatives: 8 }).train({
      dimensions: d,
      queries,
      positives,
      corpus,
      seed: 1,
      onProgress: (p) => losses.push(p.loss),
    });
    expect(losses).toHaveLength(2);
    for (const loss of losses) expect(loss).toBeLessThan(0.2);
  });

  it("keeps the identity when nothing beats plain search on validation, so the model ranks exactly like it", async () => {
    const random = new SeededRandom(4);
    const d = 16;
    const corpus = Array.from({ length: 50 }, () => unitVector(random, d));
    // Every question is its chunk: plain search is already perfect.
    const model = await new LocalDeepMemory({ rank: 8, maxEpochs: 3 }).train({
      dimensions: d,
      queries: corpus.map((c) => Float32Array.from(c)),
      positives: corpus.map((_, i) => [i]),
      corpus,
      seed: 1,
    });
    expect(model.report.bestEpoch).toBe(0);
    expect(model.report.validationRecallAt10).toBe(model.report.baselineValidationRecallAt10);
    const transform = new LocalDeepMemory().load(model);
    for (const c of corpus) expect([...transform.apply(c)]).toEqual([...c]);
  });

  it("is deterministic for a seed and differs across seeds", async () => {
    const world = rotatedWorld(5);
    const options = { ...fastOptions, maxEpochs: 3 };
    const a = await new LocalDeepMemory(options).train(world.input);
    const b = await new LocalDeepMemory(options).train(world.input);
    const c = await new LocalDeepMemory(options).train({ ...world.input, seed: 8 });
    expect(Buffer.from(a.weights).equals(Buffer.from(b.weights))).toBe(true);
    expect({ ...a.report, wallMs: 0 }).toEqual({ ...b.report, wallMs: 0 });
    expect(Buffer.from(a.weights).equals(Buffer.from(c.weights))).toBe(false);
  });

  it("trains the same model with and without a mining worker thread", async () => {
    // Big enough (rows x chunks x d) that mining hands half the questions to a worker.
    const random = new SeededRandom(11);
    const d = 256;
    const corpus = Array.from({ length: 4000 }, () => unitVector(random, d));
    const queries = corpus.slice(0, 3000).map((c) => unit(c.map((x) => x + (0.2 * random.normal()) / Math.sqrt(d))));
    const input: EngineTrainInput = { dimensions: d, queries, positives: queries.map((_, i) => [i]), corpus, seed: 3 };
    // Per-epoch losses see every mined negative and validation candidate, even when the identity wins.
    const run = async (workers: boolean, options: LocalDeepMemoryOptions) => {
      const progress: EngineProgress[] = [];
      const model = await new LocalDeepMemory({ ...fastOptions, ...options, workers }).train({ ...input, onProgress: (p) => progress.push(p) });
      return { model, progress };
    };
    // The worker also scores validation while the next epoch trains; a plateau found that way must stop at the same epoch.
    for (const [options, epochs] of [
      [{ maxEpochs: 2 }, 2],
      [{ maxEpochs: 6, patience: 1, minImprovement: 0.5 }, 1],
    ] as const) {
      const threaded = await run(true, options);
      const single = await run(false, options);
      expect(threaded.progress).toHaveLength(epochs);
      expect(threaded.progress).toEqual(single.progress);
      expect(Buffer.from(threaded.model.weights).equals(Buffer.from(single.model.weights))).toBe(true);
      expect({ ...threaded.model.report, wallMs: 0 }).toEqual({ ...single.model.report, wallMs: 0 });
    }
  });

  it("calls onProgress once per epoch with increasing epoch numbers", async () => {
    const world = rotatedWorld(6);
    const seen: EngineProgress[] = [];
    const model = await new LocalDeepMemory({ ...fastOptions, maxEpochs: 4, patience: 10 }).train({
      ...world.input,
      onProgress: (p) => seen.push(p),
    });
    expect(seen.map((p) => p.epoch)).toEqual([1, 2, 3, 4]);
    expect(model.report.epochs).toBe(4);
    for (const p of seen) {
      expect(p.epochs).toBe(4);
      expect(p.loss).toBeGreaterThan(0);
      expect(p.validationRecallAt10).toBeGreaterThanOrEqual(0);
      expect(p.validationRecallAt10).toBeLessThanOrEqual(1);
    }
  });

  it("trains on tiny inputs with odd sizes: two questions, three chunks, five dimensions", async () => {
    const random = new SeededRandom(15);
    const corpus = Array.from({ length: 3 }, () => unitVector(random, 5));
    const engine = new LocalDeepMemory({ rank: 64, maxEpochs: 2 });
    const model = await engine.train({ dimensions: 5, queries: [corpus[0]!, corpus[2]!], positives: [[0], [2, 2]], corpus, seed: 3 });
    expect(model.report.trainQueries).toBe(1);
    expect(model.report.validationQueries).toBe(1);
    const out = engine.load(model).apply(corpus[1]!);
    expect(out).toHaveLength(5);
    expect(Math.sqrt(dot(out, out))).toBeCloseTo(1, 5);
  });

  it("rejects malformed training input with a ValidationError", async () => {
    const world = rotatedWorld(9);
    const engine = new LocalDeepMemory(fastOptions);
    await expect(engine.train({ ...world.input, positives: world.input.positives.map(() => [999]) })).rejects.toBeInstanceOf(
      ValidationError,
    );
    await expect(engine.train({ ...world.input, dimensions: 31 })).rejects.toBeInstanceOf(ValidationError);
    await expect(
      engine.train({ ...world.input, queries: world.input.queries.slice(0, 1), positives: world.input.positives.slice(0, 1) }),
    ).rejects.toBeInstanceOf(ValidationError);
  });

  it("validates its options", () => {
    expect(() => new LocalDeepMemory({ learningRate: -1 })).toThrow(ValidationError);
    expect(() => new LocalDeepMemory({ rank: 0 })).toThrow(ValidationError);
    expect(() => new LocalDeepMemory({ validationFraction: 1 })).toThrow(ValidationError);
    expect(() => new LocalDeepMemory({ unknown: 1 } as never)).toThrow(ValidationError);
    expect(new LocalDeepMemory().options.rank).toBeGreaterThan(0);
  });
});
