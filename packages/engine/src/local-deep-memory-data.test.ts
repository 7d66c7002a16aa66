import { describe, expect, it } from "vitest";
import { ValidationError } from "./errors.js";
import { sampleCorpusRows } from "./corpus-sample.js";
import { LocalDeepMemory } from "./local-deep-memory.js";
import { fastOptions, recallAt10, rotatedWorld, topicWorld, unitVector } from "./local-deep-memory.test-support.js";
import { SeededRandom } from "./random.js";

/** What a training reads: caller-held validation questions, the refit on carved ones, a corpus sample. */
describe("LocalDeepMemory training data", { timeout: 30_000 }, () => {
  it("chooses on caller-held validation questions without training on them or remembering them", async () => {
    // Two questions per chunk near a random topic of its own (no linear map finds the chunk, a memory does):
    // the first of each pair to train on, the second held back by the caller.
    const { d, corpus, topics, ask } = topicWorld(16);
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

  it("learns only the question memory, the map kept the identity, from questions copied from their chunks", async () => {
    // Two questions per chunk near a random topic of its own: a memory finds the chunk, a map cannot.
    const { d, corpus, topics, ask } = topicWorld(18);
    const input = { dimensions: d, corpus, seed: 7, queries: topics.flatMap((_, c) => [ask(c), ask(c)]), positives: topics.flatMap((_, c) => [[c], [c]]) };
    const engine = new LocalDeepMemory({ ...fastOptions, memoryWeights: [0.25, 0.5, 1], memoryMinGain: 0 });
    const model = await engine.train({ ...input, copiedQuestions: true });
    expect(model.report).toMatchObject({ epochs: 0, bestEpoch: 0 });
    expect(model.report.questionMemory?.keys).toBe(400);
    expect((await engine.train(input)).report.epochs).toBeGreaterThan(0);
    // Without a memory to keep, nothing is learned: every query is searched as it is.
    const mapOnly = new LocalDeepMemory({ ...fastOptions, memoryWeights: [] });
    const identity = mapOnly.load(await mapOnly.train({ ...input, copiedQuestions: true }));
    for (const q of input.queries.slice(0, 20)) {
      const out = identity.apply(q);
      expect(Math.max(...out.map((x, i) => Math.abs(x - q[i]!)))).toBeLessThan(1e-5);
    }
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

});
