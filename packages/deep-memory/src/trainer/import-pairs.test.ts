import { describe, expect, it, vi } from "vitest";
import { InMemoryTrainingStore } from "../adapters/training-store/in-memory-training-store.js";
import { InMemoryVectorStore } from "../adapters/vector-store/in-memory-vector-store.js";
import { unusedEngine } from "../test-utils/engines.js";
import { syntheticCorpus } from "../test-utils/synthetic.js";
import { DeepMemoryTrainer } from "./deep-memory-trainer.js";

const userId = "user-a";


function setup(options: { store?: InMemoryTrainingStore; instanceId?: string } = {}) {
  const corpus = syntheticCorpus({ chunks: 8 });
  const store = options.store ?? new InMemoryTrainingStore();
  const trainer = new DeepMemoryTrainer({
    vectorStore: new InMemoryVectorStore(corpus.documents),
    store,
    embedder: corpus.embedder,
    engine: unusedEngine,
    options: { minPairs: 2, leaseMs: 60_000 },
    ...(options.instanceId ? { instanceId: options.instanceId } : {}),
  });
  const chunkIds = corpus.documents.map((d) => d.id);
  const pairs = chunkIds.flatMap((chunkId) => [0, 1, 2].map((k) => ({ question: corpus.questionFor(chunkId, k), chunkId })));
  return { trainer, store, pairs, chunkIds };
}

function perChunk(pairs: readonly { chunkId: string; question: string }[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const p of pairs) out.set(p.chunkId, [...(out.get(p.chunkId) ?? []), p.question]);
  return out;
}

describe("importPairs after a failure midway", () => {
  it("marks the run failed and unleased, and importing the same pairs again finishes that run: every pair once", async () => {
    const { trainer, store, pairs } = setup();
    const record = store.recordChunk.bind(store);
    let calls = 0;
    const spy = vi.spyOn(store, "recordChunk").mockImplementation((...args) => {
      if (++calls === 4) return Promise.reject(new Error("connection reset"));
      return record(...args);
    });
    await expect(trainer.importPairs({ userId, pairs, source: "feedback" })).rejects.toMatchObject({ code: "INTERNAL" });
    const [failed] = (await store.listRuns(userId, { limit: 10, offset: 0 })).runs;
    expect(failed).toMatchObject({ status: "failed", processedChunks: 3, leaseOwner: null, error: expect.stringContaining("after 3 of 8 chunks") });
    spy.mockRestore();

    const again = await trainer.importPairs({ userId, pairs, source: "feedback" });
    expect(again).toMatchObject({ runId: failed!.id, resumed: true, imported: 24 });
    const { runs, total } = await store.listRuns(userId, { limit: 10, offset: 0 });
    expect(total).toBe(1);
    expect(runs[0]).toMatchObject({ status: "generated", pairCount: 24, processedChunks: 8, error: null });
    const stored = perChunk(await store.listPairs(userId, [failed!.id]));
    expect([...stored.values()].map((q) => q.length)).toEqual(Array(8).fill(3));
    expect(new Set((await store.listPairs(userId, [failed!.id])).map((p) => `${p.chunkId}|${p.question}`)).size).toBe(24);
  });

  it("starts a new run for different pairs, and never trains on the failed part", async () => {
    const { trainer, store, pairs } = setup();
    const record = store.recordChunk.bind(store);
    let calls = 0;
    const spy = vi.spyOn(store, "recordChunk").mockImplementation((...args) => (++calls === 3 ? Promise.reject(new Error("disk full")) : record(...args)));
    await expect(trainer.importPairs({ userId, pairs })).rejects.toThrow();
    spy.mockRestore();
    const other = pairs.filter((_, i) => i % 3 === 0).map((p) => ({ ...p, question: `${p.question} (again)` }));
    const next = await trainer.importPairs({ userId, pairs: other });
    expect(next.resumed).toBe(false);
    expect((await store.listRuns(userId, { limit: 10, offset: 0 })).total).toBe(2);
    const failedId = (await store.listRuns(userId, { limit: 10, offset: 0 })).runs.find((r) => r.status === "failed")!.id;
    const listPairs = vi.spyOn(store, "listPairs");
    await trainer.waitForJob({ userId, jobId: (await trainer.train({ userId, runId: next.runId })).jobId });
    expect(listPairs).toHaveBeenCalledWith(userId, [next.runId]);
    expect(listPairs.mock.calls.flatMap((call) => call[1])).not.toContain(failedId);
  });

  it("after the importing process died, a restart under the same instance id recovers at once, and the retry finishes the run", async () => {
    const store = new InMemoryTrainingStore();
    const first = setup({ store, instanceId: "server-1" });
    const record = store.recordChunk.bind(store);
    let calls = 0;
    // The process dies after 5 chunks: the next write never returns and nothing cleans up.
    const spy = vi.spyOn(store, "recordChunk").mockImplementation((...args) => (++calls > 5 ? new Promise(() => {}) : record(...args)));
    void first.trainer.importPairs({ userId, pairs: first.pairs });
    await vi.waitFor(async () => expect((await store.listRuns(userId, { limit: 1, offset: 0 })).runs[0]?.processedChunks).toBe(5));
    spy.mockRestore();
    // Another incarnation (a new boot id) of the same instance: the lease (60 s) is not waited out.
    vi.spyOn(performance, "timeOrigin", "get").mockReturnValue(performance.timeOrigin + 1000);
    const restarted = setup({ store, instanceId: "server-1" });
    vi.restoreAllMocks();
    const again = await restarted.trainer.importPairs({ userId, pairs: first.pairs });
    expect(again).toMatchObject({ resumed: true, imported: 24 });
    const stored = await store.listPairs(userId, [again.runId]);
    expect(stored).toHaveLength(24);
    expect([...perChunk(stored).values()].map((q) => q.length)).toEqual(Array(8).fill(3));
  });
});
