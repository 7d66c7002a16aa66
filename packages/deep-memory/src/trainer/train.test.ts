import { describe, expect, it } from "vitest";
import { LocalDeepMemory } from "@zip/deep-memory-engine";
import { InMemoryTrainingStore } from "../adapters/training-store/in-memory-training-store.js";
import { InMemoryVectorStore } from "../adapters/vector-store/in-memory-vector-store.js";
import type { JobEvent } from "../events/events.js";
import type { DeepMemoryEngine } from "../ports/deep-memory-engine.js";
import type { Embedder } from "../ports/embedder.js";
import type { VectorStore } from "../ports/vector-store.js";
import { identityEngine } from "../test-utils/engines.js";
import { syntheticTrainer } from "../test-utils/synthetic-trainer.js";
import { ScriptedGenerator, syntheticCorpus } from "../test-utils/synthetic.js";
import { DeepMemoryTrainer } from "./deep-memory-trainer.js";
import { defaultHybridFusion } from "../retrieval/fusion.js";
import { guardrailVerdict } from "./training.js";
import type { TrainerOptions } from "./options.js";

const userId = "user-a";

function setup(opts: { chunks?: number; engine?: DeepMemoryEngine; embedder?: Embedder; options?: TrainerOptions } = {}) {
  const corpus = syntheticCorpus({ chunks: opts.chunks ?? 60, dims: 24, seed: 11 });
  const vectorStore = new InMemoryVectorStore(corpus.documents);
  const store = new InMemoryTrainingStore();
  const trainer = syntheticTrainer(corpus, {
    vectorStore,
    store,
    ...(opts.embedder ? { embedder: opts.embedder } : {}),
    engine: opts.engine ?? new LocalDeepMemory(),
    options: { questionsPerChunk: 5, concurrency: 4, ...opts.options },
  });
  return { corpus, vectorStore, store, trainer };
}

async function generated(trainer: DeepMemoryTrainer) {
  const { jobId, runId } = await trainer.generate({ userId });
  expect(await trainer.waitForJob({ userId, jobId })).toMatchObject({ type: "completed" });
  return runId;
}


describe("train", () => {
  it("trains on generated pairs, beats plain search on held-out questions, and stores model, metrics and settings", async () => {
    const { trainer, store } = setup();
    const runId = await generated(trainer);
    const events: JobEvent[] = [];
    trainer.on("event", (e) => events.push(e));
    const { jobId } = await trainer.train({ userId, runId });
    expect((await store.getRun(userId, runId))?.status).toBe("training");
    const done = await trainer.waitForJob({ userId, jobId });
    expect(done.type).toBe("completed");

    const run = await store.getRun(userId, runId);
    expect(run?.status).toBe("completed");
    expect(run?.completedAt).toBeInstanceOf(Date);
    const metrics = run!.metrics!;
    expect(metrics.verdict).toBe("improved");
    expect(metrics.heldOutPairs).toBeGreaterThan(10);
    expect(metrics.trainPairs + metrics.heldOutPairs).toBe(300);
    expect(Object.keys(metrics.heldOut.withModel)).toEqual(
      expect.arrayContaining(["recall@1", "recall@3", "recall@5", "recall@10", "recall@50", "recall@100", "ndcg@10", "mrr@10"]),
    );
    const before = metrics.heldOut.withoutModel["recall@10"]!;
    const after = metrics.heldOut.withModel["recall@10"]!;
    expect(after).toBeGreaterThan(before + 0.2);
    expect(metrics.recallAt10Gain).toBeCloseTo(after - before, 10);

    const model = await store.getModel(userId, runId);
    expect(model).toMatchObject({ dimensions: 24, embeddingModel: "synthetic-embedder", engine: new LocalDeepMemory().name });
    expect(model!.weights.byteLength).toBeGreaterThan(0);
    const settings = await trainer.getSettings({ userId });
    expect(settings).toMatchObject({ lastTrainingRunId: runId, modelRunId: runId, canEnable: true, enabled: false, newChunksSinceLastTraining: 0 });
    expect(settings.lastTrainedAt).toBeInstanceOf(Date);

    const phases = events.filter((e) => e.jobId === jobId && e.type === "progress").map((e) => (e.type === "progress" ? e.phase : ""));
    expect(new Set(phases)).toEqual(new Set(["embedding", "training", "evaluating"]));
    const percents = events.filter((e) => e.jobId === jobId && e.type === "progress").map((e) => (e.type === "progress" ? e.percent : 0));
    expect(percents).toEqual([...percents].sort((a, b) => a - b));
  });

  it("search applies deep memory only when the user enabled it, and finds the right chunk more often", async () => {
    const { trainer, corpus, store } = setup();
    const runId = await generated(trainer);
    await trainer.waitForJob({ userId, jobId: (await trainer.train({ userId, runId })).jobId });

    // Fresh wordings the trainer never saw.
    const probes = Array.from({ length: 60 }, (_, i) => ({ id: `chunk-${String(i).padStart(4, "0")}`, q: corpus.questionFor(`chunk-${String(i).padStart(4, "0")}`, 9) }));
    const hitRate = async () => {
      let hits = 0;
      for (const p of probes) if ((await trainer.search({ userId, query: p.q, k: 5 })).hits.some((h) => h.id === p.id)) hits++;
      return hits / probes.length;
    };
    const off = await trainer.search({ userId, query: probes[0]!.q, k: 5 });
    // Without deep memory: plain search is hybrid (the store has keyword search) with the default fusion.
    expect(off.deepMemory).toEqual({ used: false, modelRunId: null, reason: expect.stringContaining("disabled"), fusion: defaultHybridFusion });
    const baseline = await hitRate();

    await trainer.updateSettings({ userId, enabled: true });
    const on = await trainer.search({ userId, query: probes[0]!.q, k: 5 });
    const stored = (await store.getRun(userId, runId))!.metrics!.retrieval!;
    expect(on.deepMemory).toEqual({ used: true, modelRunId: runId, reason: null, fusion: stored.withModel });
    expect(await hitRate()).toBeGreaterThan(baseline + 0.2);

    const compared = await trainer.compareSearch({ userId, query: probes[1]!.q, k: 5 });
    expect(compared.modelRunId).toBe(runId);
    expect(compared.withDeepMemory).toHaveLength(5);
    expect(compared.withoutDeepMemory).toHaveLength(5);

    await trainer.updateSettings({ userId, enabled: false });
    expect((await trainer.search({ userId, query: probes[0]!.q })).deepMemory.used).toBe(false);
  });

  it("evaluate returns recall@k with and without deep memory in Activeloop's shape", async () => {
    const { trainer, corpus } = setup();
    const runId = await generated(trainer);
    await trainer.waitForJob({ userId, jobId: (await trainer.train({ userId, runId })).jobId });
    const ids = ["chunk-0001", "chunk-0002", "chunk-0003", "chunk-0004"];
    const result = await trainer.evaluate({
      userId,
      queries: ids.map((id) => corpus.questionFor(id, 7)),
      relevance: ids.map((id) => [[id, 1]]),
      topK: [1, 10],
    });
    expect(Object.keys(result.withModel).sort()).toEqual(["mrr@10", "ndcg@10", "recall@1", "recall@10"]);
    expect(result.queryCount).toBe(4);
    expect(result.withModel["recall@10"]).toBeGreaterThanOrEqual(result.withoutModel["recall@10"]!);
    await expect(trainer.evaluate({ userId, queries: ["a"], relevance: [] })).rejects.toMatchObject({ code: "VALIDATION_FAILED" });
  });

  it("keeps a model that does not beat plain search disabled and says why", async () => {
    const { trainer, store } = setup({ engine: identityEngine });
    const runId = await generated(trainer);
    await trainer.waitForJob({ userId, jobId: (await trainer.train({ userId, runId })).jobId });
    const run = await store.getRun(userId, runId);
    expect(run?.status).toBe("completed");
    expect(run?.metrics).toMatchObject({ verdict: "not_improved", reason: expect.stringContaining("does not beat plain search") });
    expect(run!.metrics!.recallAt10Gain).toBeLessThanOrEqual(0);
    const settings = await trainer.getSettings({ userId });
    expect(settings).toMatchObject({ canEnable: false, modelRunId: null, lastTrainingRunId: runId });
    expect(settings.cannotEnableReason).toContain("does not beat plain search");
    expect(settings.retrieval).toEqual({ withDeepMemory: null, withoutDeepMemory: defaultHybridFusion });
    await expect(trainer.updateSettings({ userId, enabled: true })).rejects.toMatchObject({ code: "NO_TRAINED_MODEL" });
  });

  it("only trains runs whose status is generated", async () => {
    const { trainer, store } = setup({ chunks: 20 });
    await expect(trainer.train({ userId, runId: "3f2b8c1e-0d4a-4c8e-9b7a-2f1e0c9d8b7a" })).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(trainer.train({ userId, runId: "not-a-uuid" })).rejects.toMatchObject({ code: "VALIDATION_FAILED" });
    await expect(trainer.getStatus({ userId, id: "42" })).rejects.toMatchObject({ code: "VALIDATION_FAILED" });
    const { jobId, runId } = await trainer.generate({ userId });
    await expect(trainer.train({ userId, runId })).rejects.toMatchObject({ code: "INVALID_RUN_STATE" });
    await trainer.waitForJob({ userId, jobId });
    const job = await trainer.train({ userId, runId });
    expect(job.joined).toBe(false);
    // A second train while it trains follows the same job instead of failing or training twice.
    expect(await trainer.train({ userId, runId })).toEqual({ jobId: job.jobId, runId, joined: true });
    await trainer.waitForJob({ userId, jobId: job.jobId });
    await expect(trainer.train({ userId, runId })).rejects.toMatchObject({ code: "INVALID_RUN_STATE" });
    expect((await store.getRun(userId, runId))?.status).toBe("completed");
  });

  it("enabling before any completed run is a typed error and canEnable says so", async () => {
    const { trainer } = setup({ chunks: 5 });
    expect(await trainer.getSettings({ userId })).toMatchObject({ enabled: false, canEnable: false, newChunksSinceLastTraining: 5 });
    await expect(trainer.updateSettings({ userId, enabled: true })).rejects.toMatchObject({ code: "NO_TRAINED_MODEL" });
    expect((await trainer.updateSettings({ userId, enabled: false })).enabled).toBe(false);
  });

  it("a failure while training marks the run failed with the message, and training can be retried", async () => {
    const corpus = syntheticCorpus({ chunks: 30, dims: 24, seed: 11 });
    let broken = true;
    const flaky: Embedder = {
      model: corpus.embedder.model,
      embed: (texts, o) => (broken ? Promise.reject(new Error("embedding service unavailable")) : corpus.embedder.embed(texts, o)),
    };
    const { trainer, store } = setup({ chunks: 30, embedder: flaky });
    const runId = await generated(trainer);
    const failed = await trainer.waitForJob({ userId, jobId: (await trainer.train({ userId, runId })).jobId });
    expect(failed).toMatchObject({ type: "failed", error: { message: expect.stringContaining("embedding service unavailable") } });
    expect(await store.getRun(userId, runId)).toMatchObject({ status: "failed", failedPhase: "training", error: expect.stringContaining("unavailable") });
    broken = false;
    const retry = await trainer.waitForJob({ userId, jobId: (await trainer.train({ userId, runId })).jobId });
    expect(retry.type).toBe("completed");
  });

  it("embeds chunks the vector store keeps no embeddings for, once, and reuses them on the next training", async () => {
    const corpus = syntheticCorpus({ chunks: 30, dims: 24, seed: 11 });
    const inner = new InMemoryVectorStore(corpus.documents);
    // A store that can search but does not hand out stored vectors (many hosted stores).
    const textOnly: VectorStore = {
      listChunks: async (input) => {
        const page = await inner.listChunks({ ...input, includeEmbeddings: false });
        return page;
      },
      search: (input) => inner.search(input),
    };
    const documentTexts: string[] = [];
    const counting: Embedder = {
      model: corpus.embedder.model,
      embed: async (texts, o) => {
        if (o?.kind === "document") documentTexts.push(...texts);
        // Chunk texts embed to the chunk's stored vector, as a real embedder would have produced it.
        return Promise.all(texts.map(async (t) => corpus.documents.find((d) => d.text === t)?.embedding as Float32Array ?? (await corpus.embedder.embed([t], o))[0]!));
      },
    };
    const trainer = new DeepMemoryTrainer({
      vectorStore: textOnly,
      store: new InMemoryTrainingStore(),
      embedder: counting,
      generator: new ScriptedGenerator(corpus.questionFor),
      engine: new LocalDeepMemory(),
      options: { questionsPerChunk: 5 },
    });
    const first = await generated(trainer);
    expect(await trainer.waitForJob({ userId, jobId: (await trainer.train({ userId, runId: first })).jobId })).toMatchObject({ type: "completed" });
    expect(documentTexts).toHaveLength(30);
    const second = await trainer.importPairs({ userId, pairs: [{ question: corpus.questionFor("chunk-0001", 7), chunkId: "chunk-0001" }] });
    expect(await trainer.waitForJob({ userId, jobId: (await trainer.train({ userId, runId: second.runId })).jobId })).toMatchObject({ type: "completed" });
    expect(documentTexts).toHaveLength(30);
  });

  it("refuses to train on too few pairs with a clear message", async () => {
    const { trainer, store } = setup({ chunks: 2, options: { questionsPerChunk: 2 } });
    const runId = await generated(trainer);
    const failed = await trainer.waitForJob({ userId, jobId: (await trainer.train({ userId, runId })).jobId });
    expect(failed).toMatchObject({ type: "failed", error: { code: "TRAINING_FAILED", message: expect.stringContaining("at least 10") } });
    expect((await store.getRun(userId, runId))?.status).toBe("failed");
  });

  it("trains on imported real questions, and later runs train on earlier completed runs' pairs too", async () => {
    const { trainer, corpus, store } = setup({ chunks: 40 });
    const pairs = Array.from({ length: 40 }, (_, i) => [0, 1, 2].map((k) => ({ question: corpus.questionFor(`chunk-${String(i).padStart(4, "0")}`, k), chunkId: `chunk-${String(i).padStart(4, "0")}` }))).flat();
    const imported = await trainer.importPairs({ userId, pairs: [...pairs, pairs[0]!, { question: "Who?", chunkId: "nope" }], source: "chat-feedback" });
    expect(imported).toMatchObject({ imported: 120, duplicatesRemoved: 1, unknownChunkIds: ["nope"] });
    const first = await store.getRun(userId, imported.runId);
    expect(first).toMatchObject({ status: "generated", pairCount: 120, generation: { model: "import:chat-feedback" } });
    await trainer.waitForJob({ userId, jobId: (await trainer.train({ userId, runId: imported.runId })).jobId });

    const more = await trainer.importPairs({ userId, pairs: pairs.slice(0, 30).map((p) => ({ ...p, question: p.question.replace("aspect", "aspect 1") })) });
    await trainer.waitForJob({ userId, jobId: (await trainer.train({ userId, runId: more.runId })).jobId });
    const second = await store.getRun(userId, more.runId);
    expect(second!.metrics!.trainPairs + second!.metrics!.heldOutPairs).toBe(150);
    await expect(trainer.importPairs({ userId, pairs: [{ question: "x?", chunkId: "nope" }] })).rejects.toMatchObject({ code: "VALIDATION_FAILED" });
  });
});

describe("guardrailVerdict", () => {
  const table = (recall: number, ndcg: number) => ({ "recall@10": recall, "ndcg@10": ndcg });

  it("enables a model that beats plain search on held-out questions", () => {
    const verdict = guardrailVerdict({ heldOutQuestions: 64, withoutModel: table(0.906, 0.8), withModel: table(0.953, 0.85), minRecallGain: 0 });
    expect(verdict).toMatchObject({ improved: true, reason: expect.stringContaining("90.6% (plain search) -> 95.3% with deep memory on 64 questions") });
    expect(verdict.recallAt10Gain).toBeCloseTo(0.047, 6);
  });

  it("does not count a sliver of gain on held-out questions plain search already finds", () => {
    const verdict = guardrailVerdict({ heldOutQuestions: 4800, withoutModel: table(0.9944, 0.975), withModel: table(0.9963, 0.9775), minRecallGain: 0 });
    expect(verdict.improved).toBe(false);
    expect(verdict.reason).toContain("cannot show whether deep memory helps");
    // A clear gain from the same height still counts.
    expect(guardrailVerdict({ heldOutQuestions: 4800, withoutModel: table(0.981, 0.9), withModel: table(0.995, 0.95), minRecallGain: 0 }).improved).toBe(true);
  });

  it("keeps a model that loses, or only ties without a better ranking, disabled", () => {
    expect(guardrailVerdict({ heldOutQuestions: 10, withoutModel: table(0.8, 0.7), withModel: table(0.7, 0.6), minRecallGain: 0 }).improved).toBe(false);
    expect(guardrailVerdict({ heldOutQuestions: 10, withoutModel: table(0.8, 0.7), withModel: table(0.8, 0.7), minRecallGain: 0 }).improved).toBe(false);
    expect(guardrailVerdict({ heldOutQuestions: 10, withoutModel: table(0.8, 0.7), withModel: table(0.8, 0.75), minRecallGain: 0 }).improved).toBe(true);
  });
});
