import { beforeAll, describe, expect, it } from "vitest";
import { PGliteTrainingStore } from "../adapters/pglite/pglite-training-store.js";
import type { JobEvent } from "../events/events.js";
import type { JobEventLog } from "../events/job-event-log.js";
import { unusedEngine } from "../test-utils/engines.js";
import { syntheticTrainer } from "../test-utils/synthetic-trainer.js";
import { syntheticCorpus } from "../test-utils/synthetic.js";

const userId = "user-events";

/** A log that counts what reaches the database. */
function counting(log: JobEventLog) {
  const appended: JobEvent["type"][] = [];
  const wrapped: JobEventLog = {
    createJob: (job, now) => log.createJob(job, now),
    append: (job, event, now) => {
      appended.push(event.type);
      return log.append(job, event, now);
    },
    getJob: (u, j) => log.getJob(u, j),
    read: (u, j, after, limit) => log.read(u, j, after, limit),
    watch: (j, onChange) => log.watch(j, onChange),
  };
  return { log: wrapped, appended };
}

async function collect(iterable: AsyncIterable<JobEvent>): Promise<JobEvent[]> {
  const events: JobEvent[] = [];
  for await (const event of iterable) events.push(event);
  return events;
}

describe("job events through a shared event log", { timeout: 60_000 }, () => {
  let store: PGliteTrainingStore;
  beforeAll(async () => {
    store = await PGliteTrainingStore.open({ dataDir: "memory://" });
    return () => store.close();
  }, 60_000);

  function replica(instanceId: string, log: JobEventLog, chunks = 300) {
    const corpus = syntheticCorpus({ chunks, dims: 8, seed: 3 });
    return syntheticTrainer(corpus, {
      store,
      engine: unusedEngine,
      events: log,
      instanceId,
      options: { questionsPerChunk: 2, concurrency: 4, progressIntervalMs: 1000 },
    });
  }

  it("a replica that never ran the job streams it in order, resumes after any seq, and progress reaches the log coalesced", async () => {
    const shared = store.jobEventLog({ pollMs: 50 });
    const a = counting(shared);
    const replicaA = replica("replica-a", a.log);
    const replicaB = replica("replica-b", shared);
    const local: JobEvent[] = [];
    replicaA.on("progress", (e) => local.push(e));

    const { jobId } = await replicaA.generate({ userId });
    expect(replicaB.getJob({ userId, jobId })).toBeNull(); // not B's job...
    expect(await replicaB.findJob({ userId, jobId })).toMatchObject({ jobId, kind: "generate" }); // ...but B finds it
    const streamed = await collect(replicaB.jobEvents({ userId, jobId }));
    expect(streamed[0]?.type).toBe("started");
    expect(streamed.at(-1)).toMatchObject({ type: "completed", processedChunks: 300, pairCount: 600 });
    const seqs = streamed.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    expect(new Set(seqs).size).toBe(seqs.length);

    // The job's own process still sees every step; the log got a handful of progress writes, and keeps one progress row.
    expect(local.length).toBeGreaterThan(300);
    expect(a.appended.filter((t) => t === "progress").length).toBeLessThan(10);
    const rows = await store.db.query("select count(*)::int as n from public.deep_memory_job_events where job_id = $1", [jobId]);
    expect((rows.rows[0] as { n: number }).n).toBeLessThanOrEqual(3);

    // Last-Event-ID resume on either replica gives the same tail: every fact after the seq and where progress ended.
    const after = streamed[0]!.seq;
    const tailB = await collect(replicaB.jobEvents({ userId, jobId, after }));
    const tailA = await collect(replicaA.jobEvents({ userId, jobId, after }));
    const facts = (events: JobEvent[]) => events.filter((e) => e.type !== "progress");
    expect(facts(tailB)).toEqual(facts(streamed.slice(1)));
    expect(tailB.filter((e) => e.type === "progress")).toEqual([expect.objectContaining({ processed: 300 })]);
    expect(tailA).toEqual(tailB);
    expect(await replicaB.waitForJob({ userId, jobId })).toMatchObject({ type: "completed" });
    // Resuming past the end ends at once.
    expect(await collect(replicaB.jobEvents({ userId, jobId, after: streamed.at(-1)!.seq }))).toEqual([]);
    await expect(collect(replicaB.jobEvents({ userId: "someone-else", jobId }))).rejects.toMatchObject({ code: "NOT_FOUND" });
    await replicaA.close();
    await replicaB.close();
  });

  it("subscribe follows a job of another replica through the log", async () => {
    const shared = store.jobEventLog({ pollMs: 50 });
    const owner = replica("owner", shared, 320);
    const follower = replica("follower", shared, 320);
    const { jobId } = await owner.generate({ userId });
    const got: JobEvent[] = [];
    const done = new Promise<void>((resolve) => {
      follower.subscribe({ userId, jobId }, (event) => {
        got.push(event);
        if (event.type === "completed" || event.type === "failed") resolve();
      });
    });
    await done;
    expect(got.at(-1)).toMatchObject({ type: "completed", totalChunks: 20 });
    await owner.close();
    await follower.close();
  });
});
