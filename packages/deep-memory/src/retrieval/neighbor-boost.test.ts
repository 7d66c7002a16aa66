import { describe, expect, it } from "vitest";
import { fusionSchema, type Fusion } from "@zip/deep-memory-protocol";
import { InMemoryVectorStore } from "../adapters/vector-store/in-memory-vector-store.js";
import type { SearchHit } from "../domain/chunk.js";
import { ValidationError } from "../errors/errors.js";
import type { VectorStore } from "../ports/vector-store.js";
import { describeFusion } from "./fusion.js";
import { copiedQuestionsFusion, fusedRanking } from "./fusion-selection.js";
import { boostByNeighbors, neighborsOf, withoutNeighbors } from "./neighbor-boost.js";
import { fusedSearch, poolEmbeddings } from "./search-legs.js";

/** Unit vectors at `degrees` in a plane: chunks a few degrees apart are on one subject. */
const at = (degrees: number) => Float32Array.of(Math.cos((degrees * Math.PI) / 180), Math.sin((degrees * Math.PI) / 180), 0);
const vectors = new Map<string, Float32Array>([
  ["lone", at(90)],
  ["l1", at(95)],
  ["l2", at(100)],
  ["a", at(0)],
  ["b", at(5)],
  ["c", at(10)],
  ["far", at(180)],
]);
const vectorOf = (id: string) => vectors.get(id);
const boost = { count: 2, weight: 0.5, pool: 10 };
/** A lone chunk scored best, a cluster of three just behind it, and two weak chunks near the lone one. */
const clustered = [
  { id: "lone", score: 3.0 },
  { id: "a", score: 2.9 },
  { id: "b", score: 2.0 },
  { id: "c", score: 1.9 },
  { id: "l1", score: 0.1 },
  { id: "l2", score: 0 },
];

describe("boostByNeighbors", () => {
  it("lifts chunks whose most similar candidates also scored well above a slightly better one whose neighbours did not", () => {
    const hits = clustered;
    const out = boostByNeighbors(hits, boost, vectorOf);
    expect(out.map((h) => h.id)).toEqual(["a", "b", "c", "lone", "l1", "l2"]);
    // Scores are the pool's min-max scaled fused scores plus the boost: "a" gains half its neighbours' (cosine-weighted) mean.
    const cos = (x: number) => Math.cos((x * Math.PI) / 180);
    expect(out[0]!.score).toBeCloseTo(2.9 / 3 + 0.5 * ((cos(5) * 2.0 + cos(10) * 1.9) / (cos(5) + cos(10)) / 3), 6);
    expect(hits[0]).toEqual({ id: "lone", score: 3.0 });
  });

  it("leaves hits past the pool in their order after it, and hits without an embedding without a boost", () => {
    const hits = [
      { id: "x", score: 5 },
      { id: "a", score: 4.9 },
      { id: "b", score: 4.8 },
      { id: "far", score: 3 },
      { id: "lone", score: 1 },
      { id: "c", score: 0.5 },
    ];
    const out = boostByNeighbors(hits, { ...boost, pool: 4 }, vectorOf);
    // "x" has no embedding: it neither gains nor lends, so "a" and "b" (lifted by each other) pass it; "far" points
    // the other way (negative cosines) and gains nothing.
    expect(out.map((h) => h.id)).toEqual(["a", "b", "x", "far", "lone", "c"]);
    expect(out[3]!.score).toBe(0);
    expect(out[4]!.score).toBeLessThan(0);
    expect(out[5]!.score).toBeLessThan(out[4]!.score);
  });

  it("measures similarity by cosine whatever length the store's vectors have", () => {
    const scaled = (id: string) => (id === "a" ? vectors.get(id)!.map((x) => x * 40) : vectors.get(id));
    const hits = clustered;
    expect(boostByNeighbors(hits, boost, scaled).map((h) => h.id)).toEqual(boostByNeighbors(hits, boost, vectorOf).map((h) => h.id));
  });

});

describe("fusions with a neighbour boost", () => {
  const dense = [
    { id: "lone", score: 0.9 },
    { id: "a", score: 0.85 },
    { id: "b", score: 0.5 },
    { id: "c", score: 0.45 },
    { id: "far", score: 0.1 },
  ];
  const fusion: Fusion = { method: "weighted", normalization: "min-max", weights: { dense: 1, lexical: 1 }, depth: 10, neighbors: boost };

  it("is part of the wire format of weighted fusions only, and is described", () => {
    expect(fusionSchema.parse(fusion)).toEqual(fusion);
    expect(fusionSchema.safeParse({ method: "rrf", k: 60, weights: { dense: 1, lexical: 1 }, depth: 100, neighbors: boost }).success).toBe(false);
    expect(fusionSchema.safeParse({ ...fusion, neighbors: { ...boost, count: 0 } }).success).toBe(false);
    expect(neighborsOf(copiedQuestionsFusion)).toEqual({ count: 3, weight: 0.25, pool: 100 });
    expect(withoutNeighbors(fusion)).toEqual({ method: "weighted", normalization: "min-max", weights: { dense: 1, lexical: 1 }, depth: 10 });
    expect(describeFusion(fusion)).toContain("neighbour boost 0.5 x 2 nearest in the top 10");
  });

  it("ranks stored legs as a live search does, and needs the embeddings to", async () => {
    const store = new InMemoryVectorStore([...vectors].map(([id, embedding]) => ({ id, text: id, embedding })));
    const live = await fusedSearch({ vectorStore: keywordStore(store, []), userId: "u", query: "q", embedding: at(45), fusion, k: 3 });
    const legs = await store.search({ userId: "u", embedding: at(45), k: 10 });
    const lookup = await poolEmbeddings({ vectorStore: store, userId: "u", dense: [legs], lexical: [[]], fusion });
    expect(fusedRanking(legs, [], fusion, 3, lookup)).toEqual(live.map((h) => h.id));
    expect(() => fusedRanking(dense, [], fusion, 3)).toThrow(ValidationError);
  });

  it("is searched without the boost on a store that cannot return embeddings", async () => {
    const denseHits = clustered.map((h) => ({ ...h, text: h.id }));
    const without: VectorStore = { listChunks: async () => ({ chunks: [], nextCursor: null }), search: async () => denseHits, textSearch: async () => [] };
    const withEmbeddings: VectorStore = { ...without, getEmbeddings: async ({ ids }) => new Map(ids.map((id) => [id, vectors.get(id)!])) };
    const args = { userId: "u", query: "q", embedding: at(0), k: 4 };
    const ids = async (vectorStore: VectorStore, f: Fusion) => (await fusedSearch({ ...args, vectorStore, fusion: f })).map((h) => h.id);
    expect(await ids(withEmbeddings, fusion)).toEqual(["a", "b", "c", "lone"]);
    expect(await ids(without, fusion)).toEqual(["lone", "a", "b", "c"]);
    expect(await ids(without, fusion)).toEqual(await ids(without, withoutNeighbors(fusion)));
  });
});

/** The store's dense search and embeddings, with a fixed keyword leg. */
function keywordStore(store: InMemoryVectorStore, keywordHits: SearchHit[]): Required<Pick<VectorStore, "search" | "textSearch" | "getEmbeddings" | "listChunks">> {
  return {
    listChunks: (input) => store.listChunks(input),
    search: (input) => store.search(input),
    textSearch: async () => keywordHits,
    getEmbeddings: (input) => store.getEmbeddings(input),
  };
}
