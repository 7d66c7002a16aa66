import { describe, expect, it } from "vitest";
import { InMemoryVectorStore } from "../adapters/vector-store/in-memory-vector-store.js";
import { mulberry32 } from "../shared/random.js";
import { searchLegs } from "./search-legs.js";

function randomVectors(count: number, dims: number, seed: number): Float32Array[] {
  const random = mulberry32(seed);
  return Array.from({ length: count }, () => Float32Array.from({ length: dims }, () => random() - 0.5));
}

describe("searchLegs", () => {
  it("lets timers and I/O run while it evaluates many questions against a store that answers synchronously", async () => {
    // Before: every search of InMemoryVectorStore resolves at once, so the loop over the questions never left the
    // microtask queue and a server answered nothing else until the whole evaluation ended.
    const store = new InMemoryVectorStore(randomVectors(5_000, 64, 1).map((embedding, i) => ({ id: `c${i}`, text: `chunk ${i}`, embedding })));
    const vectors = randomVectors(1_000, 64, 2);
    const order: string[] = [];
    setImmediate(() => order.push("other work"));
    const legs = await searchLegs({ vectorStore: store, userId: "u", queries: vectors.map((_, i) => `question ${i}`), vectors, transform: null, plain: true, depth: 10 });
    order.push("evaluation done");
    expect(legs.plain).toHaveLength(1_000);
    expect(order).toEqual(["other work", "evaluation done"]);
  });
});
