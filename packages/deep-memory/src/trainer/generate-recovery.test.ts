import { describe, expect, it } from "vitest";
import { InMemoryTrainingStore } from "../adapters/training-store/in-memory-training-store.js";
import { GenerationOutputError, StoreError, UpstreamError } from "../errors/errors.js";
import type { JobEvent } from "../events/events.js";
import { hangUntilAborted } from "../test-utils/synthetic.js";
import { pairsOf, setup, userId, waitUntil } from "./generate.test-support.js";

describe("generate", () => {
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
});
