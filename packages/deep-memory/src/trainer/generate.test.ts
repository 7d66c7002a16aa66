import { describe, expect, it } from "vitest";
import { InMemoryTrainingStore } from "../adapters/training-store/in-memory-training-store.js";
import { InMemoryVectorStore } from "../adapters/vector-store/in-memory-vector-store.js";
import { DeepMemoryError, GenerationOutputError, StoreError, UpstreamError } from "../errors/errors.js";
import type { JobEvent } from "../events/events.js";
import type { DeepMemoryEngine } from "../ports/deep-memory-engine.js";
import { hangUntilAborted, ScriptedGenerator, syntheticCorpus, type ScriptedReply } from "../test-utils/synthetic.js";
import { DeepMemoryTrainer } from "./deep-memory-trainer.js";
import type { TrainerOptions } from "./options.js";
import type { GenerateQuestionsInput } from "../ports/question-generator.js";

const userId = "user-a";

/** Generation never touches the engine; an engine that throws proves it. */
const unusedEngine: DeepMemoryEngine = {
  name: "unused",
  train: () => Promise.reject(new Error("not used in generation tests")),
  load: () => {
    throw new Error("not used in generation tests");
  },
};

function setup(
  opts: {
    chunks?: number;
    options?: TrainerOptions;
    script?: (chunkId: string, call: number, input: GenerateQuestionsInput) => ScriptedReply | undefined;
    store?: InMemoryTrainingStore;
    clock?: () => Date;
    instanceId?: string;
  } = {},
) {
  const corpus = syntheticCorpus({ chunks: opts.chunks ?? 12 });
  const vectorStore = new InMemoryVectorStore(corpus.documents);
  const store = opts.store ?? new InMemoryTrainingStore();
  const generator = new ScriptedGenerator(corpus.questionFor, opts.script);
  const trainer = new DeepMemoryTrainer({
    vectorStore,
    store,
    embedder: corpus.embedder,
    generator,
    engine: unusedEngine,
    options: { retryMinDelayMs: 1, retryMaxDelayMs: 5, concurrency: 3, ...opts.options },
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...(opts.instanceId ? { instanceId: opts.instanceId } : {}),
  });
  return { corpus, vectorStore, store, generator, trainer };
}

async function pairsOf(store: InMemoryTrainingStore, runId: string) {
  return store.listPairs(userId, [runId]);
}

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

  it("retries a chunk whose output is unusable, then skips it with the reason and goes on", async () => {
    const { trainer, store, generator } = setup({
      chunks: 5,
      options: { chunkAttempts: 3 },
      script: (chunkId, call) => {
        if (chunkId === "chunk-0001" && call === 1) return new GenerationOutputError("model answered with malformed JSON");
        if (chunkId === "chunk-0002") return new GenerationOutputError("model answered off-topic");
        if (chunkId === "chunk-0003") return [];
        return undefined;
      },
    });
    const skipped: JobEvent[] = [];
    trainer.on("chunk_skipped", (e) => skipped.push(e));
    const { jobId, runId } = await trainer.generate({ userId });
    await trainer.waitForJob({ userId, jobId });
    const run = await store.getRun(userId, runId);
    expect(run).toMatchObject({ status: "generated", processedChunks: 5, skippedChunks: 2, pairCount: 12 });
    expect(generator.callsFor("chunk-0001")).toBe(2);
    expect(generator.callsFor("chunk-0002")).toBe(3);
    expect(skipped.map((e) => (e.type === "chunk_skipped" ? [e.chunkId, e.reason] : []))).toEqual(
      expect.arrayContaining([
        ["chunk-0002", expect.stringContaining("off-topic")],
        ["chunk-0003", expect.stringContaining("no usable questions")],
      ]),
    );
  });

  it("honours Retry-After on 429 and retries 5xx before giving up", async () => {
    const { trainer, store, generator } = setup({
      chunks: 2,
      options: { concurrency: 1 },
      script: (chunkId, call) => {
        if (chunkId === "chunk-0000" && call === 1) return new UpstreamError("openai", "rate limited", { status: 429, retryable: true, retryAfterMs: 120 });
        if (chunkId === "chunk-0001" && call <= 2) return new UpstreamError("openai", "server error", { status: 500, retryable: true });
        return undefined;
      },
    });
    const t0 = Date.now();
    const { jobId, runId } = await trainer.generate({ userId });
    await trainer.waitForJob({ userId, jobId });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(110);
    expect(generator.callsFor("chunk-0000")).toBe(2);
    expect(generator.callsFor("chunk-0001")).toBe(3);
    expect((await store.getRun(userId, runId))?.pairCount).toBe(8);
  });

  it("aborts a call that hangs past the timeout and retries it", async () => {
    const { trainer, store, generator } = setup({
      chunks: 2,
      options: { requestTimeoutMs: 40 },
      script: (chunkId, call) => (chunkId === "chunk-0000" && call === 1 ? (input) => hangUntilAborted(input.signal) : undefined),
    });
    const { jobId, runId } = await trainer.generate({ userId });
    await trainer.waitForJob({ userId, jobId });
    expect(generator.callsFor("chunk-0000")).toBe(2);
    expect((await store.getRun(userId, runId))?.status).toBe("generated");
  });

  it("fails the run past the retries, keeps its pairs, and resumes it on the next generate", async () => {
    let outage = true;
    const { trainer, store, generator } = setup({
      chunks: 8,
      options: { concurrency: 1, retries: 2 },
      script: (chunkId) =>
        outage && chunkId >= "chunk-0004" ? new UpstreamError("openai", "OpenAI is down (503)", { status: 503, retryable: true }) : undefined,
    });
    const first = await trainer.generate({ userId });
    const failed = await trainer.waitForJob({ userId, jobId: first.jobId });
    expect(failed).toMatchObject({ type: "failed", error: { code: "UPSTREAM_FAILED", message: expect.stringContaining("503") } });
    const run = await store.getRun(userId, first.runId);
    expect(run).toMatchObject({ status: "failed", failedPhase: "generating", pairCount: 16, processedChunks: 4 });
    expect(run?.error).toContain("503");
    expect(generator.callsFor("chunk-0004")).toBe(3);

    outage = false;
    const second = await trainer.generate({ userId });
    expect(second).toMatchObject({ runId: first.runId, resumed: true, totalChunks: 8 });
    await trainer.waitForJob({ userId, jobId: second.jobId });
    const pairs = await pairsOf(store, first.runId);
    expect(pairs).toHaveLength(32);
    expect(new Set(pairs.map((p) => `${p.chunkId}|${p.question}`)).size).toBe(32);
    expect(generator.callsFor("chunk-0000")).toBe(1);
    expect((await store.getRun(userId, first.runId))).toMatchObject({ status: "generated", error: null, processedChunks: 8 });
  });

  it("survives a crash mid-run: a trainer of another process resumes once the dead lease expires, with Retry-After until then", async () => {
    let now = new Date("2026-01-01T00:00:00Z");
    const clock = () => now;
    const store = new InMemoryTrainingStore();
    const crashed = setup({
      chunks: 12,
      store,
      clock,
      options: { concurrency: 2, leaseMs: 10_000 },
      instanceId: "replica-a",
      script: (chunkId) => (chunkId >= "chunk-0006" ? (input) => hangUntilAborted(input.signal) : undefined),
    });
    const first = await crashed.trainer.generate({ userId });
    await waitUntil(async () => (await store.getRun(userId, first.runId))?.processedChunks === 6);
    // The process dies: its work stops and its lease is left behind.
    await crashed.trainer.close({ releaseLeases: false });
    const orphan = await store.getRun(userId, first.runId);
    expect(orphan).toMatchObject({ status: "generating", processedChunks: 6 });
    expect(orphan?.leaseOwner).not.toBeNull();

    // Another host cannot tell a dead replica from a slow one: it waits for the lease, and is told how long.
    const revived = setup({ chunks: 12, store, clock, instanceId: "replica-b" });
    await expect(revived.trainer.importPairs({ userId, pairs: [{ question: "q?", chunkId: "chunk-0000" }] })).rejects.toMatchObject({
      code: "RUN_ALREADY_ACTIVE",
      retryAfterMs: 10_000,
      details: expect.objectContaining({ retryAfterSeconds: 10 }),
    });
    // generate joins the run it cannot take yet rather than refusing.
    expect(await revived.trainer.generate({ userId })).toMatchObject({ runId: first.runId, jobId: first.jobId, joined: true });
    now = new Date(now.getTime() + 10_001);
    const resumed = await revived.trainer.generate({ userId });
    expect(resumed).toMatchObject({ runId: first.runId, resumed: true, joined: false });
    await revived.trainer.waitForJob({ userId, jobId: resumed.jobId });

    const pairs = await pairsOf(store, first.runId);
    expect(pairs).toHaveLength(48);
    const perChunk = new Map<string, number>();
    for (const p of pairs) perChunk.set(p.chunkId, (perChunk.get(p.chunkId) ?? 0) + 1);
    expect([...perChunk.values()]).toEqual(Array(12).fill(4));
    expect(new Set(pairs.map((p) => `${p.chunkId}|${p.question}`)).size).toBe(48);
    for (let i = 0; i < 6; i++) expect(revived.generator.callsFor(`chunk-000${i}`)).toBe(0);
    expect(await store.getRun(userId, first.runId)).toMatchObject({ status: "generated", processedChunks: 12 });
  });

  it("after a graceful close the run can be resumed at once", async () => {
    const store = new InMemoryTrainingStore();
    const a = setup({ chunks: 6, store, script: (chunkId) => (chunkId >= "chunk-0003" ? (i) => hangUntilAborted(i.signal) : undefined) });
    const first = await a.trainer.generate({ userId });
    await waitUntil(async () => (await store.getRun(userId, first.runId))?.processedChunks === 3);
    await a.trainer.close();
    const b = setup({ chunks: 6, store });
    const resumed = await b.trainer.generate({ userId });
    expect(resumed).toMatchObject({ runId: first.runId, resumed: true });
    await b.trainer.waitForJob({ userId, jobId: resumed.jobId });
    expect(await pairsOf(store, first.runId)).toHaveLength(24);
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

  it("a store failure mid-run fails the run with the reason, keeps stored pairs, and the run resumes later", async () => {
    const store = new InMemoryTrainingStore();
    let dropAfter = 3;
    const flaky = new Proxy(store, {
      get(target, key, receiver) {
        const value = Reflect.get(target, key, receiver);
        if (key !== "recordChunk" || typeof value !== "function") return typeof value === "function" ? value.bind(target) : value;
        return (...args: unknown[]) => {
          if (dropAfter-- <= 0) return Promise.reject(new StoreError("Connection terminated unexpectedly"));
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    const first = setup({ chunks: 8, store: flaky, options: { concurrency: 1 } });
    const started = await first.trainer.generate({ userId });
    const failed = await first.trainer.waitForJob({ userId, jobId: started.jobId });
    expect(failed).toMatchObject({ type: "failed", error: { code: "STORE_FAILED", message: expect.stringContaining("Connection terminated") } });
    expect(await store.getRun(userId, started.runId)).toMatchObject({ status: "failed", processedChunks: 3, pairCount: 12, error: expect.stringContaining("Connection terminated") });

    dropAfter = Infinity;
    const resumed = await first.trainer.generate({ userId });
    expect(resumed).toMatchObject({ runId: started.runId, resumed: true });
    await first.trainer.waitForJob({ userId, jobId: resumed.jobId });
    const pairs = await pairsOf(store, started.runId);
    expect(pairs).toHaveLength(32);
    expect(new Set(pairs.map((p) => `${p.chunkId}|${p.question}`)).size).toBe(32);
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

async function waitUntil(condition: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  while (!(await condition())) {
    if (Date.now() - start > timeoutMs) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 5));
  }
}
