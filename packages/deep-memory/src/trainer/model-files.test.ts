import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalDeepMemory } from "@zip/deep-memory-engine";
import { PGliteTrainingStore } from "../adapters/pglite/pglite-training-store.js";
import { PostgresTrainingStore } from "../adapters/postgres/postgres-training-store.js";
import { createTestDatabase, describeWithPostgres, type TestDatabase } from "../adapters/postgres/test-database.test-support.js";
import { InMemoryTrainingStore } from "../adapters/training-store/in-memory-training-store.js";
import { InMemoryVectorStore } from "../adapters/vector-store/in-memory-vector-store.js";
import { ModelFileInvalidError, ModelIncompatibleError, StoreError } from "../errors/errors.js";
import { httpStatusFor } from "../errors/http-status.js";
import type { Embedder } from "../ports/embedder.js";
import type { TrainingStore } from "../ports/training-store.js";
import { ScriptedGenerator, syntheticCorpus, type SyntheticCorpus } from "../test-utils/synthetic.js";
import { DeepMemoryTrainer } from "./deep-memory-trainer.js";
import { MODEL_FILE_MAGIC, readModelFile } from "./model-file-format.js";
import { deepMemoryRejection } from "../test-utils/rejection.js";

/** PostgreSQL stores key users by uuid-shaped text; the in-memory one takes any. */
const userId = "00000000-0000-4000-8000-0000000000a1";
const corpus = syntheticCorpus({ chunks: 60, dims: 24, seed: 11 });

function trainerWith(store: TrainingStore, embedder: Embedder = corpus.embedder, source: SyntheticCorpus = corpus) {
  return new DeepMemoryTrainer({
    vectorStore: new InMemoryVectorStore(source.documents),
    store,
    embedder,
    generator: new ScriptedGenerator(source.questionFor),
    engine: new LocalDeepMemory(),
    options: { questionsPerChunk: 5, concurrency: 4 },
  });
}

async function trainOnce(trainer: DeepMemoryTrainer): Promise<string> {
  const { jobId, runId } = await trainer.generate({ userId });
  expect(await trainer.waitForJob({ userId, jobId })).toMatchObject({ type: "completed" });
  const training = await trainer.train({ userId, runId });
  expect(await trainer.waitForJob({ userId, jobId: training.jobId })).toMatchObject({ type: "completed" });
  return runId;
}

/** Rewrites a file's header with `edit` and gives it a valid checksum again, as a foreign writer would. */
function withHeader(file: Uint8Array, edit: (header: Record<string, unknown>) => void): Uint8Array {
  const view = new DataView(file.buffer, file.byteOffset);
  const length = view.getUint32(8, true);
  const header = JSON.parse(new TextDecoder().decode(file.subarray(12, 12 + length))) as Record<string, unknown>;
  edit(header);
  const json = new TextEncoder().encode(JSON.stringify(header));
  const rest = file.subarray(12 + length, file.length - 32);
  const out = new Uint8Array(12 + json.length + rest.length + 32);
  out.set(file.subarray(0, 8));
  new DataView(out.buffer).setUint32(8, json.length, true);
  out.set(json, 12);
  out.set(rest, 12 + json.length);
  out.set(createHash("sha256").update(out.subarray(0, out.length - 32)).digest(), out.length - 32);
  return out;
}

let source: DeepMemoryTrainer;
let sourceRunId: string;
let file: Uint8Array;

beforeAll(async () => {
  source = trainerWith(new InMemoryTrainingStore());
  sourceRunId = await trainOnce(source);
  file = await source.exportModel({ userId });
});
afterAll(() => source.close());

describe("exportModel", () => {
  it("writes the model search applies as a file whose header names engine, dimensions, embedding model, metrics and dates", async () => {
    const { header, weights, sha256 } = readModelFile(file);
    const run = await source.getRunSummary({ userId, runId: sourceRunId });
    expect(header).toMatchObject({
      fileFormat: "zip-deep-memory-model",
      fileVersion: 1,
      engine: new LocalDeepMemory().name,
      dimensions: 24,
      embeddingModel: "synthetic-embedder",
      source: { runId: sourceRunId, generation: run.generation, pairCount: run.pairCount },
    });
    expect(header.metrics).toEqual(JSON.parse(JSON.stringify(run.metrics)));
    expect(new Date(header.createdAt).getTime()).toBeLessThanOrEqual(new Date(header.exportedAt).getTime());
    expect(weights.byteLength).toBe(header.weightsByteLength);
    expect(sha256).toBe(createHash("sha256").update(file.subarray(0, file.length - 32)).digest("hex"));
    expect([...file.subarray(0, 8)]).toEqual([...MODEL_FILE_MAGIC]);
    // Named explicitly, the same run gives the same bytes but for the export date.
    expect(readModelFile(await source.exportModel({ userId, runId: sourceRunId })).weights).toEqual(weights);
  });

  it("answers NOT_FOUND for an unknown run and NO_TRAINED_MODEL for a user without one", async () => {
    expect((await deepMemoryRejection(source.exportModel({ userId, runId: "00000000-0000-4000-8000-00000000ffff" }))).code).toBe("NOT_FOUND");
    expect((await deepMemoryRejection(source.exportModel({ userId: "someone-else" }))).code).toBe("NO_TRAINED_MODEL");
    expect((await deepMemoryRejection(source.exportModel({ userId, runId: "not-a-uuid" }))).code).toBe("VALIDATION_FAILED");
  });
});

describe("importModel", () => {
  it("stores the file as a completed run the user can enable, and search then ranks exactly as where it was trained", async () => {
    const store = new InMemoryTrainingStore();
    const target = trainerWith(store);
    const result = await target.importModel({ userId, file });
    expect(result).toMatchObject({ alreadyImported: false, activated: true, reason: null });
    expect(result.runId).not.toBe(sourceRunId);

    const run = await target.getRunSummary({ userId, runId: result.runId });
    expect(run).toMatchObject({ status: "completed", pairCount: 0, error: null });
    expect(run.metrics).toEqual((await source.getRunSummary({ userId, runId: sourceRunId })).metrics);
    const settings = await target.updateSettings({ userId, enabled: true });
    expect(settings).toMatchObject({ enabled: true, canEnable: true, modelRunId: result.runId });
    await source.updateSettings({ userId, enabled: true });

    for (const query of [corpus.questionFor("chunk-0003", 9), corpus.questionFor("chunk-0042", 7)]) {
      const here = await target.search({ userId, query, k: 10 });
      const there = await source.search({ userId, query, k: 10 });
      expect(here.deepMemory).toMatchObject({ used: true, modelRunId: result.runId });
      expect(here.hits.map((h) => h.id)).toEqual(there.hits.map((h) => h.id));
    }
    // Exported again from here, it carries the same weights and metrics.
    const again = readModelFile(await target.exportModel({ userId }));
    expect(again.weights).toEqual(readModelFile(file).weights);
    expect(again.header.metrics).toEqual(readModelFile(file).header.metrics);
    await target.close();
  });

  it("imports the same file once: a second import (an app importing its model on every start) writes nothing", async () => {
    const store = new InMemoryTrainingStore();
    const target = trainerWith(store);
    const first = await target.importModel({ userId, file: Buffer.from(file) });
    const second = await target.importModel({ userId, file: file.slice().buffer });
    expect(second).toMatchObject({ runId: first.runId, alreadyImported: true, activated: true });
    expect((await target.listRuns({ userId })).total).toBe(1);
    const [x, y] = await Promise.all([target.importModel({ userId: "user-b", file }), target.importModel({ userId: "user-b", file })]);
    expect(x.runId).toBe(y.runId);
    expect(x.runId).not.toBe(first.runId);
    expect((await target.listRuns({ userId: "user-b" })).total).toBe(1);
    await target.close();
  });

  it("refuses a model made for another embedding model, writing nothing", async () => {
    const store = new InMemoryTrainingStore();
    const other: Embedder = { model: "text-embedding-3-small", embed: (texts) => corpus.embedder.embed(texts) };
    const target = trainerWith(store, other);
    const error = await deepMemoryRejection(target.importModel({ userId, file }));
    expect(error).toBeInstanceOf(ModelIncompatibleError);
    expect(error).toMatchObject({ code: "MODEL_INCOMPATIBLE", details: { field: "embeddingModel", expected: "text-embedding-3-small", actual: "synthetic-embedder" } });
    expect(error.message).toMatch(/trained on synthetic-embedder embeddings, but this trainer embeds with text-embedding-3-small/);
    expect(httpStatusFor(error.code)).toBe(422);
    expect((await store.listRuns(userId, { limit: 10, offset: 0 })).total).toBe(0);
    await target.close();
  });

  it("refuses a model for another dimension even when the embedding model's name matches", async () => {
    const store = new InMemoryTrainingStore();
    const shorter = syntheticCorpus({ chunks: 60, dims: 16, seed: 11 });
    const target = trainerWith(store, shorter.embedder, shorter);
    const error = await deepMemoryRejection(target.importModel({ userId, file }));
    expect(error).toMatchObject({ code: "MODEL_INCOMPATIBLE", details: { field: "dimensions", expected: 16, actual: 24 } });
    expect((await store.listRuns(userId, { limit: 10, offset: 0 })).total).toBe(0);
    await target.close();
  });

  it("refuses a model of another engine, and weights its engine cannot read", async () => {
    const target = trainerWith(new InMemoryTrainingStore());
    const otherEngine = withHeader(file, (h) => (h.engine = "someone-elses-engine"));
    expect(await deepMemoryRejection(target.importModel({ userId, file: otherEngine }))).toMatchObject({ code: "MODEL_INCOMPATIBLE", details: { field: "engine" } });
    const otherFormat = withHeader(file, (h) => (h.format = "local-residual/v999"));
    expect(await deepMemoryRejection(target.importModel({ userId, file: otherFormat }))).toMatchObject({ code: "MODEL_INCOMPATIBLE", details: { field: "format" } });
    await target.close();
  });

  it("refuses damaged, truncated, foreign and future files with MODEL_FILE_INVALID", async () => {
    const target = trainerWith(new InMemoryTrainingStore());
    const flipped = file.slice();
    flipped[file.length - 100]! ^= 0x01;
    const renamed = file.slice();
    // A byte of the embedding model's name: damage, not "another embedder".
    const at = Buffer.from(file).indexOf("synthetic-embedder");
    renamed[at]! ^= 0x20;
    const textMode = new Uint8Array([...file.subarray(0, 4), 0x0a, ...file.subarray(6)]);
    const cases: [string, Uint8Array, RegExp][] = [
      ["a flipped weight bit", flipped, /checksum/],
      ["a changed header byte", renamed, /checksum/],
      ["a truncated file", file.subarray(0, file.length - 10), /checksum/],
      ["CR LF turned into LF", textMode, /signature/],
      ["a JSON file", new TextEncoder().encode(JSON.stringify({ weights: [1, 2, 3] })), /signature/],
      ["an empty file", new Uint8Array(0), /signature/],
      ["a newer format version", withHeader(file, (h) => (h.fileVersion = 2)), /version 2 of the format; this package reads version 1/],
      ["a header without metrics", withHeader(file, (h) => (h.metrics = {})), /metrics are incomplete/],
      ["a header lying about the weights' size", withHeader(file, (h) => (h.weightsByteLength = 3)), /announces 3 bytes of weights/],
    ];
    for (const [what, bytes, message] of cases) {
      const error = await deepMemoryRejection(target.importModel({ userId, file: bytes }));
      expect(error, what).toBeInstanceOf(ModelFileInvalidError);
      expect(error.code, what).toBe("MODEL_FILE_INVALID");
      expect(error.message, what).toMatch(message);
    }
    expect(httpStatusFor("MODEL_FILE_INVALID")).toBe(400);
    expect((await deepMemoryRejection(target.importModel({ userId, file: "not bytes" as unknown as Uint8Array }))).code).toBe("VALIDATION_FAILED");
    expect((await target.listRuns({ userId })).total).toBe(0);
    await target.close();
  });

  it("stores a model that did not beat plain search without activating it, and says why", async () => {
    const lost = withHeader(file, (h) => {
      (h.metrics as Record<string, unknown>).verdict = "not_improved";
      (h.metrics as Record<string, unknown>).reason = "Kept disabled: no gain";
    });
    const target = trainerWith(new InMemoryTrainingStore());
    const result = await target.importModel({ userId, file: lost });
    expect(result).toMatchObject({ alreadyImported: false, activated: false });
    expect(result.reason).toMatch(/did not beat plain search \(Kept disabled: no gain\)/);
    expect((await target.getSettings({ userId })).modelRunId).toBeNull();
    expect((await deepMemoryRejection(target.updateSettings({ userId, enabled: true }))).code).toBe("NO_TRAINED_MODEL");
    const quiet = await target.importModel({ userId, file, activate: false });
    expect(quiet).toMatchObject({ activated: false, reason: "Not activated: imported with activate: false" });
    expect((await target.getSettings({ userId })).modelRunId).toBeNull();
    await target.close();
  });

  it("leaves no usable-looking run when storing fails midway, and a second import finishes the same run", async () => {
    const store = new InMemoryTrainingStore();
    const saveModel = store.saveModel.bind(store);
    let failures = 1;
    store.saveModel = async (model) => {
      if (failures-- > 0) throw new StoreError("connection reset");
      return saveModel(model);
    };
    const target = trainerWith(store);
    const error = await deepMemoryRejection(target.importModel({ userId, file }));
    expect(error.code).toBe("STORE_FAILED");
    const { runs } = await store.listRuns(userId, { limit: 10, offset: 0 });
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ status: "failed", error: expect.stringMatching(/import the file again/) });
    expect((await target.getSettings({ userId })).modelRunId).toBeNull();

    const retried = await target.importModel({ userId, file });
    expect(retried).toMatchObject({ runId: runs[0]!.id, alreadyImported: false, activated: true });
    expect(await store.getRun(userId, retried.runId)).toMatchObject({ status: "completed", error: null });
    expect((await store.listRuns(userId, { limit: 10, offset: 0 })).total).toBe(1);
    await target.close();
  });
});

/** The same round trip through the SQL stores: weights as bytea, metrics as jsonb. */
async function roundTripOn(store: TrainingStore) {
  const target = trainerWith(store);
  // Two replicas importing the file they ship at the same moment end with one run.
  const [a, b] = await Promise.all([target.importModel({ userId, file }), trainerWith(store).importModel({ userId, file })]);
  expect(a.runId).toBe(b.runId);
  expect([a.alreadyImported, b.alreadyImported].sort()).toEqual([false, true]);
  expect((await store.listRuns(userId, { limit: 10, offset: 0 })).total).toBe(1);
  const first = a.alreadyImported ? b : a;
  expect(first).toMatchObject({ activated: true, alreadyImported: false });
  expect(await target.importModel({ userId, file })).toMatchObject({ runId: first.runId, alreadyImported: true });
  await target.updateSettings({ userId, enabled: true });
  const query = corpus.questionFor("chunk-0017", 8);
  await source.updateSettings({ userId, enabled: true });
  expect((await target.search({ userId, query, k: 10 })).hits.map((h) => h.id)).toEqual((await source.search({ userId, query, k: 10 })).hits.map((h) => h.id));
  expect(readModelFile(await target.exportModel({ userId })).weights).toEqual(readModelFile(file).weights);
  await target.close();
}

// Each PGlite start takes a few seconds of WebAssembly set-up.
describe("model files on PGlite", { timeout: 60_000 }, () => {
  it("round-trips through the embedded PostgreSQL store", async () => {
    const store = await PGliteTrainingStore.open({ dataDir: "memory://" });
    try {
      await roundTripOn(store);
    } finally {
      await store.close();
    }
  });
});

describeWithPostgres("model files on PostgreSQL", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });
  it("round-trips through the PostgreSQL store", async () => {
    const store = await PostgresTrainingStore.connect({ connectionString: db.url, max: 2 });
    try {
      await roundTripOn(store);
    } finally {
      await store.close();
    }
  });
});
