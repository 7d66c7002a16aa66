import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { JobEventLog, NewJob } from "../../events/job-event-log.js";
import { PGliteTrainingStore } from "../pglite/pglite-training-store.js";
import { PostgresTrainingStore } from "../postgres/postgres-training-store.js";
import { connect, createTestDatabase, describeWithPostgres, type TestDatabase } from "../postgres/test-database.test-support.js";
import { at, newRun } from "../training-store/training-store.contract.js";
import type { SqlTrainingStore } from "../training-store/sql-training-store.js";

const progress = (processed: number) =>
  ({ type: "progress", phase: "generating", processed, total: 100, percent: processed, pairCount: processed * 3, skippedChunks: 0 }) as const;

/** The same behaviour on every SQL database the log runs on. */
function describeEventLog(name: string, open: () => Promise<{ store: SqlTrainingStore & { jobEventLog(): JobEventLog }; rows(jobId: string): Promise<number>; close(): Promise<void> }>) {
  describe(`job event log on ${name}`, { timeout: 60_000 }, () => {
    let env: Awaited<ReturnType<typeof open>>;
    let log: JobEventLog;
    beforeAll(async () => {
      env = await open();
      log = env.store.jobEventLog();
    }, 60_000);
    afterAll(async () => {
      await log?.close?.();
      await env?.close();
    });

    async function newJob(userId = `user-${randomUUID()}`): Promise<NewJob> {
      const run = await env.store.createRun(newRun(userId, { status: "generating" }), at(0));
      const job: NewJob = { jobId: randomUUID(), runId: run.id, userId, kind: "generate" };
      await log.createJob(job, at(1));
      return job;
    }

    it("numbers events in order and reads them back after any seq, with the job's run and kind", async () => {
      const job = await newJob();
      await log.createJob(job, at(2)); // registering again changes nothing
      const started = await log.append(job, { type: "started", totalChunks: 100, resumed: false }, at(2));
      const skipped = await log.append(job, { type: "chunk_skipped", chunkId: "c-1", reason: "empty text" }, at(3));
      expect([started?.seq, skipped?.seq]).toEqual([1, 2]);
      const events = await log.read(job.userId, job.jobId, 0);
      expect(events).toEqual([
        { type: "started", totalChunks: 100, resumed: false, seq: 1, jobId: job.jobId, runId: job.runId, kind: "generate", at: at(2).toISOString() },
        { type: "chunk_skipped", chunkId: "c-1", reason: "empty text", seq: 2, jobId: job.jobId, runId: job.runId, kind: "generate", at: at(3).toISOString() },
      ]);
      expect((await log.read(job.userId, job.jobId, 1)).map((e) => e.seq)).toEqual([2]);
      expect(await log.getJob(job.userId, job.jobId)).toMatchObject({ jobId: job.jobId, runId: job.runId, kind: "generate", active: true });
    });

    it("keeps one row for a run of progress events: the latest, under a new seq, so a resuming client gets it", async () => {
      const job = await newJob();
      await log.append(job, { type: "started", totalChunks: 100, resumed: false }, at(2));
      for (let i = 1; i <= 200; i++) await log.append(job, progress(i), at(3));
      expect(await env.rows(job.jobId)).toBe(2);
      const afterSeq5 = await log.read(job.userId, job.jobId, 5);
      expect(afterSeq5).toEqual([expect.objectContaining({ type: "progress", processed: 200, seq: 201 })]);
      // A fact ends the run of progress: the next progress gets a row of its own.
      await log.append(job, { type: "chunk_skipped", chunkId: "c-9", reason: "empty text" }, at(4));
      await log.append(job, progress(201), at(5));
      await log.append(job, progress(202), at(5));
      expect((await log.read(job.userId, job.jobId, 0)).map((e) => [e.type, e.seq])).toEqual([
        ["started", 1],
        ["progress", 201],
        ["chunk_skipped", 202],
        ["progress", 204],
      ]);
    });

    it("ends the job at its terminal event and appends nothing after it", async () => {
      const job = await newJob();
      await log.append(job, { type: "failed", error: { code: "INTERNAL", message: "boom" } }, at(2));
      expect(await log.append(job, progress(1), at(3))).toBeNull();
      expect((await log.getJob(job.userId, job.jobId))?.active).toBe(false);
      expect((await log.read(job.userId, job.jobId, 0)).map((e) => e.type)).toEqual(["failed"]);
    });

    it("never shows a job to another user, and treats ids that are not UUIDs as unknown", async () => {
      const job = await newJob();
      await log.append(job, { type: "started", totalChunks: 1, resumed: false }, at(2));
      expect(await log.getJob("someone-else", job.jobId)).toBeNull();
      expect(await log.read("someone-else", job.jobId, 0)).toEqual([]);
      await expect(log.append({ ...job, userId: "someone-else" }, progress(1), at(3))).rejects.toMatchObject({ code: "STORE_FAILED" });
      expect(await log.getJob(job.userId, "not-a-uuid")).toBeNull();
      expect(await log.read(job.userId, "not-a-uuid", 0)).toEqual([]);
    });
  });
}

describeEventLog("PGlite", async () => {
  const store = await PGliteTrainingStore.open({ dataDir: "memory://" });
  return {
    store,
    rows: async (jobId) => {
      const { rows } = await store.db.query("select count(*)::int as n from public.deep_memory_job_events where job_id = $1", [jobId]);
      return (rows[0] as { n: number }).n;
    },
    close: () => store.close(),
  };
});

let db: TestDatabase | undefined;
describeWithPostgres("PostgreSQL job events", () => {
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  describeEventLog("PostgreSQL", async () => {
    const store = await PostgresTrainingStore.connect({ connectionString: db!.url, max: 4 });
    return {
      store,
      rows: async (jobId) => Number((await store.pool.query("select count(*)::int as n from public.deep_memory_job_events where job_id = $1", [jobId])).rows[0].n),
      close: () => store.close(),
    };
  });

  it("wakes a watcher in another process's pool at once through LISTEN/NOTIFY, not by polling", { timeout: 30_000 }, async () => {
    const reader = await PostgresTrainingStore.connect({ connectionString: db!.url, max: 2 });
    const writer = await PostgresTrainingStore.connect({ connectionString: db!.url, max: 2, migrate: false });
    // Polling only once a minute: a wake-up within seconds can only come from the notification.
    const readLog = reader.jobEventLog({ pollMs: 60_000 });
    const writeLog = writer.jobEventLog();
    try {
      const run = await writer.createRun(newRun("notify-user", { status: "generating" }), at(0));
      const job: NewJob = { jobId: randomUUID(), runId: run.id, userId: "notify-user", kind: "generate" };
      await writeLog.createJob(job, at(1));
      let woken!: () => void;
      const wake = new Promise<void>((resolve) => (woken = resolve));
      const stop = readLog.watch(job.jobId, () => woken());
      // The LISTEN connection opens asynchronously; append until the watcher hears one.
      const started = Date.now();
      let appended = 0;
      const timer = setInterval(() => void writeLog.append(job, progress(++appended), at(2)), 200);
      await wake;
      clearInterval(timer);
      stop();
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      await readLog.close();
      await writeLog.close();
      await reader.close();
      await writer.close();
    }
  });

  it("closing the store closes the event logs it made (their listening connection would hold pool.end() forever)", { timeout: 30_000 }, async () => {
    const store = await PostgresTrainingStore.connect({ connectionString: db!.url, max: 2 });
    const log = store.jobEventLog();
    const stop = log.watch(randomUUID(), () => {});
    // Let the LISTEN connection open.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const closed = await Promise.race([store.close().then(() => "closed"), new Promise((resolve) => setTimeout(() => resolve("hung"), 10_000))]);
    stop();
    expect(closed).toBe("closed");
  });

  it("row-level security: a signed-in user reads and appends only their own jobs' events", async () => {
    const store = await PostgresTrainingStore.connect({ connectionString: db!.url, max: 2 });
    const log = store.jobEventLog();
    const [a, b] = [randomUUID(), randomUUID()];
    const jobs: Record<string, NewJob> = {};
    for (const user of [a, b]) {
      const run = await store.createRun(newRun(user, { status: "generating" }), at(0));
      jobs[user] = { jobId: randomUUID(), runId: run.id, userId: user, kind: "generate" };
      await log.createJob(jobs[user], at(1));
      await log.append(jobs[user], { type: "started", totalChunks: 1, resumed: false }, at(2));
    }
    const client = await connect(db!.url);
    try {
      await client.query("begin");
      await client.query("set local role authenticated");
      await client.query("select set_config('request.jwt.claims', $1, true)", [JSON.stringify({ sub: a, role: "authenticated" })]);
      const seen = await client.query("select user_id from public.deep_memory_job_events union all select user_id from public.deep_memory_jobs");
      expect(seen.rows.map((r) => r.user_id)).toEqual([a, a]);
      const own = await client.query("select seq, appended from public.deep_memory_append_job_event($1, $2, 'progress', '{}'::jsonb, now(), false)", [
        jobs[a]!.jobId,
        a,
      ]);
      expect(own.rows).toEqual([{ seq: 2, appended: true }]);
      await client.query("savepoint s");
      await expect(
        client.query("select * from public.deep_memory_append_job_event($1, $2, 'progress', '{}'::jsonb, now(), false)", [jobs[b]!.jobId, b]),
      ).rejects.toMatchObject({ code: "DM001" });
      await client.query("rollback to savepoint s");
      await client.query("set local role anon");
      await client.query("savepoint t");
      await expect(client.query("select * from public.deep_memory_job_events")).rejects.toMatchObject({ code: "42501" });
    } finally {
      await client.query("rollback").catch(() => {});
      await client.end();
      await log.close();
      await store.close();
    }
  });
});
