import { describe, expect, it } from "vitest";
import { chooseFusion, fusedRanking, fusionCandidates } from "./fusion-selection.js";
import { defaultHybridFusion, describeFusion, fuseRankings, fusionSchema, legDepth, type Fusion } from "./fusion.js";

const hits = (...ids: string[]) => ids.map((id, i) => ({ id, score: 1 - i * 0.1 }));

describe("fuseRankings", () => {
  it("reciprocal-rank fusion: weight / (k + rank) from each leg, summed", () => {
    const fused = fuseRankings(hits("a", "b", "c"), hits("c", "d"), { method: "rrf", k: 60, weights: { dense: 0.5, lexical: 0.5 }, depth: 100 }, 10);
    const score = (ranks: number[]) => ranks.reduce((s, r) => s + 0.5 / (60 + r), 0);
    expect(fused.map((h) => h.id)).toEqual(["c", "a", "b", "d"]);
    expect(fused[0]!.score).toBeCloseTo(score([3, 1]));
    expect(fused[1]!.score).toBeCloseTo(score([1]));
    // d and b tie on one rank-2 hit each: the dense leg's order comes first.
    expect(fused.slice(2).map((h) => h.score)).toEqual([score([2]), score([2])]);
  });

  it("gives equal scores the same rank, so a leg that cannot tell chunks apart does not reorder them", () => {
    const flat = [{ id: "x", score: 2 }, { id: "y", score: 2 }, { id: "z", score: 2 }];
    const fused = fuseRankings(hits("z", "y", "x"), flat, { method: "rrf", k: 1, weights: { dense: 0.2, lexical: 0.8 }, depth: 10 }, 3);
    expect(fused.map((h) => h.id)).toEqual(["z", "y", "x"]);
  });

  it("weights the legs", () => {
    const lexicalHeavy = fuseRankings(hits("a", "b"), hits("b", "x"), { method: "rrf", k: 1, weights: { dense: 0.1, lexical: 0.9 }, depth: 10 }, 3);
    expect(lexicalHeavy.map((h) => h.id)).toEqual(["b", "x", "a"]);
    const denseHeavy = fuseRankings(hits("a", "b"), hits("x", "b"), { method: "rrf", k: 1, weights: { dense: 0.9, lexical: 0.1 }, depth: 10 }, 3);
    expect(denseHeavy.map((h) => h.id)).toEqual(["a", "b", "x"]);
  });

  it("weighted min-max fusion normalises each leg to [0, 1]; a chunk missing from a leg gets that leg's floor", () => {
    const dense = [{ id: "a", score: 0.9 }, { id: "b", score: 0.8 }, { id: "c", score: 0.4 }];
    const lexical = [{ id: "c", score: 30 }, { id: "d", score: 10 }];
    const fused = fuseRankings(dense, lexical, { method: "weighted", normalization: "min-max", weights: { dense: 0.5, lexical: 0.5 }, depth: 10 }, 4);
    // The keyword leg returned fewer than asked (all it matched), so its scale starts at a raw 0, the score of the rest.
    // a: 0.5*1 + 0.5*0; c: 0.5*0 + 0.5*1; b: 0.5*0.8 + 0; d: 0.5*0 (the dense leg's floor) + 0.5*(10/30).
    expect(fused.map((h) => [h.id, +h.score.toFixed(4)])).toEqual([["a", 0.5], ["c", 0.5], ["b", 0.4], ["d", 0.1667]]);
  });

  it("weighted z-score fusion standardises each leg", () => {
    const dense = [{ id: "a", score: 3 }, { id: "b", score: 1 }];
    const lexical = [{ id: "b", score: 100 }, { id: "c", score: 0 }];
    const full = fuseRankings(dense, lexical, { method: "weighted", normalization: "z-score", weights: { dense: 0.5, lexical: 0.5 }, depth: 2 }, 2);
    // Each full leg becomes [+1, -1]; a missing chunk would score the leg's floor (-1). a and b tie at 0: dense order first.
    expect(full.map((h) => [h.id, +h.score.toFixed(4)])).toEqual([["a", 0], ["b", 0]]);
    const fused = fuseRankings(dense, lexical, { method: "weighted", normalization: "z-score", weights: { dense: 0.5, lexical: 0.5 }, depth: 10 }, 3);
    // Asked for 10, the keyword leg returned 2: a raw 0 (what every other chunk scored there) joins its statistics once
    // ([100, 0, 0]: b +1.414, c and the rest -0.707); the dense leg's floor stays its lowest hit (-1).
    expect(fused.map((h) => [h.id, +h.score.toFixed(4)])).toEqual([["b", 0.2071], ["a", 0.1464], ["c", -0.8536]]);
  });

  it("lifts the one chunk a keyword leg finds (an exact id or ticker) under weighted fusion", () => {
    const dense = hits(...Array.from({ length: 20 }, (_, i) => `d${i}`)).map((h, i) => ({ ...h, score: 1 - i * 0.01 }));
    const lexical = [{ id: "d10", score: 7.5 }];
    for (const normalization of ["z-score", "min-max"] as const) {
      const fused = fuseRankings(dense, lexical, { method: "weighted", normalization, weights: { dense: 1, lexical: 1 }, depth: 100 }, 10);
      expect(fused[0]!.id).toBe("d10");
    }
  });

  it("reads only `depth` candidates per leg (at least k), and dense alone ignores the lexical leg", () => {
    const fusion: Fusion = { method: "rrf", k: 60, weights: { dense: 0.5, lexical: 0.5 }, depth: 2 };
    expect(fuseRankings(hits("a", "b", "c"), hits("x", "y", "z"), fusion, 2).map((h) => h.id)).not.toContain("c");
    expect(legDepth(fusion, 5)).toBe(5);
    expect(fuseRankings(hits("a", "b"), hits("x"), { method: "dense" }, 5).map((h) => h.id)).toEqual(["a", "b"]);
    expect(describeFusion(defaultHybridFusion)).toBe("hybrid: RRF k=60, weights dense 1 / lexical 1, top 100 per leg");
  });

  it("keeps the hits' own fields", () => {
    const [first] = fuseRankings([{ id: "a", score: 0.5, text: "alpha" }], [], defaultHybridFusion, 1);
    expect(first).toEqual({ id: "a", score: 1 / 61, text: "alpha" });
  });

  it("validates configurations", () => {
    expect(fusionSchema.safeParse({ method: "rrf", k: 60, weights: { dense: 1.5, lexical: -0.5 }, depth: 100 }).success).toBe(false);
    expect(fusionSchema.safeParse({ method: "rrf", k: 60, weights: { dense: 0, lexical: 0 }, depth: 100 }).success).toBe(false);
    expect(fusionSchema.safeParse({ method: "weighted", normalization: "l2", weights: { dense: 0.5, lexical: 0.5 }, depth: 100 }).success).toBe(false);
    for (const f of fusionCandidates()) expect(fusionSchema.parse(f)).toEqual(f);
  });
});

describe("fusedRanking", () => {
  it("gives, up to depth, exactly what a live search with a smaller k returns", () => {
    const dense = hits(...Array.from({ length: 40 }, (_, i) => `d${i}`));
    const lexical = hits(...Array.from({ length: 40 }, (_, i) => `d${39 - i}`));
    const fusion: Fusion = { method: "weighted", normalization: "min-max", weights: { dense: 0.7, lexical: 0.3 }, depth: 20 };
    const ranking = fusedRanking(dense, lexical, fusion, 40);
    expect(ranking).toHaveLength(40);
    expect(new Set(ranking).size).toBe(40);
    expect(ranking.slice(0, 5)).toEqual(fuseRankings(dense, lexical, fusion, 5).map((h) => h.id));
    expect(ranking.slice(0, 20)).toEqual(fuseRankings(dense, lexical, fusion, 20).map((h) => h.id));
  });
});

describe("chooseFusion", () => {
  it("picks the candidate with the best recall@10 + nDCG@10 on the questions, the first on ties", async () => {
    // The answer is always the lexical leg's first hit and the dense leg's 12th.
    const dense = Array.from({ length: 5 }, (_, q) => hits(...Array.from({ length: 20 }, (_, i) => `q${q}d${i}`)));
    const lexical = dense.map((list, q) => hits(`q${q}d11`, `q${q}x`));
    const relevant = dense.map((_, q) => new Set([`q${q}d11`]));
    const lexicalHeavy: Fusion = { method: "rrf", k: 10, weights: { dense: 0.3, lexical: 0.7 }, depth: 100 };
    const { fusion, scores } = await chooseFusion({ dense, lexical, relevant, candidates: [{ method: "dense" }, defaultHybridFusion, lexicalHeavy] });
    expect(fusion).toEqual(defaultHybridFusion);
    expect(scores[0]!.recallAt10).toBe(0);
    expect(scores[1]!.recallAt10).toBe(1);
    expect(scores[2]!.ndcgAt10).toBe(1);
    expect((await chooseFusion({ dense, lexical, relevant, candidates: [lexicalHeavy, defaultHybridFusion] })).fusion).toEqual(lexicalHeavy);
  });

  it("keeps an earlier candidate that comes within half a question of the best", async () => {
    // 4 questions: the answer is 1st in both legs for three; for the fourth it is the lexical leg's 1st and the dense leg's 2nd.
    const dense = [hits("a0", "x0"), hits("a1", "x1"), hits("a2", "x2"), hits("y3", "a3")];
    const lexical = [hits("a0"), hits("a1"), hits("a2"), hits("a3")];
    const relevant = [0, 1, 2, 3].map((q) => new Set([`a${q}`]));
    const lexicalHeavy: Fusion = { method: "rrf", k: 10, weights: { dense: 0.3, lexical: 0.7 }, depth: 100 };
    const { fusion, scores } = await chooseFusion({ dense, lexical, relevant, candidates: [{ method: "dense" }, lexicalHeavy] });
    // Dense alone loses a sliver of nDCG on one question in four (under half a question): it stays.
    expect(scores[1]!.ndcgAt10).toBeGreaterThan(scores[0]!.ndcgAt10);
    expect(fusion).toEqual({ method: "dense" });
  });

  it("falls back to dense search when there is no lexical leg", async () => {
    const dense = [hits("a", "b")];
    expect((await chooseFusion({ dense, relevant: [new Set(["b"])] })).fusion).toEqual({ method: "dense" });
    expect((await chooseFusion({ dense, lexical: [[]], relevant: [new Set(["b"])] })).fusion).toEqual({ method: "dense" });
  });
});
