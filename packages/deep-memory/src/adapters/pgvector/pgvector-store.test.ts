import { PGlite } from "@electric-sql/pglite";
import { vector } from "@electric-sql/pglite-pgvector";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UpstreamError, ValidationError } from "../../errors/errors.js";
import { bm25Scores, expectTopK, referenceDocs, termsOf } from "./bm25-reference.test-support.js";
import { createPgvectorDatabase, pgvectorUnavailable } from "./pgvector-database.test-support.js";
import { toPgVectorError } from "./pgvector-errors.js";
import { PgVectorStore, type PgVectorChunk } from "./pgvector-store.js";
import { allPages } from "../../test-utils/pages.js";
import { cosine, randomVectors } from "../../test-utils/synthetic.js";

/**
 * The same behaviour checked on PGlite with its vector extension (always) and
 * on a real PostgreSQL with pgvector (PGVECTOR_DATABASE_URL; .ci/run starts one).
 */

const DIMS = 8;

const TEXTS = [
  "Vitamin D deficiency is associated with an increased risk of cardiovascular disease.",
  "Regular exercise lowers blood pressure in adults with hypertension.",
  "The VWAP is the volume-weighted average price of a stock over a trading day.",
  "Moving averages smooth price data; a crossover of two moving averages is a trading signal.",
  "Cardiovascular disease remains the leading cause of death worldwide.",
  "Statins reduce cholesterol and the risk of heart attacks in high-risk patients.",
  "Order books list the bids and asks for a stock at each price level.",
  "Vitamin C does not prevent the common cold, but may shorten it.",
  "Blood pressure is measured in millimetres of mercury.",
  "Market makers profit from the spread between the bid and ask price.",
];

const ALICE = "alice";
const BOB = "bob";
/** 0-9 shared, 10-19 Alice's, 20-29 Bob's; texts repeat with an owner tag so BM25 has a corpus. */
const owner = (i: number) => (i < 10 ? null : i < 20 ? ALICE : BOB);
const vectors = randomVectors(30, 7, DIMS);
const corpus: PgVectorChunk[] = vectors.map((embedding, i) => ({
  id: `c${String(i).padStart(2, "0")}`,
  text: `${TEXTS[i % 10]} ${owner(i) ?? "shared"} note ${i}`,
  embedding,
  metadata: { n: i },
  userId: owner(i),
}));
const visibleTo = (user: string) => (i: number) => owner(i) === null || owner(i) === user;

interface Backend {
  name: string;
  available: string | null;
  open(options?: { table?: string; dimensions?: number }): Promise<{ store: PgVectorStore; query: Query }>;
  cleanup(): Promise<void>;
}
type Query = (sql: string, params?: unknown[]) => Promise<Record<string, unknown>[]>;

function pgliteBackend(): Backend {
  let db: PGlite | undefined;
  return {
    name: "PGlite (vector extension)",
    available: null,
    async open(options = {}) {
      db ??= await PGlite.create({ extensions: { vector } });
      const store = new PgVectorStore({ pglite: db, dimensions: options.dimensions ?? DIMS, table: options.table });
      await store.migrate();
      const query: Query = async (sql, params) => (await db!.query(sql, params)).rows as Record<string, unknown>[];
      return { store, query };
    },
    async cleanup() {
      await db?.close();
    },
  };
}

function postgresBackend(): Backend {
  let database: Awaited<ReturnType<typeof createPgvectorDatabase>> | undefined;
  const stores: PgVectorStore[] = [];
  return {
    name: "PostgreSQL with pgvector",
    available: pgvectorUnavailable,
    async open(options = {}) {
      database ??= await createPgvectorDatabase();
      const store = await PgVectorStore.connect({
        connectionString: database.url,
        dimensions: options.dimensions ?? DIMS,
        table: options.table,
        max: 2,
      });
      stores.push(store);
      const { default: pg } = await import("pg");
      const query: Query = async (sql, params) => {
        const client = new pg.Client({ connectionString: database!.url });
        await client.connect();
        try {
          return (await client.query(sql, params as unknown[])).rows as Record<string, unknown>[];
        } finally {
          await client.end();
        }
      };
      return { store, query };
    },
    async cleanup() {
      for (const store of stores) await store.close();
      await database?.drop();
    },
  };
}

for (const backend of [pgliteBackend(), postgresBackend()]) {
  const suite = backend.available ? describe.skip : describe;
  suite(`PgVectorStore on ${backend.name}`, () => {
    let store: PgVectorStore;
    let query: Query;

    beforeAll(async () => {
      ({ store, query } = await backend.open());
      await store.upsert(corpus);
    }, 60_000);
    afterAll(() => backend.cleanup(), 60_000);

    async function reference(user: string, text: string, table = "public.deep_memory_chunks") {
      const rows = await query(`select id, ${termsOf("content_tsv")} as terms from ${table} where user_id = $1 or user_id is null`, [user]);
      const [{ lexemes }] = (await query("select array(select lexeme from unnest(to_tsvector('english', $1::text))) as lexemes", [
        text,
      ])) as [{ lexemes: string[] }];
      return bm25Scores(referenceDocs(rows), lexemes);
    }

    it("applies the schema idempotently and refuses a table made for another vector size", async () => {
      await store.migrate();
      await Promise.all([store.migrate(), store.migrate()]);
      const other = await backend.open({ table: "pgv_size_check", dimensions: 4 }).then((r) => r.store);
      const wrongSize = await backend.open({ table: "pgv_size_check", dimensions: 6 }).catch((e: unknown) => e);
      expect(wrongSize).toBeInstanceOf(ValidationError);
      expect((wrongSize as Error).message).toMatch(/holds vector\(4\) embeddings but this store was configured for 6/);
      expect(other).toBeInstanceOf(PgVectorStore);
    });

    it("lists the user's and the shared chunks once each, in id order, with exact embeddings", async () => {
      const pages = await allPages(store, { userId: ALICE, limit: 7, includeEmbeddings: true });
      const chunks = pages.flatMap((page) => page.chunks);
      for (const chunk of chunks) {
        const i = Number(chunk.id.slice(1));
        expect(chunk.text).toBe(corpus[i]!.text);
        expect(chunk.embedding).toEqual(vectors[i]);
        expect(chunk.metadata).toEqual({ n: i });
      }
      expect(chunks.map((c) => c.id)).toEqual(corpus.filter((_, i) => visibleTo(ALICE)(i)).map((c) => c.id));
      expect(pages).toHaveLength(3);
      const bare = await store.listChunks({ userId: BOB, cursor: "c05", limit: 3, includeEmbeddings: false });
      expect(bare.chunks.map((c) => [c.id, c.embedding])).toEqual([
        ["c06", undefined],
        ["c07", undefined],
        ["c08", undefined],
      ]);
      await expect(store.listChunks({ userId: BOB, cursor: null, limit: 0, includeEmbeddings: false })).rejects.toBeInstanceOf(
        ValidationError,
      );
    });

    it("counts the user's and the shared chunks in one query, leaving out the ids asked", async () => {
      const visible = corpus.filter((_, i) => visibleTo(ALICE)(i)).map((c) => c.id);
      expect(await store.countChunks({ userId: ALICE, excludeIds: [] })).toBe(visible.length);
      expect(await store.countChunks({ userId: ALICE, excludeIds: [...visible.slice(0, 3), "no-such-chunk"] })).toBe(visible.length - 3);
    });

    it("searches by cosine similarity among the user's and the shared chunks, best first", async () => {
      for (const [seed, user] of [
        [1, ALICE],
        [2, BOB],
        [3, ALICE],
      ] as const) {
        const q = randomVectors(1, seed, DIMS)[0]!;
        const expected = vectors
          .map((v, i) => ({ id: corpus[i]!.id, score: cosine(q, v), i }))
          .filter((d) => visibleTo(user)(d.i))
          .sort((x, y) => y.score - x.score);
        const hits = await store.search({ userId: user, embedding: q, k: 5 });
        expect(hits.map((h) => h.id)).toEqual(expected.slice(0, 5).map((d) => d.id));
        hits.forEach((hit, j) => expect(hit.score).toBeCloseTo(expected[j]!.score, 5));
        expect(hits[0]!.text).toBe(corpus[Number(hits[0]!.id.slice(1))]!.text);
        const all = await store.search({ userId: user, embedding: q, k: 100 });
        expect(all.map((h) => h.id)).toEqual(expected.map((d) => d.id));
      }
      expect(await store.search({ userId: ALICE, embedding: vectors[0]!, k: 0 })).toEqual([]);
      const zero = await store.search({ userId: ALICE, embedding: new Float32Array(DIMS), k: 3 }).catch((e: unknown) => e);
      expect(zero).toBeInstanceOf(ValidationError);
      const short = await store.search({ userId: ALICE, embedding: new Float32Array(3).fill(1), k: 3 }).catch((e: unknown) => e);
      expect((short as ValidationError).issues).toEqual([{ path: "embedding", message: "expected 8 dimensions, got 3" }]);
    });

    it("returns k rows past the index's default candidate list, and a small user's rows in a large table", async () => {
      const { store: big } = await backend.open({ table: "pgv_big" });
      const many = randomVectors(400, 11, DIMS);
      await big.upsert(
        many.map((embedding, i) => ({ id: `b${String(i).padStart(3, "0")}`, text: `row ${i}`, embedding, userId: i < 6 ? "few" : "crowd" })),
      );
      const q = randomVectors(1, 12, DIMS)[0]!;
      const wide = await big.search({ userId: "crowd", embedding: q, k: 120 });
      expect(wide).toHaveLength(120);
      const few = await big.search({ userId: "few", embedding: q, k: 6 });
      const expected = many
        .map((v, i) => ({ id: `b${String(i).padStart(3, "0")}`, score: cosine(q, v), i }))
        .filter((d) => d.i < 6)
        .sort((x, y) => y.score - x.score)
        .map((d) => d.id);
      expect(few.map((h) => h.id)).toEqual(expected);
    }, 60_000);

    it("ranks text by BM25 over the user's and the shared chunks, leaving out chunks with no query term", async () => {
      for (const [user, text] of [
        [ALICE, "Does vitamin D lower cardiovascular risk?"],
        [BOB, "price of a stock"],
        [ALICE, "blood pressure and exercise"],
        [BOB, "alice"],
      ] as const) {
        const expected = await reference(user, text);
        const hits = await store.textSearch({ userId: user, query: text, k: 4 });
        expectTopK(hits, expected, 4);
        for (const hit of hits) expect(visibleTo(user)(Number(hit.id.slice(1)))).toBe(true);
      }
      // Bob searching for Alice's tag finds nothing of hers.
      expect(await store.textSearch({ userId: BOB, query: "alice", k: 10 })).toEqual([]);
      expect(await store.textSearch({ userId: ALICE, query: "the of and", k: 10 })).toEqual([]);
      expect(await store.textSearch({ userId: ALICE, query: "   ", k: 10 })).toEqual([]);
      const odd = await store.textSearch({ userId: ALICE, query: "what's 'vitamin' \\ & | ! <-> :* (C)\u0000?", k: 3 });
      expect(odd.map((h) => h.id)).toContain("c07");
    });

    it("re-indexes changed text and owners in the same transaction, and keeps the totals exact", async () => {
      await store.upsert([
        { id: "c01", text: "Quantum entanglement links particle states.", embedding: vectors[1]! },
        { id: "c02", text: corpus[2]!.text, embedding: vectors[3]!, metadata: { n: 2, edited: true } },
      ]);
      const hypertension = await store.textSearch({ userId: ALICE, query: "hypertension", k: 10 });
      expect(hypertension.map((h) => h.id)).toEqual(["c11"]);
      const quantum = await store.textSearch({ userId: ALICE, query: "quantum particles", k: 3 });
      expect(quantum.map((h) => h.id)).toEqual(["c01"]);
      expectTopK(await store.textSearch({ userId: ALICE, query: "price risk blood", k: 6 }), await reference(ALICE, "price risk blood"), 6);
      const [edited] = (await store.search({ userId: ALICE, embedding: vectors[3]!, k: 1 })).filter((h) => h.id === "c02");
      expect(edited?.metadata).toEqual({ n: 2, edited: true });

      const totals = await query(
        `select coalesce(t.user_id, '-') as owner, t.chunks::int as chunks, t.total_length::int as total,
                (select count(*)::int from public.deep_memory_chunks c where c.user_id is not distinct from t.user_id) as actual_chunks,
                (select coalesce(sum((select sum(coalesce(array_length(x.positions, 1), 1)) from unnest(c.content_tsv) x)), 0)::int
                   from public.deep_memory_chunks c where c.user_id is not distinct from t.user_id) as actual_total
           from public.deep_memory_chunks_term_stats t order by 1`,
      );
      expect(totals.map((r) => r.owner)).toEqual(["-", ALICE, BOB]);
      for (const row of totals) expect([row.chunks, row.total]).toEqual([row.actual_chunks, row.actual_total]);
      const [{ stale }] = (await query(
        `select count(*)::int as stale from public.deep_memory_chunks_terms t
          where not exists (select 1 from public.deep_memory_chunks c, unnest(c.content_tsv) u
                             where c.id = t.chunk_id and u.lexeme = t.lexeme and c.user_id is not distinct from t.user_id)`,
      )) as [{ stale: number }];
      expect(stale).toBe(0);
    });

    it("refuses to take over another owner's chunk id, writing nothing", async () => {
      const attempt = await store
        .upsert([
          { id: "c-new", text: "a new chunk", embedding: vectors[0]!, userId: BOB },
          { id: "c12", text: "Bob overwriting Alice", embedding: vectors[0]!, userId: BOB },
        ])
        .catch((e: unknown) => e);
      expect(attempt).toBeInstanceOf(ValidationError);
      expect((attempt as Error).message).toMatch(/"c12"/);
      expect(await query("select id from public.deep_memory_chunks where id in ('c-new', 'c12') and user_id = 'bob'")).toEqual([]);
    });

    it("validates chunks before writing any", async () => {
      const invalid = [
        { id: "v1", text: "ok", embedding: vectors[0]! },
        { id: "v2", text: "short", embedding: [1, 2] },
        { id: "v3", text: "nan", embedding: Array.from({ length: DIMS }, () => Number.NaN) },
        { id: "v1", text: "twice", embedding: vectors[1]! },
      ];
      const bad = await store.upsert([...invalid, { id: "v4", text: "nul\u0000", embedding: vectors[1]! }]).catch((e: unknown) => e);
      expect(bad).toBeInstanceOf(ValidationError);
      expect((bad as ValidationError).issues.map((i) => i.path)).toEqual(["1.embedding", "2.embedding", "4.text", "3.id"]);
      const second = await store.upsert(invalid).catch((e: unknown) => e);
      expect((second as ValidationError).issues.map((i) => i.path)).toEqual(["1.embedding", "2.embedding", "3.id"]);
      expect(await query("select id from public.deep_memory_chunks where id like 'v%'")).toEqual([]);
      await expect(store.upsert([{ id: "x".repeat(513), text: "long id", embedding: vectors[0]! }])).rejects.toBeInstanceOf(ValidationError);
    });

    it("deletes by id, only the given owner's when asked", async () => {
      expect(await store.delete({ ids: ["c11", "c21"], userId: ALICE })).toEqual({ deleted: 1 });
      expect(await store.delete({ ids: ["c21", "missing"] })).toEqual({ deleted: 1 });
      expect(await store.delete({ ids: ["c03"], userId: null })).toEqual({ deleted: 1 });
      expect(await store.delete({ ids: [] })).toEqual({ deleted: 0 });
      const ids = (await store.listChunks({ userId: BOB, cursor: null, limit: 100, includeEmbeddings: false })).chunks.map((c) => c.id);
      expect(ids).not.toContain("c21");
      expect(ids).not.toContain("c03");
      const hits = await store.textSearch({ userId: ALICE, query: "moving averages crossover", k: 10 });
      expect(hits.map((h) => h.id)).not.toContain("c03");
      expectTopK(hits, await reference(ALICE, "moving averages crossover"), 10);
    });

    it("empties the term tables with the chunks on truncate", async () => {
      const { store: small, query: q } = await backend.open({ table: "pgv_truncate" });
      await small.upsert([{ id: "t1", text: "vitamin d", embedding: vectors[0]! }]);
      await q("truncate public.pgv_truncate");
      expect(await q("select (select count(*)::int from public.pgv_truncate_terms) as terms, (select count(*)::int from public.pgv_truncate_term_stats) as stats")).toEqual([
        { terms: 0, stats: 0 },
      ]);
      expect(await small.textSearch({ userId: ALICE, query: "vitamin", k: 3 })).toEqual([]);
    });
  });
}

describe("PgVectorStore options and errors", () => {
  it("refuses bad options with the field named", () => {
    const db = {} as never;
    const cases: [Record<string, unknown>, string][] = [
      [{ dimensions: 0 }, "dimensions"],
      [{ dimensions: 3072 }, "dimensions"],
      [{ dimensions: 8, table: "Robert'); drop table x;--" }, "table"],
      [{ dimensions: 8, textSearchConfig: "english; drop" }, "textSearchConfig"],
      [{ dimensions: 8, bm25: { b: 2 } }, "b"],
    ];
    for (const [options, path] of cases) {
      let error: unknown;
      try {
        new PgVectorStore({ pglite: db, ...options } as never);
      } catch (e) {
        error = e;
      }
      expect(error, JSON.stringify(options)).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).issues[0]!.path).toContain(path);
    }
    expect(() => new PgVectorStore({ dimensions: 3072, index: "none", pglite: db })).not.toThrow();
    expect(() => new PgVectorStore({ dimensions: 8 } as never)).toThrow(ValidationError);
  });

  it("maps database errors: bad input to ValidationError, lost connections to retryable UpstreamError", () => {
    expect(toPgVectorError({ code: "22P02", message: "invalid input syntax" }, "upsert")).toBeInstanceOf(ValidationError);
    const lost = toPgVectorError({ code: "57P01", message: "terminating connection due to administrator command" }, "search");
    expect(lost).toBeInstanceOf(UpstreamError);
    expect(lost).toMatchObject({ retryable: true, provider: "pgvector" });
    expect(toPgVectorError(new Error("Connection terminated unexpectedly"), "search")).toMatchObject({ retryable: true });
    expect(toPgVectorError({ code: "42P01", message: "relation does not exist" }, "search")).toMatchObject({ retryable: false });
  });
});
