import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunMetrics } from "../../domain/metrics.js";
import type { ChunkOutcome } from "../../domain/run.js";
import { RunAlreadyActiveError, StoreError, ValidationError } from "../../errors/errors.js";
import type { NewRun, TrainingStore } from "../../ports/training-store.js";

/**
 * The behaviour every TrainingStore must have, run against each store (in
 * memory, PostgreSQL, PGlite, Supabase). The in-memory store is the reference.
 * Each test works with fresh user ids, so one store instance serves the file.
 */
export interface TrainingStoreContractOptions {
  /** Stores whose run ids are uuid columns reject other ids with ValidationError. */
  rejectsNonUuidIds?: boolean;
}

export interface ContractSubject {
  store: TrainingStore;
  cleanup?: () => Promise<void>;
}

const T0 = new Date("2026-01-01T00:00:00.000Z");
export const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
export const newUserId = () => `user-${randomUUID()}`;

export function newRun(userId: string, overrides: Partial<NewRun> = {}): NewRun {
  return {
    id: randomUUID(),
    userId,
    status: "pending",
    totalChunks: 10,
    existingChunks: 2,
    generation: { questionsPerChunk: 3, maxPairs: 100, model: "test-model" },
    generateJobId: `job-${randomUUID()}`,
    leaseOwner: "worker-1",
    leaseExpiresAt: at(60),
    ...overrides,
  };
}

export function outcome(chunkId: string, questions: string[], overrides: Partial<ChunkOutcome> = {}): ChunkOutcome {
  return { chunkId, status: "done", questions, reason: null, duplicatesRemoved: 0, capReached: false, ...overrides };
}

export const sampleMetrics: RunMetrics = {
  heldOut: {
    withModel: { "recall@10": 0.75, "ndcg@10": 0.6 },
    withoutModel: { "recall@10": 0.67, "ndcg@10": 0.55 },
    queryCount: 40,
    topK: [1, 3, 5, 10],
  },
  trainPairs: 360,
  heldOutPairs: 40,
  recallAt10Gain: 0.08,
  verdict: "improved",
  reason: "recall@10 rose from 0.67 to 0.75 on held-out questions",
  training: {
    engine: "local-residual-linear",
    epochs: 12,
    bestEpoch: 9,
    trainQueries: 324,
    validationQueries: 36,
    baselineValidationRecallAt10: 0.7,
    validationRecallAt10: 0.78,
    wallMs: 1234.5,
  },
};

export function describeTrainingStoreContract(
  name: string,
  createSubject: () => Promise<ContractSubject>,
  options: TrainingStoreContractOptions = {},
): void {
  describe(`TrainingStore contract: ${name}`, () => {
    let subject: ContractSubject;
    let store: TrainingStore;

    beforeAll(async () => {
      subject = await createSubject();
      store = subject.store;
    }, 60_000);
    afterAll(async () => {
      await subject?.cleanup?.();
    }, 60_000);

    /** A run that is generating under worker-1's lease, ready for recordChunk. */
    async function generatingRun(userId: string, overrides: Partial<NewRun> = {}) {
      return store.createRun(newRun(userId, { status: "generating", ...overrides }), at(0));
    }

    describe("createRun and reads", () => {
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
      it("applies the patch, stamps updatedAt and persists every field", async () => {
        const user = newUserId();
        const run = await store.createRun(newRun(user, { status: "training" }), at(0));
        const updated = await store.updateRun(
          user,
          run.id,
          {
            status: "completed",
            metrics: sampleMetrics,
            generatedAt: at(3),
            completedAt: at(9),
            trainJobId: "train-1",
            leaseOwner: null,
            leaseExpiresAt: null,
            pairCount: 12,
            capReached: true,
          },
          { status: ["training"], leaseOwner: "worker-1" },
          at(9),
        );
        expect(updated).toMatchObject({
          status: "completed",
          metrics: sampleMetrics,
          generatedAt: at(3),
          completedAt: at(9),
          trainJobId: "train-1",
          leaseOwner: null,
          leaseExpiresAt: null,
          pairCount: 12,
          capReached: true,
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

    describe("recordChunk", () => {
      it("stores the questions as pairs and advances the run's counters", async () => {
        const user = newUserId();
        const run = await generatingRun(user);
        const first = await store.recordChunk(
          user,
          run.id,
          outcome("chunk-1", ["What is A?", "Why B?"], { duplicatesRemoved: 1 }),
          "worker-1",
          at(1),
        );
        expect(first.recorded).toBe(true);
        expect(first.run).toMatchObject({
          processedChunks: 1,
          skippedChunks: 0,
          pairCount: 2,
          duplicatesRemoved: 1,
          capReached: false,
          updatedAt: at(1),
        });
        const skipped = await store.recordChunk(
          user,
          run.id,
          outcome("chunk-2", [], { status: "skipped", reason: "empty text" }),
          "worker-1",
          at(2),
        );
        expect(skipped.run).toMatchObject({ processedChunks: 2, skippedChunks: 1, pairCount: 2 });
        const capped = await store.recordChunk(user, run.id, outcome("chunk-3", ["How C?"], { capReached: true }), "worker-1", at(3));
        expect(capped.run).toMatchObject({ processedChunks: 3, pairCount: 3, capReached: true });
        const later = await store.recordChunk(user, run.id, outcome("chunk-4", ["When D?"]), "worker-1", at(4));
        expect(later.run.capReached).toBe(true);
        expect(await store.getRun(user, run.id)).toEqual(later.run);

        const pairs = await store.listPairs(user, [run.id]);
        expect(pairs.map((p) => [p.chunkId, p.question])).toEqual([
          ["chunk-1", "What is A?"],
          ["chunk-1", "Why B?"],
          ["chunk-3", "How C?"],
          ["chunk-4", "When D?"],
        ]);
        expect(pairs[0]).toMatchObject({ runId: run.id, userId: user, createdAt: at(1) });
        expect(new Set(pairs.map((p) => p.id)).size).toBe(4);
      });

      it("is idempotent per (run, chunk): a resumed duplicate writes nothing", async () => {
        const user = newUserId();
        const run = await generatingRun(user);
        await store.recordChunk(user, run.id, outcome("chunk-1", ["Q1?", "Q2?"]), "worker-1", at(1));
        const again = await store.recordChunk(
          user,
          run.id,
          outcome("chunk-1", ["Q1?", "Q3?"], { duplicatesRemoved: 4 }),
          "worker-1",
          at(2),
        );
        expect(again.recorded).toBe(false);
        expect(again.run).toMatchObject({ processedChunks: 1, pairCount: 2, duplicatesRemoved: 0, updatedAt: at(1) });
        expect((await store.listPairs(user, [run.id])).map((p) => p.question)).toEqual(["Q1?", "Q2?"]);
      });

      it("requires the lease and the user's own run, and writes nothing otherwise", async () => {
        const user = newUserId();
        const run = await generatingRun(user);
        await expect(store.recordChunk(user, run.id, outcome("chunk-1", ["Q?"]), "worker-2", at(1))).rejects.toBeInstanceOf(StoreError);
        await expect(store.recordChunk(newUserId(), run.id, outcome("chunk-1", ["Q?"]), "worker-1", at(1))).rejects.toBeInstanceOf(
          StoreError,
        );
        await expect(store.recordChunk(user, randomUUID(), outcome("chunk-1", ["Q?"]), "worker-1", at(1))).rejects.toBeInstanceOf(
          StoreError,
        );
        expect(await store.getRun(user, run.id)).toEqual(run);
        expect(await store.listPairs(user, [run.id])).toEqual([]);
        expect(await store.listRecordedChunkIds(user, run.id)).toEqual([]);
      });

      it("lists the chunks a run has recorded, done or skipped, for its user only", async () => {
        const user = newUserId();
        const run = await generatingRun(user);
        await store.recordChunk(user, run.id, outcome("a", ["Q?"]), "worker-1", at(1));
        await store.recordChunk(user, run.id, outcome("b", [], { status: "skipped", reason: "no questions" }), "worker-1", at(2));
        expect((await store.listRecordedChunkIds(user, run.id)).sort()).toEqual(["a", "b"]);
        expect(await store.listRecordedChunkIds(newUserId(), run.id)).toEqual([]);
      });
    });

    describe("pairs across runs", () => {
      it("lists chunk ids with pairs in the user's runs of the given statuses", async () => {
        const user = newUserId();
        const one = await generatingRun(user);
        await store.recordChunk(user, one.id, outcome("a", ["Q1?"]), "worker-1", at(1));
        await store.recordChunk(user, one.id, outcome("b", ["Q2?"]), "worker-1", at(2));
        await store.recordChunk(user, one.id, outcome("skipped", [], { status: "skipped", reason: "empty" }), "worker-1", at(3));
        await store.updateRun(user, one.id, { status: "completed" }, {}, at(4));
        const two = await generatingRun(user);
        await store.recordChunk(user, two.id, outcome("b", ["Q3?"]), "worker-1", at(5));
        await store.recordChunk(user, two.id, outcome("c", ["Q4?"]), "worker-1", at(6));
        const other = newUserId();
        const theirs = await generatingRun(other);
        await store.recordChunk(other, theirs.id, outcome("z", ["Q?"]), "worker-1", at(7));
        await store.updateRun(other, theirs.id, { status: "completed" }, {}, at(8));

        expect((await store.listChunkIdsWithPairs(user, ["completed"])).sort()).toEqual(["a", "b"]);
        expect((await store.listChunkIdsWithPairs(user, ["completed", "generating"])).sort()).toEqual(["a", "b", "c"]);
        expect(await store.listChunkIdsWithPairs(user, ["failed"])).toEqual([]);
      });

      it("lists the pairs of several runs oldest first, leaving out runs of other users", async () => {
        const user = newUserId();
        const one = await generatingRun(user);
        await store.recordChunk(user, one.id, outcome("a", ["first?"]), "worker-1", at(1));
        await store.updateRun(user, one.id, { status: "completed" }, {}, at(2));
        const two = await generatingRun(user);
        await store.recordChunk(user, two.id, outcome("b", ["third?"]), "worker-1", at(5));
        await store.recordChunk(user, one.id, outcome("c", ["second?"]), "worker-1", at(3));
        const other = newUserId();
        const theirs = await generatingRun(other);
        await store.recordChunk(other, theirs.id, outcome("x", ["theirs?"]), "worker-1", at(0));

        const pairs = await store.listPairs(user, [two.id, one.id, theirs.id]);
        expect(pairs.map((p) => p.question)).toEqual(["first?", "second?", "third?"]);
        expect(await store.listPairs(user, [])).toEqual([]);
      });
    });

    describe("settings", () => {
      it("creates settings on first save and changes only the patched fields later", async () => {
        const user = newUserId();
        expect(await store.getSettings(user)).toBeNull();
        const created = await store.saveSettings(user, { enabled: false }, at(1));
        expect(created).toEqual({
          userId: user,
          enabled: false,
          lastTrainedAt: null,
          lastTrainingRunId: null,
          modelRunId: null,
          updatedAt: at(1),
        });

        const run = await store.createRun(newRun(user, { status: "completed" }), at(2));
        const trained = await store.saveSettings(user, { lastTrainedAt: at(3), lastTrainingRunId: run.id, modelRunId: run.id }, at(3));
        expect(trained).toEqual({
          userId: user,
          enabled: false,
          lastTrainedAt: at(3),
          lastTrainingRunId: run.id,
          modelRunId: run.id,
          updatedAt: at(3),
        });
        const enabled = await store.saveSettings(user, { enabled: true }, at(4));
        expect(enabled).toEqual({ ...trained, enabled: true, updatedAt: at(4) });
        expect(await store.getSettings(user)).toEqual(enabled);
        const cleared = await store.saveSettings(user, { modelRunId: null, enabled: false }, at(5));
        expect(cleared).toMatchObject({ modelRunId: null, enabled: false, lastTrainingRunId: run.id });
        expect(await store.getSettings(newUserId())).toBeNull();
      });
    });

    describe("models", () => {
      it("stores a run's model, replaces it on a second save, and shows it to its user only", async () => {
        const user = newUserId();
        const run = await store.createRun(newRun(user, { status: "training" }), at(0));
        const weights = new Uint8Array(new Float32Array([0.5, -1.25, 3, 0, 1e-7, 255]).buffer);
        const model = {
          runId: run.id,
          userId: user,
          engine: "local-residual-linear",
          format: "local-residual-linear/v1",
          dimensions: 384,
          embeddingModel: "bge-small-en-v1.5",
          weights,
          metrics: { "recall@10": 0.8, nested: { ok: true } },
          createdAt: at(5),
        };
        await store.saveModel(model);
        const stored = await store.getModel(user, run.id);
        expect(stored).toEqual(model);
        expect(stored?.weights).toBeInstanceOf(Uint8Array);
        // The caller gets a copy: changing it changes nothing stored.
        stored!.weights[0] = 42;
        expect((await store.getModel(user, run.id))?.weights).toEqual(weights);

        const replacement = { ...model, weights: new Uint8Array([1, 2, 3]), dimensions: 3, createdAt: at(6) };
        await store.saveModel(replacement);
        expect(await store.getModel(user, run.id)).toEqual(replacement);
        expect(await store.getModel(newUserId(), run.id)).toBeNull();
        expect(await store.getModel(user, randomUUID())).toBeNull();
      });

      it("refuses a model for a run that is missing or another user's", async () => {
        const user = newUserId();
        const run = await store.createRun(newRun(user, { status: "training" }), at(0));
        const base = {
          runId: run.id,
          userId: newUserId(),
          engine: "e",
          format: "f",
          dimensions: 2,
          embeddingModel: "m",
          weights: new Uint8Array([1]),
          metrics: {},
          createdAt: at(1),
        };
        await expect(store.saveModel(base)).rejects.toBeInstanceOf(StoreError);
        await expect(store.saveModel({ ...base, userId: user, runId: randomUUID() })).rejects.toBeInstanceOf(StoreError);
        expect(await store.getModel(user, run.id)).toBeNull();
      });
    });

    if (options.rejectsNonUuidIds) {
      describe("ids", () => {
        it("rejects a run id that is not a UUID with ValidationError, not a database error", async () => {
          const user = newUserId();
          await expect(store.getRun(user, "not-a-uuid")).rejects.toBeInstanceOf(ValidationError);
          await expect(store.updateRun(user, "1; drop table x", { status: "failed" }, {}, at(1))).rejects.toBeInstanceOf(ValidationError);
          await expect(store.claimLease(user, "nope", "w", at(1), at(0))).rejects.toBeInstanceOf(ValidationError);
          await expect(store.recordChunk(user, "nope", outcome("a", ["Q?"]), "w", at(0))).rejects.toBeInstanceOf(ValidationError);
          await expect(store.listPairs(user, [randomUUID(), "nope"])).rejects.toBeInstanceOf(ValidationError);
          await expect(store.getModel(user, "nope")).rejects.toBeInstanceOf(ValidationError);
          await expect(store.createRun(newRun(user, { id: "run-1" }), at(0))).rejects.toBeInstanceOf(ValidationError);
        });

        it("rejects invalid values before they reach the database", async () => {
          const user = newUserId();
          const run = await store.createRun(newRun(user, { status: "generating" }), at(0));
          await expect(store.updateRun(user, run.id, { pairCount: -1 }, {}, at(1))).rejects.toBeInstanceOf(ValidationError);
          await expect(store.updateRun(user, run.id, { status: "paused" as never }, {}, at(1))).rejects.toBeInstanceOf(ValidationError);
          await expect(store.recordChunk(user, run.id, outcome("a", ["x".repeat(3000)]), "worker-1", at(1))).rejects.toBeInstanceOf(
            ValidationError,
          );
          await expect(store.listRuns(user, { limit: -1, offset: 0 })).rejects.toBeInstanceOf(ValidationError);
          expect(await store.getRun(user, run.id)).toEqual(run);
        });
      });
    }
  });
}
