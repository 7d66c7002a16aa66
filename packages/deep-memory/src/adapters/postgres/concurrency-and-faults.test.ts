import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RunAlreadyActiveError, StoreError } from "../../errors/errors.js";
import { at, newRun, newUserId, outcome } from "../training-store/training-store.contract.js";
import { PostgresTrainingStore } from "./postgres-training-store.js";
import { connect, createTestDatabase, describeWithPostgres, type TestDatabase } from "./test-database.test-support.js";

/**
 * Several writers at once (two generate jobs, two processes) against the real
 * PostgreSQL, and a connection that dies mid-write. Each "process" is its own
 * store with its own pool.
 */

let db: TestDatabase;
let one: PostgresTrainingStore;
let two: PostgresTrainingStore;
let owner: pg.Client;

describeWithPostgres("concurrent writers and faults on PostgreSQL", () => {
  beforeAll(async () => {
    db = await createTestDatabase();
    one = await PostgresTrainingStore.connect({ connectionString: db.url, max: 4 });
    two = await PostgresTrainingStore.connect({ connectionString: db.url, max: 4 });
    owner = await connect(db.url);
  });

  afterAll(async () => {
    await owner?.end();
    await one?.close();
    await two?.close();
    await db?.drop();
  });

  describe("concurrent writers", () => {
    it("lets exactly one of several simultaneous createRun calls for a user win", async () => {
      for (let round = 0; round < 5; round++) {
        const user = newUserId();
        const attempts = await Promise.allSettled(
          [one, two, one, two].map((store, i) => store.createRun(newRun(user, { leaseOwner: `worker-${i}` }), at(round))),
        );
        const won = attempts.filter((a) => a.status === "fulfilled");
        const lost = attempts.filter((a): a is PromiseRejectedResult => a.status === "rejected");
        expect(won).toHaveLength(1);
        expect(lost).toHaveLength(3);
        const winner = (won[0] as PromiseFulfilledResult<{ id: string }>).value;
        for (const loss of lost) {
          expect(loss.reason).toBeInstanceOf(RunAlreadyActiveError);
          expect(loss.reason.runId).toBe(winner.id);
        }
        expect((await one.listRuns(user, { limit: 10, offset: 0 })).total).toBe(1);
      }
    });

    it("stores a chunk recorded by several writers at once exactly once", async () => {
      const user = newUserId();
      const run = await one.createRun(newRun(user, { status: "generating" }), at(0));
      const results = await Promise.all(
        [one, two, one, two, one].map((store) => store.recordChunk(user, run.id, outcome("chunk-1", ["Q1?", "Q2?"]), "worker-1", at(1))),
      );
      expect(results.filter((r) => r.recorded)).toHaveLength(1);
      expect(await one.listPairs(user, [run.id])).toHaveLength(2);
      expect(await two.getRun(user, run.id)).toMatchObject({ processedChunks: 1, pairCount: 2 });
    });

    it("loses no counter update when writers record different chunks of one run at once", async () => {
      const user = newUserId();
      const run = await one.createRun(newRun(user, { status: "generating" }), at(0));
      const chunks = Array.from({ length: 24 }, (_, i) => `chunk-${i}`);
      await Promise.all(
        chunks.map((chunk, i) =>
          (i % 2 ? one : two).recordChunk(
            user,
            run.id,
            i % 5 === 0
              ? outcome(chunk, [], { status: "skipped", reason: "empty" })
              : outcome(chunk, [`${chunk} a?`, `${chunk} b?`], { duplicatesRemoved: 1 }),
            "worker-1",
            at(1 + i),
          ),
        ),
      );
      const skipped = chunks.filter((_, i) => i % 5 === 0).length;
      expect(await one.getRun(user, run.id)).toMatchObject({
        processedChunks: 24,
        skippedChunks: skipped,
        pairCount: (24 - skipped) * 2,
        duplicatesRemoved: 24 - skipped,
      });
      expect(await two.listPairs(user, [run.id])).toHaveLength((24 - skipped) * 2);
    });

    it("gives a free lease to exactly one of two workers claiming it at once", async () => {
      const user = newUserId();
      const run = await one.createRun(newRun(user, { leaseOwner: null, leaseExpiresAt: null }), at(0));
      const [a, b] = await Promise.all([
        one.claimLease(user, run.id, "worker-A", at(60), at(1)),
        two.claimLease(user, run.id, "worker-B", at(60), at(1)),
      ]);
      expect([a, b].filter((r) => r !== null)).toHaveLength(1);
      const holder = (a ?? b)!.leaseOwner;
      expect((await one.getRun(user, run.id))?.leaseOwner).toBe(holder);
    });
  });

  describe("a dropped connection", () => {
    it("fails the write in progress with StoreError, keeps every committed pair, and the store recovers", async () => {
      const user = newUserId();
      const run = await one.createRun(newRun(user, { status: "generating" }), at(0));
      await one.recordChunk(user, run.id, outcome("committed", ["kept 1?", "kept 2?"]), "worker-1", at(1));

      // Hold the run's row lock so the next write parks inside the database, then kill its connection.
      const blocker = await connect(db.url);
      await blocker.query("begin");
      await blocker.query("select 1 from public.deep_memory_training_runs where id = $1 for update", [run.id]);
      const inFlight = one.recordChunk(user, run.id, outcome("in-flight", ["lost?"]), "worker-1", at(2));
      inFlight.catch(() => {});
      const pid = await waitForBlockedBackend(blocker);
      await owner.query("select pg_terminate_backend($1)", [pid]);

      const failure = await inFlight.then(
        () => null,
        (error: unknown) => error,
      );
      expect(failure).toBeInstanceOf(StoreError);
      expect((failure as StoreError).code).toBe("STORE_FAILED");
      await blocker.query("rollback");
      await blocker.end();

      // Nothing of the interrupted chunk was written; everything committed before is there.
      expect((await two.listPairs(user, [run.id])).map((p) => p.question)).toEqual(["kept 1?", "kept 2?"]);
      expect(await two.listRecordedChunkIds(user, run.id)).toEqual(["committed"]);
      expect(await two.getRun(user, run.id)).toMatchObject({ processedChunks: 1, pairCount: 2 });

      // The trainer resumes: the same store records the chunk again on a fresh connection.
      const resumed = await one.recordChunk(user, run.id, outcome("in-flight", ["recorded on resume?"]), "worker-1", at(3));
      expect(resumed.recorded).toBe(true);
      expect(resumed.run).toMatchObject({ processedChunks: 2, pairCount: 3 });
    });

    it("reports an unreachable database as StoreError", async () => {
      const url = new URL(db.url);
      url.port = "1";
      const unreachable = new PostgresTrainingStore({ connectionString: url.toString() });
      try {
        await expect(unreachable.getRun(newUserId(), "00000000-0000-4000-8000-000000000000")).rejects.toBeInstanceOf(StoreError);
      } finally {
        await unreachable.close();
      }
    });
  });

  /** The pid of the test database's backend that is waiting for a lock other than `blocker`'s. */
  async function waitForBlockedBackend(blocker: pg.Client): Promise<number> {
    const blockerPid = (await blocker.query("select pg_backend_pid() as pid")).rows[0].pid;
    for (let i = 0; i < 200; i++) {
      const { rows } = await owner.query("select pid from pg_stat_activity where datname = $1 and wait_event_type = 'Lock' and pid <> $2", [
        db.name,
        blockerPid,
      ]);
      if (rows[0]) return rows[0].pid;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error("The write never reached the database");
  }
});
