import { randomUUID } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { StoreError } from "../../errors/errors.js";
import type { NewRun, TrainingStore } from "../../ports/training-store.js";
import { at, newRun, newUserId, outcome } from "./training-store-fixtures.contract.js";

/** TrainingStore contract: recording chunk outcomes and reading question pairs across runs. */
export function describeChunkContract(current: () => TrainingStore): void {
  let store: TrainingStore;

  /** A run that is generating under worker-1's lease, ready for recordChunk. */
  async function generatingRun(userId: string, overrides: Partial<NewRun> = {}) {
    return store.createRun(newRun(userId, { status: "generating", ...overrides }), at(0));
  }

  describe("recordChunk", () => {
    beforeAll(() => {
      store = current();
    });

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
    beforeAll(() => {
      store = current();
    });

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

}
