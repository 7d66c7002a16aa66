import { spawn, type ChildProcess } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseSseStream } from "@zip/deep-memory-protocol";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { JobEvent } from "../../events/events.js";
import { PostgresTrainingStore } from "../postgres/postgres-training-store.js";
import { createTestDatabase, describeWithPostgres, type TestDatabase } from "../postgres/test-database.test-support.js";
import { CHUNKS, QUESTIONS_PER_CHUNK, testJobRunner } from "./multi-process.test-support.js";

/**
 * N API processes and M workers on one real PostgreSQL, as child processes:
 * streams cross replicas, kill -9 of a worker mid-generation and
 * mid-training, cancel across processes, and kill -9 of the API process that
 * started a job. Every wait is
 * bounded (a failure says what it waited for) but generous: a dead worker's
 * task comes back once its pg-boss expiry passes (8 s for a batch, 30 s for
 * training in these settings).
 */
const here = dirname(fileURLToPath(import.meta.url));
const script = join(here, "multi-process.test-support.ts");
const repoRoot = resolve(here, "../../../../..");

interface Child {
  name: string;
  process: ChildProcess;
  output: string;
  port: number;
}

let db: TestDatabase;
let store: PostgresTrainingStore;
const children: Child[] = [];

async function waitFor<T>(what: string, check: () => T | undefined | Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function start(name: string, role: "api" | "worker"): Promise<Child> {
  const child: Child = {
    name,
    output: "",
    port: 0,
    process: spawn(process.execPath, ["--import", "tsx", "--conditions=@zip/source", script, role, db.url], {
      cwd: repoRoot,
      env: { ...process.env, DEEP_MEMORY_TEST_CHILD: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    }),
  };
  child.process.stdout!.on("data", (data: Buffer) => (child.output += data.toString()));
  child.process.stderr!.on("data", (data: Buffer) => (child.output += data.toString()));
  children.push(child);
  const ready = await waitFor(`${name} to start`, () => /READY ?(\d*)/.exec(child.output) ?? (child.process.exitCode !== null ? null : undefined), 60_000);
  if (!ready) throw new Error(`${name} exited: ${child.output}`);
  child.port = Number(ready[1] || 0);
  return child;
}

function kill9(child: Child): Promise<void> {
  return new Promise((resolve) => {
    if (child.process.exitCode !== null || child.process.signalCode !== null) return resolve();
    child.process.once("exit", () => resolve());
    child.process.kill("SIGKILL");
  });
}

async function post<T>(api: Child, path: string, payload: unknown): Promise<T> {
  const response = await fetch(`http://127.0.0.1:${api.port}${path}`, { method: "POST", body: JSON.stringify(payload) });
  if (!response.ok) throw new Error(`${path} answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as T;
}

/** Reads a job's event stream from one replica until its terminal event, calling onEvent for each. */
async function stream(api: Child, userId: string, jobId: string, options: { after?: number; onEvent?: (e: JobEvent) => void; timeoutMs: number }): Promise<JobEvent[]> {
  const signal = AbortSignal.timeout(options.timeoutMs);
  const response = await fetch(`http://127.0.0.1:${api.port}/events/${jobId}?userId=${encodeURIComponent(userId)}`, {
    headers: options.after ? { "last-event-id": String(options.after) } : {},
    signal,
  });
  const events: JobEvent[] = [];
  for await (const message of parseSseStream(response.body!)) {
    const event = JSON.parse(message.data) as JobEvent;
    events.push(event);
    options.onEvent?.(event);
  }
  return events;
}

async function pairsOf(userId: string, runId: string) {
  const { rows: pairs } = await store.pool.query<{ chunk_id: string; question: string }>(
    "select chunk_id, question from public.deep_memory_training_pairs where user_id = $1 and run_id = $2",
    [userId, runId],
  );
  const { rows: outcomes } = await store.pool.query<{ n: number }>(
    "select count(*)::int as n from public.deep_memory_chunk_outcomes where user_id = $1 and run_id = $2",
    [userId, runId],
  );
  const chunks = new Set(pairs.map((p) => p.chunk_id));
  const distinct = new Set(pairs.map((p) => `${p.chunk_id}\u0000${p.question}`));
  return { pairs: pairs.length, distinct: distinct.size, chunks: chunks.size, outcomes: outcomes[0]!.n };
}

function expectOrdered(events: JobEvent[]) {
  const seqs = events.map((e) => e.seq);
  expect(seqs.every((seq, i) => i === 0 || seq > seqs[i - 1]!)).toBe(true);
}

describeWithPostgres("2 API processes and 2 workers on one PostgreSQL", () => {
  let apiA: Child;
  let apiB: Child;
  let workers: Child[];

  beforeAll(async () => {
    db = await createTestDatabase();
    // Schema and queues once, before the children start, so they never race to create them.
    store = await PostgresTrainingStore.connect({ connectionString: db.url, max: 3 });
    const runner = testJobRunner(db.url);
    await runner.start();
    await runner.close();
    [apiA, apiB, ...workers] = await Promise.all([start("api-a", "api"), start("api-b", "api"), start("worker-1", "worker"), start("worker-2", "worker")]);
  }, 120_000);

  afterAll(async () => {
    await Promise.all(children.map(kill9));
    await store?.close();
    await db?.drop();
  }, 60_000);

  it("a client streams from replica A a job started on replica B; a worker killed mid-generation: 0 missing, 0 duplicate pairs", { timeout: 180_000 }, async () => {
    const userId = "mp-user-1";
    const started = await post<{ jobId: string; runId: string; totalChunks: number }>(apiB, "/generate", { userId });
    expect(started.totalChunks).toBe(CHUNKS);
    // Assigned in a callback, which type narrowing does not follow.
    let killed = null as Promise<void> | null;
    const events = await stream(apiA, userId, started.jobId, {
      timeoutMs: 150_000,
      onEvent: (event) => {
        if (!killed && event.type === "progress" && event.processed >= CHUNKS / 4) {
          const victim = workers[0]!;
          killed = kill9(victim).then(async () => {
            workers = [workers[1]!, await start("worker-3", "worker")];
          });
        }
      },
    });
    await killed;
    expect(killed).not.toBeNull();
    expect(events[0]).toMatchObject({ type: "started", totalChunks: CHUNKS });
    expect(events.at(-1)).toMatchObject({ type: "completed", status: "generated", processedChunks: CHUNKS, pairCount: CHUNKS * QUESTIONS_PER_CHUNK });
    expectOrdered(events);
    expect(await pairsOf(userId, started.runId)).toEqual({
      pairs: CHUNKS * QUESTIONS_PER_CHUNK,
      distinct: CHUNKS * QUESTIONS_PER_CHUNK,
      chunks: CHUNKS,
      outcomes: CHUNKS,
    });
    // The killed worker's batches really were cut short and taken again (pg-boss counts the retry).
    const { rows } = await store.pool.query<{ n: number }>(
      "select count(*)::int as n from pgboss.job where name = 'deep_memory_generate' and retry_count > 0 and data->>'jobId' = $1",
      [started.jobId],
    );
    expect(rows[0]!.n).toBeGreaterThan(0);
    // Resuming on the other replica after the first event gives the facts that followed and where progress ended.
    const tail = await stream(apiB, userId, started.jobId, { after: events[0]!.seq, timeoutMs: 30_000 });
    expect(tail.filter((e) => e.type !== "progress")).toEqual(events.slice(1).filter((e) => e.type !== "progress"));
    expect(tail.at(-1)).toEqual(events.at(-1));
  });

  it("a worker killed mid-training: the training finishes on the other worker", { timeout: 180_000 }, async () => {
    const userId = "mp-user-1";
    const { runs } = await store.listRuns(userId, { limit: 1, offset: 0 });
    const before = workers.map((w) => w.output.length);
    const training = await post<{ jobId: string }>(apiA, "/train", { userId, runId: runs[0]!.id });
    const trainer = await waitFor("a worker to start training", () => workers.find((w, i) => w.output.slice(before[i]).includes("TRAINING")), 60_000);
    const other = workers.find((w) => w !== trainer)!;
    const otherBefore = other.output.length;
    await kill9(trainer);
    const events = await stream(apiB, userId, training.jobId, { timeoutMs: 150_000 });
    expect(events.at(-1)).toMatchObject({ type: "completed", status: "completed" });
    expectOrdered(events);
    expect(other.output.slice(otherBefore)).toContain("TRAINING");
    expect(await store.getRun(userId, runs[0]!.id)).toMatchObject({ status: "completed", leaseOwner: null });
    expect(await store.getModel(userId, runs[0]!.id)).not.toBeNull();
    expect(await pairsOf(userId, runs[0]!.id)).toMatchObject({ pairs: CHUNKS * QUESTIONS_PER_CHUNK, distinct: CHUNKS * QUESTIONS_PER_CHUNK });
    workers = [other, await start("worker-4", "worker")];
  });

  it("cancel from replica A stops a job B started, on every worker; generate resumes it with 0 missing and 0 duplicate pairs", { timeout: 180_000 }, async () => {
    const userId = "mp-user-3";
    const started = await post<{ jobId: string; runId: string }>(apiB, "/generate", { userId });
    const cancel: { request?: Promise<unknown> } = {};
    const events = await stream(apiB, userId, started.jobId, {
      timeoutMs: 150_000,
      onEvent: (event) => {
        if (!cancel.request && event.type === "progress" && event.processed >= CHUNKS / 4) {
          cancel.request = post(apiA, "/cancel", { userId, jobId: started.jobId });
        }
      },
    });
    expect(await cancel.request).toMatchObject({ jobId: started.jobId, kind: "generate", stopped: false });
    expect(events.at(-1)).toMatchObject({ type: "cancelled" });
    // The workers stop: nothing of the job is left in the queue, and the run's count stops moving short of the end.
    const processed = async () => (await store.getRun(userId, started.runId))!.processedChunks;
    await new Promise((r) => setTimeout(r, 3000));
    const settled = await processed();
    await new Promise((r) => setTimeout(r, 2000));
    expect(await processed()).toBe(settled);
    expect(settled).toBeLessThan(CHUNKS);
    const { rows } = await store.pool.query<{ n: number }>(
      "select count(*)::int as n from pgboss.job where state < 'completed' and data->>'jobId' = $1",
      [started.jobId],
    );
    expect(rows[0]!.n).toBe(0);

    const resumed = await post<{ jobId: string; runId: string; resumed: boolean }>(apiA, "/generate", { userId });
    expect(resumed).toMatchObject({ runId: started.runId, resumed: true });
    const done = await stream(apiA, userId, resumed.jobId, { timeoutMs: 150_000 });
    expect(done.at(-1)).toMatchObject({ type: "completed", processedChunks: CHUNKS, pairCount: CHUNKS * QUESTIONS_PER_CHUNK });
    expect(await pairsOf(userId, started.runId)).toEqual({
      pairs: CHUNKS * QUESTIONS_PER_CHUNK,
      distinct: CHUNKS * QUESTIONS_PER_CHUNK,
      chunks: CHUNKS,
      outcomes: CHUNKS,
    });
  });

  it("a crash of the API process that started a job does not stop the job", { timeout: 180_000 }, async () => {
    const userId = "mp-user-2";
    const started = await post<{ jobId: string; runId: string }>(apiB, "/generate", { userId });
    await kill9(apiB);
    const events = await stream(apiA, userId, started.jobId, { timeoutMs: 150_000 });
    expect(events.at(-1)).toMatchObject({ type: "completed", processedChunks: CHUNKS });
    expect(await pairsOf(userId, started.runId)).toMatchObject({ pairs: CHUNKS * QUESTIONS_PER_CHUNK, distinct: CHUNKS * QUESTIONS_PER_CHUNK, chunks: CHUNKS });
  });
});
