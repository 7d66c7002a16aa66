import { describe, expect, it } from "vitest";
import { AbortedError, DeepMemoryError, ValidationError } from "./errors.js";
import type { EngineProgress, EngineTrainInput, QueryTransform } from "./contract.js";
import { dot, normalizeRows, orthonormalizeRows } from "./kernels.js";
import { sampleCorpusRows } from "./corpus-sample.js";
import { LocalDeepMemory, type LocalDeepMemoryOptions } from "./local-deep-memory.js";
import { SeededRandom } from "./random.js";
import { ResidualTransform, residualFormat, residualMemoryFormat } from "./residual-transform.js";

function unit(v: Float32Array): Float32Array {
  normalizeRows(v, 1, v.length);
  return v;
}

function unitVector(random: SeededRandom, d: number): Float32Array {
  return unit(Float32Array.from({ length: d }, () => random.normal()));
}

function ranking(query: Float32Array, corpus: Float32Array[]): number[] {
  const scores = corpus.map((c) => dot(query, c));
  return [...scores.keys()].sort((a, b) => scores[b]! - scores[a]! || a - b);
}

function recallAt10(transform: (q: Float32Array) => Float32Array, queries: Float32Array[], answers: number[], corpus: Float32Array[]) {
  let hits = 0;
  queries.forEach((q, i) => {
    if (ranking(transform(q), corpus).slice(0, 10).includes(answers[i]!)) hits++;
  });
  return hits / queries.length;
}

/**
 * Questions are a hidden rotation of their chunk plus noise, so plain cosine
 * search barely finds them and the right transform (the inverse rotation) is
 * known to exist. Held-out questions are about chunks never trained on.
 */
function rotatedWorld(seed: number, d = 32, chunks = 300) {
  const random = new SeededRandom(seed);
  const corpus = Array.from({ length: chunks }, () => unitVector(random, d));
  const rotation = Float32Array.from({ length: d * d }, () => random.normal());
  orthonormalizeRows(rotation, d, d, () => {
    throw new Error("random matrix was singular");
  });
  const ask = (chunk: number) => {
    const q = new Float32Array(d);
    for (let i = 0; i < d; i++) q[i] = dot(rotation, corpus[chunk]!, d, i * d, 0) + 0.15 * random.normal() / Math.sqrt(d);
    return unit(q);
  };
  const trainChunks = Array.from({ length: 200 }, (_, i) => i);
  const input: EngineTrainInput = {
    dimensions: d,
    queries: trainChunks.flatMap((c) => [ask(c), ask(c)]),
    positives: trainChunks.flatMap((c) => [[c], [c]]),
    corpus,
    seed: 7,
  };
  const heldOutChunks = Array.from({ length: chunks - 200 }, (_, i) => 200 + i);
  return { input, corpus, heldOutQueries: heldOutChunks.map(ask), heldOutAnswers: heldOutChunks };
}

const fastOptions = { rank: 32, maxEpochs: 25, learningRate: 0.01, batchSize: 64, patience: 5 } as const;

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

  it("stops on a plateau of the validation loss (minImprovement) and keeps the epoch with the lowest loss", async () => {
    const world = rotatedWorld(6);
    const run = async (minImprovement: number) => {
      const losses: number[] = [];
      const model = await new LocalDeepMemory({ ...fastOptions, learningRate: 0.002, maxEpochs: 60, patience: 3, minImprovement }).train({
        ...world.input,
        onProgress: (p) => losses.push((p as EngineProgress & { validationLoss: number }).validationLoss),
      });
      return { model, losses };
    };
    const patient = await run(0);
    const brisk = await run(0.05);
    expect(brisk.model.report.epochs).toBeLessThan(patient.model.report.epochs);
    // Same seed, same trajectory: stopping early only cuts it short.
    expect(brisk.losses).toEqual(patient.losses.slice(0, brisk.losses.length));
    // The last three epochs each failed to get 5% below the last epoch that did.
    const lastProgress = brisk.losses.length - 4;
    for (const loss of brisk.losses.slice(-3)) expect(loss).toBeGreaterThanOrEqual(brisk.losses[lastProgress]! * 0.95);
    const lowest = Math.min(...brisk.losses);
    expect(brisk.model.report.bestEpoch).toBe(brisk.losses.indexOf(lowest) + 1);
  });

  it("throws AbortedError when aborted before or during training", async () => {
    const world = rotatedWorld(7);
    const engine = new LocalDeepMemory(fastOptions);
    const before = new AbortController();
    before.abort();
    await expect(engine.train({ ...world.input, signal: before.signal })).rejects.toBeInstanceOf(AbortedError);

    const during = new AbortController();
    const epochs: number[] = [];
    const training = engine.train({
      ...world.input,
      signal: during.signal,
      onProgress: (p) => {
        epochs.push(p.epoch);
        during.abort();
      },
    });
    await expect(training).rejects.toMatchObject({ code: "ABORTED" });
    expect(epochs).toEqual([1]);
  });

  it("sees an abort raised by a timer while it trains", async () => {
    const world = rotatedWorld(8);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 5);
    const started = performance.now();
    await expect(
      new LocalDeepMemory({ ...fastOptions, maxEpochs: 10_000, patience: 10_000 }).train({ ...world.input, signal: controller.signal }),
    ).rejects.toBeInstanceOf(AbortedError);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it("chooses on caller-held validation questions without training on them or remembering them", async () => {
    // Two questions per chunk near a random topic of its own (no linear map finds the chunk, a memory does):
    // the first of each pair to train on, the second held back by the caller.
    const random = new SeededRandom(16);
    const d = 32;
    const corpus = Array.from({ length: 300 }, () => unitVector(random, d));
    const topics = Array.from({ length: 200 }, () => unitVector(random, d));
    const ask = (c: number) => unit(Float32Array.from(topics[c]!, (x) => x + (0.3 * random.normal()) / Math.sqrt(d)));
    const input = { dimensions: d, corpus, seed: 7, queries: topics.map((_, c) => ask(c)), positives: topics.map((_, c) => [c]) };
    const validation = { queries: topics.map((_, c) => ask(c)), positives: topics.map((_, c) => [c]) };
    const engine = new LocalDeepMemory({ ...fastOptions, maxEpochs: 4, memoryWeights: [0.25, 0.5, 1], memoryMinGain: 0 });
    const model = await engine.train({ ...input, validation });
    expect(model.report.trainQueries).toBe(200);
    expect(model.report.validationQueries).toBe(200);
    // Remembered: the 200 training questions only, where a carved split joins the memory once its weight is chosen.
    expect(model.report.questionMemory?.keys).toBe(200);
    const carved = await engine.train({ ...input, queries: [...input.queries, ...validation.queries], positives: [...input.positives, ...validation.positives] });
    expect(carved.report.trainQueries + carved.report.validationQueries).toBe(400);
    expect(carved.report.questionMemory?.keys).toBe(400);
    // Other validation questions, other choices: the epochs are judged on them.
    const progress = async (v: typeof validation) => {
      const seen: number[] = [];
      await engine.train({ ...input, validation: v, onProgress: (p) => seen.push(p.validationRecallAt10) });
      return seen;
    };
    expect(await progress(validation)).not.toEqual(await progress({ queries: validation.queries.slice(0, 20), positives: validation.positives.slice(0, 20) }));
    await expect(engine.train({ ...input, validation: { queries: validation.queries, positives: validation.positives.map(() => []) } })).rejects.toBeInstanceOf(ValidationError);
    await expect(engine.train({ ...input, validation: { queries: validation.queries, positives: validation.positives.map(() => [999]) } })).rejects.toMatchObject({
      code: "VALIDATION_FAILED",
      issues: expect.arrayContaining([expect.objectContaining({ path: "validation.positives.0" })]),
    });
  });

  it("refits on the carved validation questions too once the epoch count is chosen, never on caller-held ones", async () => {
    const world = rotatedWorld(17);
    const options = { ...fastOptions, maxEpochs: 6 };
    const once = await new LocalDeepMemory({ ...options, refitMaxQuestions: 0 }).train(world.input);
    const refitEngine = new LocalDeepMemory(options);
    const refit = await refitEngine.train(world.input);
    // Same choices (epochs, validation figures), other weights: the map saw the validation questions too.
    expect({ ...refit.report, wallMs: 0 }).toEqual({ ...once.report, wallMs: 0 });
    expect(refit.report.bestEpoch).toBeGreaterThan(0);
    expect(Buffer.from(refit.weights).equals(Buffer.from(once.weights))).toBe(false);
    const transform = refitEngine.load(refit);
    const baseline = recallAt10((q) => q, world.heldOutQueries, world.heldOutAnswers, world.corpus);
    expect(recallAt10((q) => transform.apply(q), world.heldOutQueries, world.heldOutAnswers, world.corpus)).toBeGreaterThan(baseline + 0.5);

    const validation = { queries: world.input.queries.slice(0, 60), positives: world.input.positives.slice(0, 60) };
    const input = { ...world.input, queries: world.input.queries.slice(60), positives: world.input.positives.slice(60), validation };
    const held = await new LocalDeepMemory({ ...options, refitMaxQuestions: 0 }).train(input);
    const heldRefit = await refitEngine.train(input);
    expect(Buffer.from(heldRefit.weights).equals(Buffer.from(held.weights))).toBe(true);
    // Above refitMaxQuestions (400 questions here) no second pass either.
    const capped = await new LocalDeepMemory({ ...options, refitMaxQuestions: 399 }).train(world.input);
    expect(Buffer.from(capped.weights).equals(Buffer.from(once.weights))).toBe(true);
  });

  it("on a corpus above corpusSample, trains on every answer plus a sample and reads no other chunk", async () => {
    // 3,000 chunks, 1,000 sampled: the 200 answers and about 800 others. Rows outside the sample are then replaced
    // by other vectors: a model that read any of them (mining, validation) would change.
    const { input, corpus, heldOutQueries, heldOutAnswers } = rotatedWorld(11, 32, 3000);
    const options = { ...fastOptions, corpusSample: 1000 };
    const sample = sampleCorpusRows(corpus.length, input.positives.flat(), 1000, input.seed)!;
    expect(sample.rows.length).toBeGreaterThan(900);
    expect(sample.rows.length).toBeLessThan(1100);
    for (const list of input.positives) for (const row of list) expect(sample.position[row]).toBeGreaterThanOrEqual(0);
    const model = await new LocalDeepMemory(options).train(input);
    const random = new SeededRandom(99);
    const changed = corpus.map((v, row) => (sample.position[row]! >= 0 ? v : unitVector(random, 32)));
    const again = await new LocalDeepMemory(options).train({ ...input, corpus: changed });
    expect(again.weights).toEqual(model.weights);
    // Still learns the distortion, judged against the whole corpus.
    const transform = new LocalDeepMemory(options).load(model);
    const before = recallAt10((q) => q, heldOutQueries.slice(0, 200), heldOutAnswers.slice(0, 200), corpus);
    const after = recallAt10((q) => transform.apply(q), heldOutQueries.slice(0, 200), heldOutAnswers.slice(0, 200), corpus);
    expect(after).toBeGreaterThan(before + 0.2);
    // Below the threshold nothing is sampled: the corpus is read whole.
    expect(sampleCorpusRows(1000, [1, 2], 1000, 7)).toBeNull();
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

describe("LocalDeepMemory models", { timeout: 30_000 }, () => {
  async function trained(): Promise<{ engine: LocalDeepMemory; transform: QueryTransform; model: Awaited<ReturnType<LocalDeepMemory["train"]>> }> {
    const world = rotatedWorld(10);
    const engine = new LocalDeepMemory({ ...fastOptions, maxEpochs: 3 });
    const model = await engine.train(world.input);
    return { engine, model, transform: engine.load(model) };
  }

  it("an untrained (zero) correction ranks exactly like the raw query, whatever its basis", () => {
    const random = new SeededRandom(11);
    const d = 24;
    const r = 6;
    const vt = Float32Array.from({ length: r * d }, () => random.normal());
    const corpus = Array.from({ length: 500 }, () => unitVector(random, d));
    for (const simd of [true, false]) {
      const identity = new ResidualTransform(d, r, new Float32Array(d * r), vt, { simd });
      for (let i = 0; i < 20; i++) {
        const q = unitVector(random, d);
        const out = identity.apply(q);
        expect([...out]).toEqual([...q]);
        expect(ranking(out, corpus)).toEqual(ranking(q, corpus));
      }
    }
  });

  it("applies the same transform with and without WebAssembly SIMD, at sizes that need padding", () => {
    const random = new SeededRandom(14);
    for (const [d, r] of [
      [32, 32],
      [37, 5],
      [384, 128],
    ] as const) {
      const u = Float32Array.from({ length: d * r }, () => 0.1 * random.normal());
      const vt = Float32Array.from({ length: r * d }, () => random.normal() / Math.sqrt(d));
      const simd = new ResidualTransform(d, r, u, vt);
      const js = new ResidualTransform(d, r, u, vt, { simd: false });
      for (let i = 0; i < 5; i++) {
        const q = unitVector(random, d);
        const a = simd.apply(q);
        const b = js.apply(q);
        for (let k = 0; k < d; k++) expect(a[k]!).toBeCloseTo(b[k]!, 5);
      }
    }
  });

  it("apply returns a new unit vector and leaves its input alone", async () => {
    const { transform } = await trained();
    const random = new SeededRandom(12);
    for (let i = 0; i < 10; i++) {
      const q = unitVector(random, 32);
      const copy = Float32Array.from(q);
      const out = transform.apply(q);
      expect(out).not.toBe(q);
      expect([...q]).toEqual([...copy]);
      expect(Math.sqrt(dot(out, out))).toBeCloseTo(1, 5);
    }
    expect(() => transform.apply(new Float32Array(31))).toThrow(ValidationError);
  });

  it("round-trips through its weights: the loaded transform equals the trained one", async () => {
    const { engine, model, transform } = await trained();
    const original = ResidualTransform.fromBytes(model);
    const rebuilt = ResidualTransform.fromBytes({ ...model, weights: original.toBytes() });
    expect([...rebuilt.u]).toEqual([...original.u]);
    expect([...rebuilt.vt]).toEqual([...original.vt]);
    // Weights stored at an odd offset inside a bigger buffer (as a database driver may hand them back).
    const shifted = new Uint8Array(model.weights.byteLength + 3);
    shifted.set(model.weights, 3);
    const reloaded = engine.load({ ...model, weights: shifted.subarray(3) });
    const random = new SeededRandom(13);
    for (let i = 0; i < 5; i++) {
      const q = unitVector(random, 32);
      expect([...reloaded.apply(q)]).toEqual([...transform.apply(q)]);
    }
    expect(original.toBytes()).toEqual(model.weights);
  });

  it("refuses foreign formats, wrong sizes and damaged weights with a ValidationError", async () => {
    const { engine, model } = await trained();
    const corrupt = (edit: (bytes: Uint8Array, view: DataView) => void) => {
      const bytes = Uint8Array.from(model.weights);
      edit(bytes, new DataView(bytes.buffer));
      return { ...model, weights: bytes };
    };
    const attempts = [
      { ...model, format: "activeloop/v1" },
      { ...model, dimensions: 64 },
      { ...model, weights: model.weights.subarray(0, model.weights.byteLength - 4) },
      { ...model, weights: new Uint8Array(4) },
      corrupt((b) => b.set([0, 0, 0, 0], 0)),
      corrupt((_, v) => v.setUint16(4, model.format === residualFormat ? 2 : 1, true)),
      corrupt((_, v) => v.setUint16(4, 3, true)),
      corrupt((_, v) => v.setUint32(12, 0, true)),
      corrupt((_, v) => v.setFloat32(20, Number.NaN, true)),
    ];
    for (const attempt of attempts) {
      let thrown: unknown;
      try {
        engine.load(attempt);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(ValidationError);
      expect(DeepMemoryError.isInstance(thrown) && thrown.code).toBe("VALIDATION_FAILED");
    }
  });
});
