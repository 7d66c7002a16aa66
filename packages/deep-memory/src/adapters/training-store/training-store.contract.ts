import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ValidationError } from "../../errors/errors.js";
import type { TrainingStore } from "../../ports/training-store.js";
import { at, newRun, newUserId, outcome } from "./training-store-fixtures.contract.js";
import { describeChunkContract } from "./training-store-chunks.contract.js";
import { describeRunContract } from "./training-store-runs.contract.js";
import { describeSettingsAndModelsContract } from "./training-store-settings.contract.js";

export { at, newRun, newUserId, outcome, sampleMetrics } from "./training-store-fixtures.contract.js";

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

    describeRunContract(() => store);
    describeChunkContract(() => store);
    describeSettingsAndModelsContract(() => store);

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
