import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { deepMemoryMigrations } from "../training-store/sql-schema.js";
import { at, describeTrainingStoreContract, newRun, newUserId, outcome } from "../training-store/training-store.contract.js";
import { PGliteTrainingStore } from "./pglite-training-store.js";

describeTrainingStoreContract(
  "PGlite",
  async () => {
    const store = await PGliteTrainingStore.open({ dataDir: "memory://" });
    return { store, cleanup: () => store.close() };
  },
  { rejectsNonUuidIds: true },
);

// Each PGlite start takes a few seconds of WebAssembly set-up.
describe("PGliteTrainingStore on disk", { timeout: 60_000 }, () => {
  it("keeps runs, pairs, settings and models across a restart and migrates only once", async () => {
    const dir = await mkdtemp(join(tmpdir(), "deep-memory-pglite-"));
    try {
      const dataDir = join(dir, "nested", "db");
      const user = newUserId();
      const first = await PGliteTrainingStore.open({ dataDir, migrate: false });
      expect(await first.migrate()).toEqual({ applied: deepMemoryMigrations.map((m) => m.name) });
      const run = await first.createRun(newRun(user, { status: "generating" }), at(0));
      await first.recordChunk(user, run.id, outcome("chunk-1", ["Does it persist?"]), "worker-1", at(1));
      await first.saveSettings(user, { enabled: true }, at(2));
      await first.saveModel({
        runId: run.id,
        userId: user,
        engine: "e",
        format: "f",
        dimensions: 1,
        embeddingModel: "m",
        weights: new Uint8Array([7]),
        metrics: {},
        createdAt: at(3),
      });
      await first.close();

      const second = await PGliteTrainingStore.open({ dataDir });
      try {
        expect(await second.migrate()).toEqual({ applied: [] });
        expect(await second.getRun(user, run.id)).toMatchObject({ processedChunks: 1, pairCount: 1 });
        expect((await second.listPairs(user, [run.id])).map((p) => p.question)).toEqual(["Does it persist?"]);
        expect(await second.getSettings(user)).toMatchObject({ enabled: true });
        expect((await second.getModel(user, run.id))?.weights).toEqual(new Uint8Array([7]));
      } finally {
        await second.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
