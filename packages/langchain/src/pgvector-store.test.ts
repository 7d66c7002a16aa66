import { randomBytes } from "node:crypto";
import { PGlite } from "@electric-sql/pglite";
import { vector } from "@electric-sql/pglite-pgvector";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";
import { PGVectorStore, type DistanceStrategy } from "@langchain/community/vectorstores/pgvector";
import type { Document } from "@langchain/core/documents";
import { DeepMemoryTrainer, InMemoryTrainingStore, LocalDeepMemory } from "@zip/deep-memory";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DeepMemoryRetriever } from "./deep-memory-retriever.js";
import { LangChainEmbedder } from "./langchain-embedder.js";
import { LangChainVectorStoreAdapter } from "./langchain-vector-store-adapter.js";
import { AspectQuestions, chunkName, questionAbout, SyntheticEmbeddings, syntheticDocuments } from "./synthetic.test-support.js";

/**
 * LangChain's pgvector store (@langchain/community PGVectorStore over
 * node-postgres) against real pgvector: PGlite's vector extension served over
 * the PostgreSQL wire protocol (@electric-sql/pglite-socket), always; and a
 * PostgreSQL server with pgvector at PGVECTOR_DATABASE_URL when one is given.
 */
interface Backend {
  pool: pg.Pool;
  close(): Promise<void>;
}

async function pgliteBackend(): Promise<Backend> {
  const db = await PGlite.create({ extensions: { vector } });
  const server = new PGLiteSocketServer({ db, host: "127.0.0.1", port: 0, maxConnections: 4 });
  await server.start();
  const [host, port] = server.getServerConn().split(":");
  const pool = new pg.Pool({ host, port: Number(port), user: "postgres", database: "postgres", max: 3 });
  return {
    pool,
    async close() {
      await pool.end();
      await server.stop();
      await db.close();
    },
  };
}

const url = process.env.PGVECTOR_DATABASE_URL;
if (!url && process.env.REQUIRE_PGVECTOR === "1") throw new Error("REQUIRE_PGVECTOR=1 but PGVECTOR_DATABASE_URL is not set");
if (!url) console.warn("Skipping the LangChain PGVectorStore tests on a PostgreSQL server: PGVECTOR_DATABASE_URL is not set (the PGlite ones ran).");

const backends: [string, () => Promise<Backend>][] = [["PGlite (pgvector over pglite-socket)", pgliteBackend]];
if (url) backends.push(["PostgreSQL at PGVECTOR_DATABASE_URL", async () => ({ pool: new pg.Pool({ connectionString: url, max: 3 }), close: async () => {} })]);

const userId = "user-a";
const embeddings = new SyntheticEmbeddings();
const uuid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;

for (const [name, connect] of backends) {
  // PGlite takes seconds of WebAssembly set-up (over 10 on a loaded CI machine); training about one.
  describe(`LangChain PGVectorStore on ${name}`, { timeout: 60_000 }, () => {
    let backend: Backend;
    let store: PGVectorStore;
    const table = `lc_docs_${randomBytes(4).toString("hex")}`;
    const storeWith = (extra: Partial<ConstructorParameters<typeof PGVectorStore>[1]> = {}) =>
      new PGVectorStore(embeddings, { pool: backend.pool, tableName: table, skipInitializationCheck: true, ...extra });

    beforeAll(async () => {
      backend = await connect();
      store = await PGVectorStore.initialize(embeddings, { pool: backend.pool, tableName: table, dimensions: embeddings.dims, collectionTableName: `${table}_collections`, collectionName: "alice" });
      const docs = syntheticDocuments(60);
      await store.addDocuments(docs, { ids: docs.map((_, i) => uuid(i)) });
    }, 120_000);
    afterAll(async () => {
      await backend?.pool.query(`drop table if exists ${table}; drop table if exists ${table}_collections`).catch(() => {});
      // initialize() keeps one pooled client checked out; release it before the pool ends.
      store?.client?.release();
      await backend?.close();
    }, 60_000);

    it("lists the collection's documents in id order, page by page, with their stored vectors", async () => {
      const bob = storeWith({ collectionTableName: `${table}_collections`, collectionName: "bob" });
      await bob.addDocuments(syntheticDocuments(5, (i) => `bob-${i}`), { ids: [0, 1, 2, 3, 4].map((i) => uuid(900 + i)) });
      const adapter = new LangChainVectorStoreAdapter({ vectorStore: store });
      const ids: string[] = [];
      let cursor: string | null = null;
      do {
        const page = await adapter.listChunks({ userId, cursor, limit: 7, includeEmbeddings: true });
        for (const chunk of page.chunks) {
          const n = Number(chunk.id.slice(-12));
          expect(chunk.text).toMatch(new RegExp(`^${chunkName(n)}:`));
          expect(Array.from(chunk.embedding!)).toEqual(Array.from(Float32Array.from((await embeddings.embedDocuments([chunk.text]))[0]!)));
          ids.push(chunk.id);
        }
        cursor = page.nextCursor;
      } while (cursor !== null);
      expect(ids).toEqual(Array.from({ length: 60 }, (_, i) => uuid(i)));
      const bobs = await new LangChainVectorStoreAdapter({ vectorStore: bob }).listChunks({ userId, cursor: null, limit: 100, includeEmbeddings: false });
      expect(bobs.chunks.map((c) => c.id)).toEqual([0, 1, 2, 3, 4].map((i) => uuid(900 + i)));
    });

    it("scopes listing and search by the store's own metadata filter", async () => {
      const scoped = new LangChainVectorStoreAdapter({
        vectorStore: store,
        filter: (user): PGVectorStore["FilterType"] => (user === "small" ? { n: { in: [3, 4, 5] } } : { owner: user }),
      });
      const small = await scoped.listChunks({ userId: "small", cursor: null, limit: 100, includeEmbeddings: false });
      expect(small.chunks.map((c) => c.id)).toEqual([uuid(3), uuid(4), uuid(5)]);
      expect((await scoped.listChunks({ userId: "nobody", cursor: null, limit: 100, includeEmbeddings: false })).chunks).toEqual([]);
      const [query] = await embeddings.embedDocuments([`${chunkName(40)}: x`]);
      const hits = await scoped.search({ userId: "small", embedding: Float32Array.from(query!), k: 10 });
      expect(hits.map((h) => h.id).sort()).toEqual([uuid(3), uuid(4), uuid(5)]);
    });

    it("reports cosine similarity whatever the store's distance strategy and score normalisation", async () => {
      const [query] = await embeddings.embedDocuments([`${chunkName(12)}: x`]);
      const vectors = new Map((await new LangChainVectorStoreAdapter({ vectorStore: store }).listChunks({ userId, cursor: null, limit: 100, includeEmbeddings: true })).chunks.map((c) => [c.id, c.embedding!]));
      const cosine = (id: string) => vectors.get(id)!.reduce((s, x, i) => s + x * query![i]!, 0);
      for (const distanceStrategy of ["cosine", "innerProduct", "euclidean"] as DistanceStrategy[]) {
        for (const scoreNormalization of ["distance", "similarity"] as const) {
          const adapter = new LangChainVectorStoreAdapter({ vectorStore: storeWith({ distanceStrategy, scoreNormalization, collectionTableName: `${table}_collections`, collectionName: "alice" }) });
          const hits = await adapter.search({ userId, embedding: Float32Array.from(query!), k: 5 });
          expect(hits[0]!.id, `${distanceStrategy}/${scoreNormalization}`).toBe(uuid(12));
          for (const hit of hits) expect(hit.score, `${distanceStrategy}/${scoreNormalization}`).toBeCloseTo(cosine(hit.id), 4);
        }
      }
    });

    it("trains deep memory on the store's documents, and the retriever then finds more answers than plain pgvector search", async () => {
      const trainer = new DeepMemoryTrainer({
        vectorStore: new LangChainVectorStoreAdapter({ vectorStore: store }),
        embedder: new LangChainEmbedder({ embeddings }),
        store: new InMemoryTrainingStore(),
        generator: new AspectQuestions(),
        engine: new LocalDeepMemory(),
        options: { questionsPerChunk: 5, concurrency: 4, pageSize: 25 },
      });
      try {
        const { jobId, runId } = await trainer.generate({ userId });
        expect(await trainer.waitForJob({ userId, jobId })).toMatchObject({ type: "completed", pairCount: 300 });
        const training = await trainer.train({ userId, runId });
        const done = await trainer.waitForJob({ userId, jobId: training.jobId });
        expect(done).toMatchObject({ type: "completed", metrics: { verdict: "improved" } });
        await trainer.updateSettings({ userId, enabled: true });

        const retriever = new DeepMemoryRetriever({ vectorStore: store, trainer, userId, k: 5 });
        const plain = store.asRetriever({ k: 5 });
        let withDeepMemory = 0;
        let without = 0;
        for (let n = 0; n < 60; n += 2) {
          const query = questionAbout(chunkName(n), 8);
          const top = (docs: Document[]) => (docs[0]?.id === uuid(n) ? 1 : 0);
          withDeepMemory += top(await retriever.invoke(query));
          without += top(await plain.invoke(query));
        }
        expect(withDeepMemory).toBeGreaterThan(without + 10);
        expect(withDeepMemory).toBeGreaterThanOrEqual(27);
      } finally {
        await trainer.close();
      }
    });
  });
}
