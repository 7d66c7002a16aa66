import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalDeepMemory } from "@zip/deep-memory-engine";
import { InMemoryTrainingStore } from "../adapters/training-store/in-memory-training-store.js";
import { InMemoryVectorStore } from "../adapters/vector-store/in-memory-vector-store.js";
import { DeepMemoryError } from "../errors/errors.js";
import { ScriptedGenerator, syntheticCorpus } from "../test-utils/synthetic.js";
import { DeepMemoryTrainer } from "./deep-memory-trainer.js";

const userId = "user-a";
const corpus = syntheticCorpus({ chunks: 60, dims: 24, seed: 11 });
const vectorStore = new InMemoryVectorStore(corpus.documents);
let trainer: DeepMemoryTrainer;
let modelRunId: string;

beforeAll(async () => {
  trainer = new DeepMemoryTrainer({
    vectorStore,
    store: new InMemoryTrainingStore(),
    embedder: corpus.embedder,
    generator: new ScriptedGenerator(corpus.questionFor),
    engine: new LocalDeepMemory(),
    options: { questionsPerChunk: 5, concurrency: 4 },
  });
  const { jobId, runId } = await trainer.generate({ userId });
  await trainer.waitForJob({ userId, jobId });
  const training = await trainer.train({ userId, runId });
  expect(await trainer.waitForJob({ userId, jobId: training.jobId })).toMatchObject({ type: "completed" });
  modelRunId = runId;
});
afterAll(() => trainer.close());

async function queryVector(text: string): Promise<Float32Array> {
  const [v] = await corpus.embedder.embed([text]);
  // Scaled: hosts' embeddings need not be unit length.
  return v!.map((x) => x * 3);
}

describe("getQueryTransform", () => {
  it("follows the user's toggle, and 'on' gives the model even while it is off", async () => {
    await trainer.updateSettings({ userId, enabled: false });
    expect(await trainer.getQueryTransform({ userId })).toEqual({ transform: null, modelRunId: null, reason: "deep memory is disabled for this user" });
    const forced = await trainer.getQueryTransform({ userId, deepMemory: "on" });
    expect(forced).toMatchObject({ modelRunId, reason: null });
    expect(forced.transform?.dimensions).toBe(24);

    await trainer.updateSettings({ userId, enabled: true });
    expect((await trainer.getQueryTransform({ userId })).transform).not.toBeNull();
  });

  it("says why when the user has no model", async () => {
    const none = await trainer.getQueryTransform({ userId: "newcomer", deepMemory: "on" });
    expect(none.transform).toBeNull();
    expect(none.reason).toMatch(/no trained deep memory/);
  });
});

describe("applyDeepMemory", () => {
  it("gives the vector trainer.search searches with, so a host's own search ranks the same", async () => {
    await trainer.updateSettings({ userId, enabled: true });
    for (const chunk of ["chunk-0005", "chunk-0031"]) {
      const query = corpus.questionFor(chunk, 9);
      const applied = await trainer.applyDeepMemory({ userId, embedding: await queryVector(query) });
      expect(applied.deepMemory).toEqual({ used: true, modelRunId, reason: null });
      const own = await vectorStore.search({ userId, embedding: applied.embedding, k: 10 });
      const viaTrainer = await trainer.search({ userId, query, k: 10 });
      expect(own.map((h) => h.id)).toEqual(viaTrainer.hits.map((h) => h.id));
      expect(Math.hypot(...applied.embedding)).toBeCloseTo(1, 5);
    }
  });

  it("returns the input unchanged, with the reason, when deep memory does not apply", async () => {
    const input = await queryVector("anything");
    const off = await trainer.applyDeepMemory({ userId, embedding: Array.from(input), deepMemory: "off" });
    expect(Array.from(off.embedding)).toEqual(Array.from(input));
    expect(off.deepMemory).toMatchObject({ used: false, reason: "deep memory was turned off for this search" });

    const wrongSize = await trainer.applyDeepMemory({ userId, embedding: new Float32Array(16).fill(0.25) });
    expect(wrongSize.deepMemory.used).toBe(false);
    expect(wrongSize.deepMemory.reason).toMatch(/transforms 24-dimensional queries, but this query has 16 dimensions/);
    expect(Array.from(wrongSize.embedding)).toEqual(new Array(16).fill(0.25));
  });

  it("refuses vectors that are empty or not finite with VALIDATION_FAILED", async () => {
    for (const embedding of [[], [1, Number.NaN], new Float32Array([Infinity]), "0.1,0.2"]) {
      const error = await trainer.applyDeepMemory({ userId, embedding: embedding as number[] }).catch((e: unknown) => e);
      expect(DeepMemoryError.isInstance(error) && error.code).toBe("VALIDATION_FAILED");
    }
  });
});
