import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { mulberry32, randomUnit } from "../../test-utils/synthetic.js";
import { ValidationError } from "../../errors/errors.js";
import { InMemoryVectorStore, type InMemoryDocument } from "./in-memory-vector-store.js";

function docs(n: number, dims = 16, seed = 3): InMemoryDocument[] {
  const rand = mulberry32(seed);
  return Array.from({ length: n }, (_, i) => ({ id: `d${i}`, text: `doc ${i}`, embedding: randomUnit(dims, rand), metadata: { i } }));
}

describe("InMemoryVectorStore", () => {
  it("returns the exact top-k by cosine, best first", async () => {
    const documents = docs(300);
    const store = new InMemoryVectorStore(documents);
    const query = randomUnit(16, mulberry32(99));
    const hits = await store.search({ userId: "u", embedding: query, k: 10 });
    const expected = documents
      .map((d) => ({ id: d.id, score: (d.embedding as Float32Array).reduce((s, v, j) => s + v * query[j]!, 0) }))
      .sort((a, b) => b.score - a.score)
      .slice(0, 10);
    expect(hits.map((h) => h.id)).toEqual(expected.map((e) => e.id));
    hits.forEach((h, i) => expect(h.score).toBeCloseTo(expected[i]!.score, 5));
    expect(hits[0]?.metadata).toEqual(documents.find((d) => d.id === hits[0]!.id)!.metadata);
  });

  it("scores by cosine whatever the vectors' lengths", async () => {
    const store = new InMemoryVectorStore([
      { id: "long", text: "", embedding: [10, 0] },
      { id: "diag", text: "", embedding: [1, 1] },
    ]);
    const [first] = await store.search({ userId: "u", embedding: new Float32Array([0.2, 0.1]), k: 1 });
    // By raw dot product "long" would win (2 vs 0.3); by cosine "diag" does.
    expect(first).toMatchObject({ id: "diag" });
    expect(first!.score).toBeCloseTo(3 / Math.sqrt(10));
  });

  it("pages through chunks with a cursor and includes embeddings only when asked", async () => {
    const store = new InMemoryVectorStore(docs(25));
    const ids: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await store.listChunks({ userId: "u", cursor, limit: 10, includeEmbeddings: pages === 0 });
      if (pages === 0) expect(page.chunks[0]?.embedding).toBeInstanceOf(Float32Array);
      else expect(page.chunks[0]?.embedding).toBeUndefined();
      ids.push(...page.chunks.map((c) => c.id));
      cursor = page.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(ids).toEqual(docs(25).map((d) => d.id));
  });

  it("shows shared chunks to everyone and private chunks to their owner only", async () => {
    const store = new InMemoryVectorStore([
      { id: "shared", text: "", embedding: [1, 0] },
      { id: "mine", text: "", embedding: [1, 0.1], userId: "alice" },
    ]);
    const bob = await store.listChunks({ userId: "bob", cursor: null, limit: 10, includeEmbeddings: false });
    expect(bob.chunks.map((c) => c.id)).toEqual(["shared"]);
    expect((await store.search({ userId: "bob", embedding: new Float32Array([1, 0.1]), k: 5 })).map((h) => h.id)).toEqual(["shared"]);
    expect((await store.search({ userId: "alice", embedding: new Float32Array([1, 0.1]), k: 5 })).map((h) => h.id)).toEqual(["mine", "shared"]);
  });

  it("returns the embeddings search compares (unit length) of the chunks asked for, leaving out unknown ids and other users' chunks", async () => {
    const store = new InMemoryVectorStore([
      { id: "shared", text: "", embedding: [1, 0] },
      { id: "mine", text: "", embedding: [0.5, 2], userId: "alice" },
    ]);
    const alice = await store.getEmbeddings({ userId: "alice", ids: ["mine", "shared", "gone"] });
    expect([...alice.keys()]).toEqual(["mine", "shared"]);
    // As search compares them: unit length.
    const [x, y] = alice.get("mine")!;
    expect([x! / y!, Math.hypot(x!, y!)].map((v) => Number(v.toFixed(6)))).toEqual([0.25, 1]);
    expect([...(await store.getEmbeddings({ userId: "bob", ids: ["mine", "shared"] })).keys()]).toEqual(["shared"]);
    expect((await store.getEmbeddings({ userId: "bob", ids: [] })).size).toBe(0);
    await expect(store.getEmbeddings({ userId: "bob", ids: "shared" as never })).rejects.toBeInstanceOf(ValidationError);
  });

  it("replaces documents by id and rejects vectors of another size", async () => {
    const store = new InMemoryVectorStore(docs(3, 4));
    store.upsert([{ id: "d1", text: "new text", embedding: [1, 0, 0, 0] }]);
    expect(store.size).toBe(3);
    expect(() => store.upsert([{ id: "x", text: "", embedding: [1, 0] }])).toThrowError(expect.objectContaining({ code: "VALIDATION_FAILED" }));
    await expect(store.search({ userId: "u", embedding: new Float32Array(2), k: 1 })).rejects.toMatchObject({ code: "VALIDATION_FAILED" });
  });

  it("saves to a file and loads back the same search results", async () => {
    const dir = await mkdtemp(join(tmpdir(), "vs-"));
    try {
      const store = new InMemoryVectorStore([...docs(50), { id: "p", text: "private", embedding: randomUnit(16, mulberry32(5)), userId: "alice" }]);
      await store.save(join(dir, "nested", "kb.json"));
      const loaded = await InMemoryVectorStore.load(join(dir, "nested", "kb.json"));
      const q = randomUnit(16, mulberry32(8));
      expect(await loaded.search({ userId: "alice", embedding: q, k: 7 })).toEqual(await store.search({ userId: "alice", embedding: q, k: 7 }));
      expect(loaded.size).toBe(51);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("InMemoryVectorStore text search", () => {
  const text = (id: string, body: string, extra: Partial<InMemoryDocument> = {}): InMemoryDocument => ({ id, text: body, embedding: [1, 0, 0], ...extra });

  it("ranks chunks by BM25 for the raw query, with metadata, leaving out chunks with no query term", async () => {
    const store = new InMemoryVectorStore([
      text("a", "Stop-loss orders cap the loss on a position.", { metadata: { title: "Stops" } }),
      text("b", "A trailing stop follows the price."),
      text("c", "Dividends are paid quarterly."),
    ]);
    const hits = await store.textSearch!({ userId: "u", query: "stop loss", k: 5 });
    expect(hits.map((h) => h.id)).toEqual(["a", "b"]);
    expect(hits[0]).toMatchObject({ text: "Stop-loss orders cap the loss on a position.", metadata: { title: "Stops" } });
    expect(hits[0]!.score).toBeGreaterThan(hits[1]!.score);
  });

  it("keeps the keyword index in step with upsert and delete after it was built", async () => {
    const store = new InMemoryVectorStore([text("a", "alpha beta"), text("b", "beta gamma")]);
    expect((await store.textSearch!({ userId: "u", query: "gamma", k: 5 })).map((h) => h.id)).toEqual(["b"]);
    store.upsert([text("a", "gamma delta"), text("c", "gamma")]);
    expect((await store.textSearch!({ userId: "u", query: "alpha", k: 5 })).map((h) => h.id)).toEqual([]);
    expect((await store.textSearch!({ userId: "u", query: "gamma", k: 5 })).map((h) => h.id).sort()).toEqual(["a", "b", "c"]);
    expect(store.delete(["b", "nope"])).toBe(1);
    expect((await store.textSearch!({ userId: "u", query: "gamma", k: 5 })).map((h) => h.id).sort()).toEqual(["a", "c"]);
    expect(store.size).toBe(2);
  });

  it("shows a user only shared chunks and their own", async () => {
    const store = new InMemoryVectorStore([text("mine", "secret plan", { userId: "alice" }), text("theirs", "secret plan", { userId: "bob" }), text("shared", "plan")]);
    expect((await store.textSearch!({ userId: "alice", query: "secret plan", k: 5 })).map((h) => h.id)).toEqual(["mine", "shared"]);
  });

  it("is absent when turned off, so the trainer searches dense-only", () => {
    expect(new InMemoryVectorStore([], { textSearch: false }).textSearch).toBeUndefined();
    expect(() => new InMemoryVectorStore([], { textSearch: { k1: -2 } })).toThrow(/k1/);
  });
});

describe("InMemoryVectorStore delete", () => {
  it("removes chunks from dense search and listing, keeping the others' vectors intact", async () => {
    const documents = docs(50);
    const store = new InMemoryVectorStore(documents);
    expect(store.delete(["d0", "d10", "d49", "d10"])).toBe(3);
    const listed = await store.listChunks({ userId: "u", cursor: null, limit: 100, includeEmbeddings: true });
    expect(listed.chunks.map((c) => c.id).sort()).toEqual(documents.map((d) => d.id).filter((id) => !["d0", "d10", "d49"].includes(id)).sort());
    for (const chunk of listed.chunks) {
      const original = documents.find((d) => d.id === chunk.id)!.embedding as Float32Array;
      expect([...chunk.embedding!].map((v) => +v.toFixed(6))).toEqual([...original].map((v) => +v.toFixed(6)));
    }
    const [top] = await store.search({ userId: "u", embedding: documents[10]!.embedding as Float32Array, k: 1 });
    expect(top!.id).not.toBe("d10");
  });
});
