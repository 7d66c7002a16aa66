import { randomUUID } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { RunAlreadyActiveError, StoreError } from "../../errors/errors.js";
import type { TrainingStore } from "../../ports/training-store.js";
import { at, newRun, newUserId, sampleMetrics } from "./training-store-fixtures.contract.js";

/** TrainingStore contract: creating, reading, updating and leasing runs. */
export function describeRunContract(current: () => TrainingStore): void {
  let store: TrainingStore;

  describe("createRun and reads", () => {
    beforeAll(() => {
      store = current();
    });

    it("creates a run with zeroed counters and the given time, readable by its user only", async () => {
      const user = newUserId();
      const input = newRun(user);
      const run = await store.createRun(input, at(1));
      expect(run).toEqual({
        ...input,
        processedChunks: 0,
        skippedChunks: 0,
        pairCount: 0,
        duplicatesRemoved: 0,
        capReached: false,
        metrics: null,
        error: null,
        failedPhase: null,
        trainJobId: null,
        createdAt: at(1),
        updatedAt: at(1),
        generatedAt: null,
        completedAt: null,
      });
      expect(await store.getRun(user, run.id)).toEqual(run);
      expect(await store.getRun(newUserId(), run.id)).toBeNull();
      expect(await store.getRun(user, randomUUID())).toBeNull();
    });

    it("allows one active run per user and names the active one in the error", async () => {
      const user = newUserId();
      const first = await store.createRun(newRun(user), at(0));
      const second = store.createRun(newRun(user, { status: "generating" }), at(1));
      await expect(second).rejects.toBeInstanceOf(RunAlreadyActiveError);
      await expect(second).rejects.toMatchObject({ code: "RUN_ALREADY_ACTIVE", runId: first.id });
      // Other users are unaffected, and a run in a terminal status is no competitor.
      await expect(store.createRun(newRun(newUserId()), at(1))).resolves.toMatchObject({ status: "pending" });
      await expect(store.createRun(newRun(user, { status: "generated" }), at(2))).resolves.toMatchObject({ status: "generated" });
      expect((await store.listRuns(user, { limit: 10, offset: 0 })).total).toBe(2);
    });

    it("lets a user start a new run once the active one has finished", async () => {
      const user = newUserId();
      const first = await store.createRun(newRun(user), at(0));
      await store.updateRun(user, first.id, { status: "completed", completedAt: at(5) }, {}, at(5));
      await expect(store.createRun(newRun(user), at(6))).resolves.toMatchObject({ userId: user, status: "pending" });
    });

    it("refuses a second run with the same id", async () => {
      const user = newUserId();
      const input = newRun(user, { status: "generated" });
      await store.createRun(input, at(0));
      await expect(store.createRun({ ...input }, at(1))).rejects.toBeInstanceOf(StoreError);
    });

    it("finds a run by its generate or train job id, for its user only", async () => {
      const user = newUserId();
      const run = await store.createRun(newRun(user, { generateJobId: "gen-job-A" }), at(0));
      await store.updateRun(user, run.id, { trainJobId: "train-job-B" }, {}, at(1));
      expect((await store.findRunByJobId(user, "gen-job-A"))?.id).toBe(run.id);
      expect((await store.findRunByJobId(user, "train-job-B"))?.id).toBe(run.id);
      expect(await store.findRunByJobId(user, "no-such-job")).toBeNull();
      expect(await store.findRunByJobId(newUserId(), "gen-job-A")).toBeNull();
    });

    it("finds the user's active run and nothing once it is terminal", async () => {
      const user = newUserId();
      expect(await store.findActiveRun(user)).toBeNull();
      await store.createRun(newRun(user, { status: "completed" }), at(0));
      expect(await store.findActiveRun(user)).toBeNull();
      const active = await store.createRun(newRun(user, { status: "training" }), at(1));
      expect((await store.findActiveRun(user))?.id).toBe(active.id);
      expect(await store.findActiveRun(newUserId())).toBeNull();
      await store.updateRun(user, active.id, { status: "failed", error: "boom", failedPhase: "training" }, {}, at(2));
      expect(await store.findActiveRun(user)).toBeNull();
    });

    it("lists a user's runs newest first with the total, page by page", async () => {
      const user = newUserId();
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await store.createRun(newRun(user, { status: "completed" }), at(i))).id);
      await store.createRun(newRun(newUserId(), { status: "completed" }), at(10));
      const first = await store.listRuns(user, { limit: 2, offset: 0 });
      expect(first.total).toBe(5);
      expect(first.runs.map((r) => r.id)).toEqual([ids[4], ids[3]]);
      const last = await store.listRuns(user, { limit: 2, offset: 4 });
      expect(last.runs.map((r) => r.id)).toEqual([ids[0]]);
      expect(await store.listRuns(user, { limit: 2, offset: 9 })).toEqual({ runs: [], total: 5 });
      expect(await store.listRuns(newUserId(), { limit: 2, offset: 0 })).toEqual({ runs: [], total: 0 });
    });
  });

  describe("updateRun", () => {
    beforeAll(() => {
      store = current();
    });

    it("applies the patch, stamps updatedAt and persists every field", async () => {
      const user = newUserId();
      const run = await store.createRun(newRun(user, { status: "training" }), at(0));
      const patch = {
        status: "completed",
        metrics: sampleMetrics,
        generatedAt: at(3),
        completedAt: at(9),
        trainJobId: "train-1",
        leaseOwner: null,
        leaseExpiresAt: null,
        pairCount: 12,
        capReached: true,
      } as const;
      const updated = await store.updateRun(user, run.id, patch, { status: ["training"], leaseOwner: "worker-1" }, at(9));
      expect(updated).toMatchObject({
        ...patch,
        createdAt: at(0),
        updatedAt: at(9),
        generation: run.generation,
      });
      expect(await store.getRun(user, run.id)).toEqual(updated);
    });

    it("returns null and changes nothing when the guard fails or the run is not the user's", async () => {
      const user = newUserId();
      const run = await store.createRun(newRun(user, { status: "generating" }), at(0));
      expect(await store.updateRun(user, run.id, { status: "generated" }, { status: ["training"] }, at(1))).toBeNull();
      expect(await store.updateRun(user, run.id, { status: "generated" }, { leaseOwner: "worker-2" }, at(1))).toBeNull();
      expect(await store.updateRun(newUserId(), run.id, { status: "generated" }, {}, at(1))).toBeNull();
      expect(await store.updateRun(user, randomUUID(), { status: "generated" }, {}, at(1))).toBeNull();
      expect(await store.getRun(user, run.id)).toEqual(run);
    });

    it("refuses to move a run into an active status while another run is active", async () => {
      const user = newUserId();
      const active = await store.createRun(newRun(user, { status: "generating" }), at(0));
      const done = await store.createRun(newRun(user, { status: "generated" }), at(1));
      const attempt = store.updateRun(user, done.id, { status: "training" }, { status: ["generated"] }, at(2));
      await expect(attempt).rejects.toBeInstanceOf(RunAlreadyActiveError);
      await expect(attempt).rejects.toMatchObject({ runId: active.id });
      expect(await store.getRun(user, done.id)).toEqual(done);
      // Moving between active statuses of the same run is fine.
      await expect(store.updateRun(user, active.id, { status: "training" }, {}, at(3))).resolves.toMatchObject({ status: "training" });
    });
  });

  describe("claimLease", () => {
    beforeAll(() => {
      store = current();
    });

    it("takes a free, expired or own lease and refuses a live lease of another worker", async () => {
      const user = newUserId();
      const run = await store.createRun(newRun(user, { leaseOwner: null, leaseExpiresAt: null }), at(0));
      const taken = await store.claimLease(user, run.id, "worker-A", at(60), at(1));
      expect(taken).toMatchObject({ leaseOwner: "worker-A", leaseExpiresAt: at(60), updatedAt: at(1) });
      expect(await store.claimLease(user, run.id, "worker-B", at(90), at(30))).toBeNull();
      expect((await store.getRun(user, run.id))?.leaseOwner).toBe("worker-A");
      // The holder renews.
      expect(await store.claimLease(user, run.id, "worker-A", at(120), at(50))).toMatchObject({ leaseExpiresAt: at(120) });
      // An expired lease (expiry <= now) means its holder died: anyone may take it.
      expect(await store.claimLease(user, run.id, "worker-B", at(200), at(120))).toMatchObject({ leaseOwner: "worker-B" });
      expect(await store.claimLease(newUserId(), run.id, "worker-C", at(300), at(500))).toBeNull();
      expect(await store.claimLease(user, randomUUID(), "worker-C", at(300), at(500))).toBeNull();
    });
  });

}
