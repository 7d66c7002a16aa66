import { afterAll, beforeAll, expect, it } from "vitest";
import { UpstreamError } from "../../errors/errors.js";
import type { JobEvent } from "../../events/events.js";
import { hangUntilAborted, ScriptedGenerator, syntheticCorpus, type ScriptedReply } from "../../test-utils/synthetic.js";
import { DeepMemoryTrainer } from "../../trainer/deep-memory-trainer.js";
import { LocalDeepMemory } from "@zip/deep-memory-engine";
import { PostgresTrainingStore } from "../postgres/postgres-training-store.js";
import { createTestDatabase, describeWithPostgres, type TestDatabase } from "../postgres/test-database.test-support.js";
import { InMemoryVectorStore } from "../vector-store/in-memory-vector-store.js";
import { PgBossJobRunner } from "./pg-boss-job-runner.js";

/**
 * The pg-boss runner in one process: an API trainer that only enqueues and a
 * worker trainer that takes the tasks, on the same real PostgreSQL (the
 * multi-process behaviour is in multi-process.test.ts).
 */
let db: TestDatabase;
let store: PostgresTrainingStore;
const corpus = syntheticCorpus({ chunks: 60, dims: 16, seed: 5 });
let script: ((chunkId: string, call: number) => ScriptedReply | undefined) | undefined;
const cleanups: (() => Promise<void>)[] = [];

function trainer(role: string, generator = new ScriptedGenerator(corpus.questionFor, (id, call) => script?.(id, call))) {
  const jobRunner = new PgBossJobRunner({
    connectionString: db.url,
    bossOptions: { max: 3 },
    pollingIntervalSeconds: 0.5,
    generateBatch: { retryLimit: 2, retryDelay: 0 },
  });
  const events = store.jobEventLog({ pollMs: 100 });
  const t = new DeepMemoryTrainer({
    vectorStore: new InMemoryVectorStore(corpus.documents),
    store,
    embedder: corpus.embedder,
    generator,
    engine: new LocalDeepMemory(),
    jobRunner,
    events,
    instanceId: role,
    options: { questionsPerChunk: 3, concurrency: 2, batchSize: 10, retries: 0, progressIntervalMs: 200 },
  });
  cleanups.push(async () => {
    await t.close();
    await events.close();
  });
  return t;
}

async function collect(iterable: AsyncIterable<JobEvent>): Promise<JobEvent[]> {
  const events: JobEvent[] = [];
  for await (const event of iterable) events.push(event);
  return events;
}

describeWithPostgres("PgBossJobRunner", () => {
  let api: DeepMemoryTrainer;
  let worker: ScriptedGenerator;
  beforeAll(async () => {
    db = await createTestDatabase();
    store = await PostgresTrainingStore.connect({ connectionString: db.url, max: 6 });
    api = trainer("api");
    worker = new ScriptedGenerator(corpus.questionFor, (id, call) => script?.(id, call));
    await trainer("worker", worker).startWorker();
  }, 60_000);
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    await store?.close();
    await db?.drop();
  });

  it("needs a shared event log: workers report through it", () => {
    expect(
      () =>
        new DeepMemoryTrainer({
          vectorStore: new InMemoryVectorStore([]),
          store,
          embedder: corpus.embedder,
          engine: new LocalDeepMemory(),
          jobRunner: new PgBossJobRunner({ connectionString: db.url }),
        }),
    ).toThrowError(expect.objectContaining({ code: "VALIDATION_FAILED" }));
  });

  it("generates in batches on the worker, retries a failed batch, then trains there; the API process streams it all", { timeout: 120_000 }, async () => {
    const userId = "boss-user-1";
    // chunk-0013's first call fails past the trainer's retries: its batch fails and the queue runs it again.
    script = (id, call) => (id === "chunk-0013" && call === 1 ? new UpstreamError("test", "provider down", { retryable: false }) : undefined);
    const started = await api.generate({ userId });
    expect(started).toMatchObject({ totalChunks: 60, joined: false });
    const events = await collect(api.jobEvents({ userId, jobId: started.jobId }));
    expect(events.at(-1)).toMatchObject({ type: "completed", status: "generated", processedChunks: 60, pairCount: 180 });
    expect(api.getJob({ userId, jobId: started.jobId })).toBeNull(); // it never ran in the API process
    expect(worker.callsFor("chunk-0013")).toBe(2);
    const pairs = await store.listPairs(userId, [started.runId]);
    const perChunk = new Map<string, number>();
    for (const p of pairs) perChunk.set(p.chunkId, (perChunk.get(p.chunkId) ?? 0) + 1);
    expect(perChunk.size).toBe(60);
    expect([...perChunk.values()].every((n) => n === 3)).toBe(true);

    const training = await api.train({ userId, runId: started.runId });
    const done = await api.waitForJob({ userId, jobId: training.jobId });
    expect(done).toMatchObject({ type: "completed", status: "completed" });
    expect((await store.getRun(userId, started.runId))?.status).toBe("completed");
  });

  it("a batch failing past the queue's retries is dead-lettered: the job fails and the run resumes on the next generate", { timeout: 120_000 }, async () => {
    const userId = "boss-user-2";
    script = (id) => (id === "chunk-0042" ? new UpstreamError("test", "provider keeps failing", { retryable: false }) : undefined);
    const first = await api.generate({ userId });
    const failed = await api.waitForJob({ userId, jobId: first.jobId });
    expect(failed).toMatchObject({ type: "failed", error: { code: "UPSTREAM_FAILED" } });
    expect(failed.type === "failed" && failed.error.message).toContain("provider keeps failing");
    const run = await store.getRun(userId, first.runId);
    expect(run).toMatchObject({ status: "failed", failedPhase: "generating", leaseOwner: null });
    expect(run!.processedChunks).toBeLessThan(60);

    script = undefined;
    const second = await api.generate({ userId });
    expect(second).toMatchObject({ runId: first.runId, resumed: true });
    expect(await api.waitForJob({ userId, jobId: second.jobId })).toMatchObject({ type: "completed", processedChunks: 60, pairCount: 180 });
  });

  it("cancel from the API process: the job ends `cancelled` through the log, the run keeps what was recorded and resumes", { timeout: 120_000 }, async () => {
    const userId = "boss-user-3";
    let hanging = 0;
    // Chunks 0-4 answer; every later call hangs until its signal aborts, as a slow provider would.
    script = (id) =>
      Number(id.slice(-4)) >= 5
        ? (input) => {
            hanging++;
            return hangUntilAborted(input.signal);
          }
        : undefined;
    const started = await api.generate({ userId });
    const deadline = Date.now() + 60_000;
    while (hanging === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    const result = await api.cancel({ userId, jobId: started.jobId, reason: "wrong knowledge base" });
    const recorded = (await store.getRun(userId, started.runId))!.processedChunks;
    expect(recorded).toBeLessThanOrEqual(5);
    expect(result).toMatchObject({ runId: started.runId, kind: "generate", phase: "generating", stopped: false });
    expect(await api.waitForJob({ userId, jobId: started.jobId })).toMatchObject({ type: "cancelled", reason: "wrong knowledge base" });
    expect(await store.getRun(userId, started.runId)).toMatchObject({
      status: "failed",
      failedPhase: "generating",
      error: "Cancelled: wrong knowledge base",
      processedChunks: recorded,
      leaseOwner: null,
    });

    script = undefined;
    const resumed = await api.generate({ userId });
    expect(resumed).toMatchObject({ runId: started.runId, resumed: true });
    expect(await api.waitForJob({ userId, jobId: resumed.jobId })).toMatchObject({ type: "completed", processedChunks: 60, pairCount: 180 });
    const pairs = await store.listPairs(userId, [started.runId]);
    expect(new Set(pairs.map((p) => `${p.chunkId}\n${p.question}`)).size).toBe(180);
  });
});
