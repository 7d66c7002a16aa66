import { describe, expect, it } from "vitest";
import { InMemoryTrainingStore } from "../adapters/training-store/in-memory-training-store.js";
import { InMemoryVectorStore } from "../adapters/vector-store/in-memory-vector-store.js";
import type { VectorStore } from "../ports/vector-store.js";
import { unusedEngine } from "../test-utils/engines.js";
import { syntheticCorpus } from "../test-utils/synthetic.js";
import { DeepMemoryTrainer } from "./deep-memory-trainer.js";

const userId = "user-a";


/** Counts the calls a vector store gets; `count: false` hides its countChunks capability. */
function counted(inner: InMemoryVectorStore, options: { count: boolean }) {
  const calls = { listChunks: 0, countChunks: 0 };
  const store: VectorStore = {
    listChunks: (input) => {
      calls.listChunks++;
      return inner.listChunks(input);
    },
    search: (input) => inner.search(input),
    ...(options.count
      ? {
          countChunks: (input) => {
            calls.countChunks++;
            return inner.countChunks(input);
          },
        }
      : {}),
  };
  return { store, calls };
}

describe("getSettings", () => {
  it("counts new chunks with one call at 10,000 chunks where the store can count, and pages only where it cannot", async () => {
    const corpus = syntheticCorpus({ chunks: 10_000, dims: 4, seed: 2 });
    const vectors = new InMemoryVectorStore(corpus.documents);
    const store = new InMemoryTrainingStore();
    // A completed run whose pairs cover 2,500 chunks (and one chunk since deleted from the vector store).
    const covered = corpus.documents.slice(0, 2_500).map((d) => d.id);
    const setup = new DeepMemoryTrainer({ vectorStore: vectors, store, embedder: corpus.embedder, engine: unusedEngine });
    const imported = await setup.importPairs({
      userId,
      pairs: [...covered, "deleted-chunk"].map((chunkId) => ({ question: `What does ${chunkId} say?`, chunkId })),
    });
    expect(await store.updateRun(userId, imported.runId, { status: "completed" }, {}, new Date())).not.toBeNull();

    const withCount = counted(vectors, { count: true });
    const fast = new DeepMemoryTrainer({ vectorStore: withCount.store, store, embedder: corpus.embedder, engine: unusedEngine });
    expect((await fast.getSettings({ userId })).newChunksSinceLastTraining).toBe(7_500);
    expect(withCount.calls).toEqual({ listChunks: 0, countChunks: 1 });

    const withoutCount = counted(vectors, { count: false });
    const paging = new DeepMemoryTrainer({ vectorStore: withoutCount.store, store, embedder: corpus.embedder, engine: unusedEngine });
    expect((await paging.getSettings({ userId })).newChunksSinceLastTraining).toBe(7_500);
    expect(withoutCount.calls.listChunks).toBe(20); // 10,000 chunks in pages of 500
  });

  it("InMemoryVectorStore.countChunks counts only the user's (and shared) chunks", async () => {
    const store = new InMemoryVectorStore([
      { id: "a", text: "a", embedding: [1, 0], userId: "u1" },
      { id: "b", text: "b", embedding: [0, 1], userId: "u2" },
      { id: "shared", text: "s", embedding: [1, 1] },
    ]);
    expect(await store.countChunks({ userId: "u1", excludeIds: [] })).toBe(2);
    expect(await store.countChunks({ userId: "u1", excludeIds: ["shared", "b"] })).toBe(1);
  });
});
