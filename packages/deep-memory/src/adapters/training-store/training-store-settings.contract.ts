import { randomUUID } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { StoreError } from "../../errors/errors.js";
import type { TrainingStore } from "../../ports/training-store.js";
import { at, newRun, newUserId } from "./training-store-fixtures.contract.js";

/** TrainingStore contract: user settings and trained models. */
export function describeSettingsAndModelsContract(current: () => TrainingStore): void {
  let store: TrainingStore;

  describe("settings", () => {
    beforeAll(() => {
      store = current();
    });

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
    beforeAll(() => {
      store = current();
    });

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

}
