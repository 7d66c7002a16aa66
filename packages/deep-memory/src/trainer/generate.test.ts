import { describe, expect, it } from "vitest";
import { InMemoryTrainingStore } from "../adapters/training-store/in-memory-training-store.js";
import { InMemoryVectorStore } from "../adapters/vector-store/in-memory-vector-store.js";
import { DeepMemoryError } from "../errors/errors.js";
import type { JobEvent } from "../events/events.js";
import { ScriptedGenerator, syntheticCorpus } from "../test-utils/synthetic.js";
import { DeepMemoryTrainer } from "./deep-memory-trainer.js";
import type { GenerateQuestionsInput } from "../ports/question-generator.js";
import { unusedEngine } from "../test-utils/engines.js";
import { pairsOf, setup, userId } from "./generate.test-support.js";

describe("generate", () => {
  it("returns at once, then stores questions for every chunk and reports ordered progress", async () => {
    const { trainer, store } = setup({ chunks: 10 });
    const seen: JobEvent[] = [];
    trainer.on("event", (e) => seen.push(e));
    const started = await trainer.generate({ userId });
    expect(started).toMatchObject({ totalChunks: 10, existingChunks: 0, resumed: false });
    expect((await store.getRun(userId, started.runId))?.status).toBe("generating");

    const done = await trainer.waitForJob({ userId, jobId: started.jobId });
    expect(done.type).toBe("completed");
    const run = await store.getRun(userId, started.runId);
    expect(run).toMatchObject({ status: "generated", processedChunks: 10, pairCount: 40, skippedChunks: 0 });
    expect(run?.generatedAt).toBeInstanceOf(Date);
    expect(run?.leaseOwner).toBeNull();

    const pairs = await pairsOf(store, started.runId);
    expect(pairs).toHaveLength(40);
    expect(new Set(pairs.map((p) => p.chunkId)).size).toBe(10);

    const events = seen.filter((e) => e.jobId === started.jobId);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events[0]?.type).toBe("started");
    expect(events.at(-1)?.type).toBe("completed");
    const progress = events.filter((e) => e.type === "progress");
    expect(progress.at(-1)).toMatchObject({ processed: 10, total: 10, percent: 100, pairCount: 40 });
    const processed = progress.map((e) => (e.type === "progress" ? e.processed : -1));
    expect(processed).toEqual([...processed].sort((a, b) => a - b));
  });

  it("replays a job's history to a late subscriber from any event id", async () => {
    const { trainer } = setup({ chunks: 4 });
    const { jobId } = await trainer.generate({ userId });
    await trainer.waitForJob({ userId, jobId });
    const all: JobEvent[] = [];
    trainer.subscribe({ userId, jobId }, (e) => all.push(e));
    const after: JobEvent[] = [];
    trainer.subscribe({ userId, jobId, after: 3 }, (e) => after.push(e));
    expect(after.map((e) => e.seq)).toEqual(all.slice(3).map((e) => e.seq));
    expect(() => trainer.subscribe({ userId: "user-b", jobId }, () => {})).toThrowError(expect.objectContaining({ code: "NOT_FOUND" }));
  });

  it("joins the job already generating instead of starting a second run, and allows other users", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const { trainer, store } = setup({ chunks: 3, script: () => async (input) => (await gate, [`What does ${input.chunk.id} say about aspect 0?`]) });
    const first = await trainer.generate({ userId });
    const [again, twice] = await Promise.all([trainer.generate({ userId }), trainer.generate({ userId })]);
    expect(again).toMatchObject({ jobId: first.jobId, runId: first.runId, joined: true, resumed: false });
    expect(twice).toMatchObject({ jobId: first.jobId, runId: first.runId, joined: true });
    const other = await trainer.generate({ userId: "user-b" });
    expect(other.runId).not.toBe(first.runId);
    release();
    await trainer.waitForJob({ userId, jobId: first.jobId });
    await trainer.waitForJob({ userId: "user-b", jobId: other.jobId });
    expect((await store.listRuns(userId, { limit: 10, offset: 0 })).total).toBe(1);
  });

  it("two generates racing from two processes make one run: the second joins the first", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const store = new InMemoryTrainingStore();
    const script = () => async (input: GenerateQuestionsInput) => (await gate, [`What does ${input.chunk.id} say about aspect 0?`]);
    const a = setup({ chunks: 3, store, script });
    const b = setup({ chunks: 3, store, script });
    const [one, two] = await Promise.all([a.trainer.generate({ userId }), b.trainer.generate({ userId })]);
    expect(one.runId).toBe(two.runId);
    expect([one.joined, two.joined].sort()).toEqual([false, true]);
    release();
    const owner = one.joined ? b : a;
    await owner.trainer.waitForJob({ userId, jobId: one.jobId });
    expect((await store.listRuns(userId, { limit: 10, offset: 0 })).total).toBe(1);
  });

  it("with nothing new to cover, says so and creates no run; pairs not trained yet count as covered", async () => {
    const { trainer, store, generator } = setup({ chunks: 4 });
    const first = await trainer.generate({ userId });
    await trainer.waitForJob({ userId, jobId: first.jobId });
    for (let i = 0; i < 20; i++) {
      await expect(trainer.generate({ userId })).rejects.toMatchObject({
        code: "NOTHING_TO_GENERATE",
        runId: first.runId,
        message: expect.stringContaining("train that run"),
      });
    }
    expect((await store.listRuns(userId, { limit: 100, offset: 0 })).total).toBe(1);
    expect(generator.calls).toHaveLength(4);
  });

  it("stops cleanly at the pair cap, even with calls in flight", async () => {
    const { trainer, store } = setup({ chunks: 20, options: { maxPairs: 10, concurrency: 4 } });
    const { jobId, runId } = await trainer.generate({ userId });
    const done = await trainer.waitForJob({ userId, jobId });
    expect(done).toMatchObject({ type: "completed", capReached: true, pairCount: 10 });
    const run = await store.getRun(userId, runId);
    expect(run).toMatchObject({ status: "generated", pairCount: 10, capReached: true });
    expect(await pairsOf(store, runId)).toHaveLength(10);
  });

  it("is incremental: chunks with pairs from completed runs are skipped and counted", async () => {
    const store = new InMemoryTrainingStore();
    const first = setup({ chunks: 6, store });
    const run1 = await first.trainer.generate({ userId });
    await first.trainer.waitForJob({ userId, jobId: run1.jobId });
    // Only completed runs count as covered; mark the first run trained.
    await store.updateRun(userId, run1.runId, { status: "completed", completedAt: new Date() }, {}, new Date());

    const grown = syntheticCorpus({ chunks: 9 });
    const second = setup({ chunks: 9, store });
    expect(grown.documents).toHaveLength(9);
    const settings = await second.trainer.getSettings({ userId });
    expect(settings.newChunksSinceLastTraining).toBe(3);
    const run2 = await second.trainer.generate({ userId });
    expect(run2).toMatchObject({ totalChunks: 3, existingChunks: 6, resumed: false });
    await second.trainer.waitForJob({ userId, jobId: run2.jobId });
    expect(second.generator.calls.map((c) => c.chunkId).sort()).toEqual(["chunk-0006", "chunk-0007", "chunk-0008"]);
    expect(await store.getRun(userId, run2.runId)).toMatchObject({ pairCount: 12, existingChunks: 6 });
  });

  it("handles an empty knowledge base and empty chunks without calling the generator for them", async () => {
    const empty = new DeepMemoryTrainer({
      vectorStore: new InMemoryVectorStore(),
      store: new InMemoryTrainingStore(),
      embedder: syntheticCorpus({ chunks: 1 }).embedder,
      generator: new ScriptedGenerator(() => "never?"),
      engine: unusedEngine,
    });
    await expect(empty.generate({ userId })).rejects.toMatchObject({ code: "NOTHING_TO_GENERATE", message: expect.stringContaining("no chunks") });

    const { trainer, vectorStore, store, generator } = setup({ chunks: 2 });
    vectorStore.upsert([{ id: "blank", text: "   ", embedding: new Float32Array(32).fill(1) }]);
    const { jobId, runId } = await trainer.generate({ userId });
    await trainer.waitForJob({ userId, jobId });
    expect(generator.callsFor("blank")).toBe(0);
    expect(await store.getRun(userId, runId)).toMatchObject({ processedChunks: 3, skippedChunks: 1, pairCount: 8 });
  });

  it("removes duplicate questions within and across chunks and reports how many", async () => {
    const { trainer, store } = setup({
      chunks: 2,
      options: { concurrency: 1 },
      script: (chunkId) =>
        chunkId === "chunk-0000"
          ? ["What is a stop-loss order?", "what is a stop-loss order", "How is VWAP computed?"]
          : ["What is a stop-loss order?", "When does TSLA report earnings?"],
    });
    const { jobId, runId } = await trainer.generate({ userId });
    await trainer.waitForJob({ userId, jobId });
    const pairs = await pairsOf(store, runId);
    expect(pairs.map((p) => p.question).sort()).toEqual(["How is VWAP computed?", "What is a stop-loss order?", "When does TSLA report earnings?"]);
    const detail = await trainer.getRun({ userId, runId });
    expect(detail.statistics).toMatchObject({ pairCount: 3, duplicatesRemoved: 2, chunksWithPairs: 2 });
    expect(detail.samplePairs).toHaveLength(3);
  });

  it("spaces generator calls by delayMs and passes the model override", async () => {
    const { trainer, generator } = setup({ chunks: 5, options: { concurrency: 3, delayMs: 40 } });
    const t0 = Date.now();
    const { jobId } = await trainer.generate({ userId, model: "gpt-4o-mini", questionsPerChunk: 3 });
    await trainer.waitForJob({ userId, jobId });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(4 * 40 - 5);
    expect(generator.calls.every((c) => c.model === "gpt-4o-mini" && c.count === 3)).toBe(true);
  });

  it("rejects bad input with a typed validation error listing the fields", async () => {
    const { trainer } = setup();
    await expect(trainer.generate({ userId: "" })).rejects.toMatchObject({ code: "VALIDATION_FAILED" });
    await expect(trainer.generate({ userId, maxPairs: -1 })).rejects.toMatchObject({
      code: "VALIDATION_FAILED",
      issues: [expect.objectContaining({ path: "maxPairs" })],
    });
    await expect(trainer.generate({ userId, user_id: "x" } as never)).rejects.toBeInstanceOf(DeepMemoryError);
    expect(() => new DeepMemoryTrainer({ vectorStore: {} } as never)).toThrowError(expect.objectContaining({ code: "VALIDATION_FAILED" }));
  });

  it("keeps users apart: another user's run and job are not found", async () => {
    const { trainer } = setup({ chunks: 2 });
    const { jobId, runId } = await trainer.generate({ userId });
    await trainer.waitForJob({ userId, jobId });
    await expect(trainer.getRun({ userId: "user-b", runId })).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(trainer.getRunSummary({ userId: "user-b", runId })).rejects.toMatchObject({ code: "NOT_FOUND" });
    expect(await trainer.getRunSummary({ userId, runId })).toMatchObject({ id: runId, status: "generated", pairCount: 8 });
    await expect(trainer.getStatus({ userId: "user-b", id: jobId })).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(trainer.train({ userId: "user-b", runId })).rejects.toMatchObject({ code: "NOT_FOUND" });
    expect((await trainer.listRuns({ userId: "user-b" })).total).toBe(0);
    expect(await trainer.getStatus({ userId, id: jobId })).toMatchObject({ runId, status: "generated", percent: 100, active: false });
    expect(await trainer.getStatus({ userId, id: runId })).toMatchObject({ runId, jobId });
  });
});
