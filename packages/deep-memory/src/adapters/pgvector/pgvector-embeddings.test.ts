import { PGlite } from "@electric-sql/pglite";
import { vector } from "@electric-sql/pglite-pgvector";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AbortedError, ValidationError } from "../../errors/errors.js";
import { randomVectors } from "../../test-utils/synthetic.js";
import { createPgvectorDatabase, pgvectorUnavailable } from "./pgvector-database.test-support.js";
import { PgVectorStore, type PgVectorChunk } from "./pgvector-store.js";

/**
 * getEmbeddings on PGlite with its vector extension (always) and on a real
 * PostgreSQL with pgvector (PGVECTOR_DATABASE_URL; .ci/run starts one).
 */

const DIMS = 8;
const ALICE = "alice";
const BOB = "bob";
/** 0-3 shared, 4-7 Alice's, 8-11 Bob's. */
const owner = (i: number) => (i < 4 ? null : i < 8 ? ALICE : BOB);
const vectors = randomVectors(12, 21, DIMS);
const id = (i: number) => `e${String(i).padStart(2, "0")}`;
const corpus: PgVectorChunk[] = vectors.map((embedding, i) => ({ id: id(i), text: `chunk ${i}`, embedding, userId: owner(i) }));

interface Backend {
  name: string;
  available: string | null;
  open(): Promise<PgVectorStore>;
  cleanup(): Promise<void>;
}

function pgliteBackend(): Backend {
  let db: PGlite | undefined;
  return {
    name: "PGlite (vector extension)",
    available: null,
    async open() {
      db = await PGlite.create({ extensions: { vector } });
      const store = new PgVectorStore({ pglite: db, dimensions: DIMS });
      await store.migrate();
      return store;
    },
    async cleanup() {
      await db?.close();
    },
  };
}

function postgresBackend(): Backend {
  let database: Awaited<ReturnType<typeof createPgvectorDatabase>> | undefined;
  let store: PgVectorStore | undefined;
  return {
    name: "PostgreSQL with pgvector",
    available: pgvectorUnavailable,
    async open() {
      database = await createPgvectorDatabase();
      store = await PgVectorStore.connect({ connectionString: database.url, dimensions: DIMS, max: 2 });
      return store;
    },
    async cleanup() {
      await store?.close();
      await database?.drop();
    },
  };
}

for (const backend of [pgliteBackend(), postgresBackend()]) {
  const suite = backend.available ? describe.skip : describe;
  suite(`PgVectorStore.getEmbeddings on ${backend.name}`, () => {
    let store: PgVectorStore;

    beforeAll(async () => {
      store = await backend.open();
      await store.upsert(corpus);
    }, 60_000);
    afterAll(() => backend.cleanup(), 60_000);

    it("returns a Map of exactly the stored vectors, keyed by id, for the user's and the shared chunks", async () => {
      const asked = [4, 0, 7, 3].map(id);
      const embeddings = await store.getEmbeddings({ userId: ALICE, ids: asked });
      expect(embeddings).toBeInstanceOf(Map);
      expect([...embeddings.keys()].sort()).toEqual([...asked].sort());
      for (const [key, embedding] of embeddings) {
        expect(embedding).toBeInstanceOf(Float32Array);
        expect(embedding).toEqual(vectors[Number(key.slice(1))]);
      }
    });

    it("leaves out unknown ids and other users' chunks, and answers a repeated id once", async () => {
      const embeddings = await store.getEmbeddings({ userId: BOB, ids: [id(9), id(5), "no-such-chunk", id(1), id(9), ""] });
      expect([...embeddings.keys()].sort()).toEqual([id(1), id(9)]);
      expect(embeddings.get(id(9))).toEqual(vectors[9]);
      expect(embeddings.has(id(5))).toBe(false);
      expect((await store.getEmbeddings({ userId: "carol", ids: [id(4), id(8)] })).size).toBe(0);
    });

    it("returns an empty Map for no ids, and sees a chunk's new embedding after an upsert", async () => {
      const empty = await store.getEmbeddings({ userId: ALICE, ids: [] });
      expect(empty).toBeInstanceOf(Map);
      expect(empty.size).toBe(0);
      await store.upsert([{ id: id(6), text: "chunk 6, re-embedded", embedding: vectors[11]!, userId: ALICE }]);
      expect((await store.getEmbeddings({ userId: ALICE, ids: [id(6)] })).get(id(6))).toEqual(vectors[11]);
    });

    it("refuses bad input with a ValidationError and an aborted signal with an AbortedError", async () => {
      for (const input of [
        { userId: ALICE, ids: "e04" },
        { userId: ALICE, ids: [4] },
        { userId: ALICE, ids: Array.from({ length: 1001 }, (_, i) => `x${i}`) },
        { userId: 7, ids: [id(4)] },
      ]) {
        const error = await store.getEmbeddings(input as never).catch((e: unknown) => e);
        expect(error, JSON.stringify(input).slice(0, 60)).toBeInstanceOf(ValidationError);
      }
      const tooMany = await store.getEmbeddings({ userId: ALICE, ids: Array.from({ length: 1001 }, (_, i) => `x${i}`) }).catch((e: unknown) => e);
      expect((tooMany as ValidationError).issues[0]!.path).toContain("ids");
      expect((await store.getEmbeddings({ userId: ALICE, ids: Array.from({ length: 1000 }, (_, i) => id(i)) })).size).toBe(8);
      const aborted = await store.getEmbeddings({ userId: ALICE, ids: [id(4)], signal: AbortSignal.abort() }).catch((e: unknown) => e);
      expect(aborted).toBeInstanceOf(AbortedError);
    });
  });
}
