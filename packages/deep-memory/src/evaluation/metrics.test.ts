import { describe, expect, it } from "vitest";
import { mrrAt, ndcgAt, retrievalMetrics } from "./metrics.js";
import { deterministicSplit, normalizeQuestion, stableUnit } from "./split.js";

describe("retrievalMetrics", () => {
  it("computes recall@k as Activeloop does: found/relevant per query, averaged, skipping queries without relevant ids", () => {
    const rankings = [
      ["a", "b", "c", "d"],
      ["x", "y", "b", "a"],
      ["q", "r"],
    ];
    const relevant = [new Set(["a", "d"]), new Set(["a"]), new Set<string>()];
    const { metrics, queryCount } = retrievalMetrics(rankings, relevant, [1, 3, 10]);
    expect(queryCount).toBe(2);
    expect(metrics["recall@1"]).toBeCloseTo((0.5 + 0) / 2);
    expect(metrics["recall@3"]).toBeCloseTo((0.5 + 0) / 2);
    expect(metrics["recall@10"]).toBeCloseTo((1 + 1) / 2);
    expect(metrics["mrr@10"]).toBeCloseTo((1 + 1 / 4) / 2);
  });

  it("computes binary nDCG@10 and MRR@10", () => {
    expect(ndcgAt(["a", "b"], new Set(["a"]), 10)).toBe(1);
    expect(ndcgAt(["b", "a"], new Set(["a"]), 10)).toBeCloseTo(1 / Math.log2(3));
    expect(ndcgAt(["b", "a", "c"], new Set(["a", "c"]), 10)).toBeCloseTo((1 / Math.log2(3) + 1 / Math.log2(4)) / (1 + 1 / Math.log2(3)));
    expect(ndcgAt(["z"], new Set(["a"]), 10)).toBe(0);
    expect(mrrAt(["z", "y", "a"], new Set(["a"]), 10)).toBeCloseTo(1 / 3);
    expect(mrrAt(["z", "y", "a"], new Set(["a"]), 2)).toBe(0);
  });

  it("returns zeros, not NaN, when nothing can be scored", () => {
    const { metrics, queryCount } = retrievalMetrics([[]], [new Set()], [1]);
    expect(queryCount).toBe(0);
    expect(metrics).toEqual({ "recall@1": 0, "ndcg@10": 0, "mrr@10": 0 });
  });
});

describe("deterministicSplit", () => {
  const items = Array.from({ length: 1000 }, (_, i) => `question ${i}?`);

  it("holds out about the asked fraction, the same way every time", () => {
    const a = deterministicSplit(items, (q) => q, 0.1, 42);
    const b = deterministicSplit([...items].reverse(), (q) => q, 0.1, 42);
    expect(a.heldOut.length).toBeGreaterThan(70);
    expect(a.heldOut.length).toBeLessThan(130);
    expect(new Set(a.heldOut)).toEqual(new Set(b.heldOut));
    expect(a.train.length + a.heldOut.length).toBe(1000);
    expect(deterministicSplit(items, (q) => q, 0.1, 7).heldOut).not.toEqual(a.heldOut);
  });

  it("keeps items with the same group key on the same side", () => {
    const dupes = items.flatMap((q) => [q, q.toUpperCase()]);
    const { train, heldOut } = deterministicSplit(dupes, normalizeQuestion, 0.1, 1);
    const trainKeys = new Set(train.map(normalizeQuestion));
    expect(heldOut.every((q) => !trainKeys.has(normalizeQuestion(q)))).toBe(true);
  });

  it("gives both sides at least one item for tiny sets", () => {
    const { train, heldOut } = deterministicSplit(["a", "b"], (q) => q, 0.01, 3);
    expect(train).toHaveLength(1);
    expect(heldOut).toHaveLength(1);
  });

  it("normalises questions for duplicate detection", () => {
    expect(normalizeQuestion("  What is   VWAP?? ")).toBe(normalizeQuestion("what is vwap"));
    expect(stableUnit("x", 1)).toBe(stableUnit("x", 1));
  });
});
