import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { PGlite } from "@electric-sql/pglite";
import { vector } from "@electric-sql/pglite-pgvector";
import { createClient } from "@supabase/supabase-js";
import { http } from "msw";
import { setupServer } from "msw/node";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UpstreamError } from "../../errors/errors.js";
import { bm25Scores, expectTopK, referenceDocs, termsOf } from "../pgvector/bm25-reference.test-support.js";
import { createPgvectorDatabase, pgvectorUnavailable } from "../pgvector/pgvector-database.test-support.js";
import { authShimSql } from "../training-store/sql-schema.js";
import { PostgrestEmulator } from "./postgrest-emulator.test-support.js";
import { SupabaseVectorStore } from "./supabase-vector-store.js";

/**
 * Text search of supabase/vector-store: documents.sql (which ends with
 * documents-text-search.sql) run for real, the BM25 function checked against a
 * TypeScript BM25 over the same tsvectors as the service role and as a
 * signed-in user under row-level security, on PGlite and on PostgreSQL with
 * pgvector; then SupabaseVectorStore.textSearch through supabase-js, msw and
 * the PostgREST emulator.
 */

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const documentsSql = readFileSync(here("../../../../../supabase/vector-store/documents.sql"), "utf8");
const textSearchSql = readFileSync(here("../../../../../supabase/vector-store/documents-text-search.sql"), "utf8");
const DIMS = 3;
const withDims = (sql: string) => sql.replaceAll("vector(1536)", `vector(${DIMS})`);

const TEXTS = [
  "Vitamin D deficiency is associated with an increased risk of cardiovascular disease.",
  "Regular exercise lowers blood pressure in adults with hypertension.",
  "The VWAP is the volume-weighted average price of a stock over a trading day.",
  "Cardiovascular disease remains the leading cause of death worldwide.",
  "Statins reduce cholesterol and the risk of heart attacks in high-risk patients.",
  "Market makers profit from the spread between the bid and ask price.",
];
const ALICE = randomUUID();
const BOB = randomUUID();
/** 0-5 shared, 6-11 Alice's, 12-17 Bob's. */
const owner = (i: number) => (i < 6 ? undefined : i < 12 ? ALICE : BOB);
const docs = Array.from({ length: 18 }, (_, i) => ({
  content: `${TEXTS[i % 6]} ${owner(i) ? (owner(i) === ALICE ? "alpha" : "bravo") : "shared"} note ${i}`,
  metadata: owner(i) ? { user_id: owner(i), n: i } : { n: i },
  embedding: JSON.stringify([1, (i % 5) + 1, i + 1]),
}));

interface Db {
  query(sql: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  /** Runs `sql` as a signed-in user, the way PostgREST does. */
  asUser(user: string, sql: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
}

async function loadDocuments(db: Db): Promise<void> {
  for (const d of docs) {
    await db.query("insert into public.documents (content, metadata, embedding) values ($1, $2::text::jsonb, $3::text::extensions.vector)", [
      d.content,
      JSON.stringify(d.metadata),
      d.embedding,
    ]);
  }
}

/**
 * Reference BM25 with statistics over the documents `visible` keeps, narrowed
 * to those `returned` keeps (a metadata filter narrows results, not statistics).
 */
async function reference(
  db: Db,
  text: string,
  visible: (metadata: Record<string, unknown>) => boolean,
  returned: (metadata: Record<string, unknown>) => boolean = () => true,
) {
  const rows = await db.query(`select id::text as id, metadata, ${termsOf("fts")} as terms from public.documents`);
  const [{ lexemes }] = (await db.query("select array(select lexeme from unnest(to_tsvector('english', $1::text))) as lexemes", [text])) as [
    { lexemes: string[] },
  ];
  const seen = rows.filter((r) => visible(r.metadata as Record<string, unknown>));
  const scores = bm25Scores(referenceDocs(seen), lexemes);
  for (const row of seen) if (!returned(row.metadata as Record<string, unknown>)) scores.delete(String(row.id));
  return scores;
}
const hitsOf = (rows: Record<string, unknown>[]) => rows.map((r) => ({ id: String(r.id), text: String(r.content), score: Number(r.score) }));
const ownedBy = (user: string) => (m: Record<string, unknown>) => !("user_id" in m) || m.user_id === user;

function describeSql(name: string, unavailable: string | null, open: () => Promise<{ db: Db; close: () => Promise<void> }>) {
  (unavailable ? describe.skip : describe)(`documents.sql text search on ${name}`, () => {
    let db: Db;
    let close: () => Promise<void>;
    beforeAll(async () => {
      ({ db, close } = await open());
      await loadDocuments(db);
    }, 60_000);
    afterAll(() => close?.());

    it("ranks by BM25 over every document for the service role, and over one owner's with a user_id filter", async () => {
      for (const text of ["cardiovascular risk", "price of a stock", "alpha blood pressure"]) {
        const all = await db.query("select * from public.match_documents_text($1, 5)", [text]);
        expectTopK(hitsOf(all), await reference(db, text, () => true), 5);
        const scoped = await db.query("select * from public.match_documents_text($1, 5, $2::text::jsonb)", [text, JSON.stringify({ user_id: BOB })]);
        expectTopK(hitsOf(scoped), await reference(db, text, ownedBy(BOB), (m) => m.user_id === BOB), 5);
      }
      expect(await db.query("select * from public.match_documents_text('the and of', 5)")).toEqual([]);
    });

    it("gives a signed-in user their own and the shared documents only, with statistics from those", async () => {
      const text = "cardiovascular disease alpha bravo";
      const rows = await db.asUser(ALICE, "select * from public.match_documents_text($1, 20)", [text]);
      expectTopK(hitsOf(rows), await reference(db, text, ownedBy(ALICE)), 20);
      expect(rows.some((r) => String(r.content).includes("bravo"))).toBe(false);
      const terms = await db.asUser(ALICE, "select distinct user_id from public.documents_terms");
      expect(terms.map((r) => r.user_id).sort()).toEqual([ALICE, null].sort());
    });

    it("keeps the term index in step with inserts, edits, owner changes and deletes", async () => {
      await db.query("update public.documents set content = 'Quantum entanglement of particles' where metadata->>'n' = '1'");
      await db.query("update public.documents set metadata = metadata || $1::text::jsonb where metadata->>'n' = '13'", [
        JSON.stringify({ user_id: ALICE }),
      ]);
      await db.query("update public.documents set embedding = '[3,2,1]' where metadata->>'n' = '2'");
      await db.query("delete from public.documents where metadata->>'n' = '4'");
      await db.query("insert into public.documents (content, metadata, embedding) values ('Quantum computing threatens RSA', '{}', '[1,1,1]')");
      for (const text of ["quantum", "hypertension exercise", "statins cholesterol", "cardiovascular alpha"]) {
        const rows = await db.asUser(ALICE, "select * from public.match_documents_text($1, 10)", [text]);
        expectTopK(hitsOf(rows), await reference(db, text, ownedBy(ALICE)), 10);
      }
      const totals = await db.query(
        `select s.user_id, s.documents::int as documents, s.total_length::int as total_length,
                (select count(*)::int from public.documents d
                  where (case when d.metadata ? 'user_id' then d.metadata->>'user_id' end) is not distinct from s.user_id) as actual
           from public.documents_term_stats s`,
      );
      for (const row of totals) expect(row.documents).toBe(row.actual);
    });
  });
}

describeSql("PGlite", null, async () => {
  const pglite = await PGlite.create({ extensions: { vector } });
  await pglite.exec(authShimSql);
  await pglite.exec("create schema extensions; grant usage on schema extensions to anon, authenticated, service_role");
  await pglite.exec(withDims(documentsSql));
  const db: Db = {
    query: async (sql, params) => (await pglite.query(sql, params)).rows as Record<string, unknown>[],
    asUser: (user, sql, params) =>
      pglite.transaction(async (tx) => {
        await tx.query("set local role authenticated");
        await tx.query("select set_config('request.jwt.claims', $1, true)", [JSON.stringify({ sub: user, role: "authenticated" })]);
        return (await tx.query(sql, params)).rows as Record<string, unknown>[];
      }),
  };
  return { db, close: () => pglite.close() };
});

describeSql("PostgreSQL with pgvector", pgvectorUnavailable, async () => {
  const database = await createPgvectorDatabase();
  const pool = new pg.Pool({ connectionString: database.url, max: 2 });
  await pool.query(authShimSql);
  await pool.query("create schema extensions; grant usage on schema extensions to anon, authenticated, service_role");
  await pool.query(withDims(documentsSql));
  const db: Db = {
    query: async (sql, params) => (await pool.query(sql, params)).rows as Record<string, unknown>[],
    asUser: async (user, sql, params) => {
      const client = await pool.connect();
      try {
        await client.query("begin");
        await client.query("set local role authenticated");
        await client.query("select set_config('request.jwt.claims', $1, true)", [JSON.stringify({ sub: user, role: "authenticated" })]);
        const { rows } = await client.query(sql, params);
        await client.query("commit");
        return rows as Record<string, unknown>[];
      } finally {
        client.release();
      }
    },
  };
  return {
    db,
    close: async () => {
      await pool.end();
      await database.drop();
    },
  };
});

describe("documents-text-search.sql", () => {
  it("is the text search part of documents.sql, word for word", () => {
    expect(documentsSql.endsWith(textSearchSql)).toBe(true);
  });

  it("adds text search to an existing LangChain-style table with uuid ids and rows already in it, and can run again", async () => {
    const db = await PGlite.create({ extensions: { vector } });
    try {
      await db.exec(authShimSql);
      await db.exec(`create extension vector;
        create table public.documents (id uuid primary key default gen_random_uuid(), content text, metadata jsonb, embedding vector(3));
        insert into public.documents (content, metadata, embedding) values
          ('Vitamin D and bone health', '{}', '[1,0,0]'), ('Stock price volatility', '{}', '[0,1,0]'), (null, '{}', '[0,0,1]');`);
      await db.exec(textSearchSql);
      await db.exec(textSearchSql);
      const { rows } = await db.query<{ content: string; id: string }>("select * from public.match_documents_text('vitamin bones', 5)");
      expect(rows.map((r) => r.content)).toEqual(["Vitamin D and bone health"]);
      expect(rows[0]!.id).toMatch(/^[0-9a-f-]{36}$/);
      const { rows: counts } = await db.query<{ n: number }>("select count(*)::int as n from public.documents_terms");
      expect(counts[0]!.n).toBeGreaterThan(0);
    } finally {
      await db.close();
    }
  }, 60_000);
});

describe("SupabaseVectorStore.textSearch", () => {
  const PROJECT_URL = "https://text-search-test.supabase.co";
  const SECRET = "yet-another-secret-jwt-token-with-at-least-32-characters";
  class NoWebSocket {
    constructor() {
      throw new Error("The vector store must not open a realtime connection");
    }
  }
  const clientOptions = { auth: { persistSession: false }, realtime: { transport: NoWebSocket as never } };
  let db: PGlite;
  let emulator: PostgrestEmulator;
  const server = setupServer(http.all(`${PROJECT_URL}/rest/v1/*`, ({ request }) => emulator.handle(request)));
  const service = () => createClient(PROJECT_URL, emulator.key("service_role"), clientOptions);
  const asUser = (user: string) =>
    createClient(PROJECT_URL, emulator.key("anon"), { ...clientOptions, global: { headers: { Authorization: `Bearer ${emulator.userToken(user)}` } } });
  const sqlDb: Db = {
    query: async (sql, params) => (await db.query(sql, params)).rows as Record<string, unknown>[],
    asUser: () => Promise.reject(new Error("unused")),
  };

  beforeAll(async () => {
    db = await PGlite.create({ extensions: { vector } });
    await db.exec(authShimSql);
    await db.exec("create schema extensions; grant usage on schema extensions to anon, authenticated, service_role");
    await db.exec(withDims(documentsSql));
    await loadDocuments(sqlDb);
    emulator = new PostgrestEmulator({ db, url: PROJECT_URL, jwtSecret: SECRET, maxRows: 4 });
    server.listen({ onUnhandledRequest: "error" });
  }, 60_000);
  afterAll(async () => {
    server.close();
    await db?.close();
  });

  it("is absent unless asked for, so tables without the SQL stay dense-only", () => {
    expect(new SupabaseVectorStore({ client: service() }).textSearch).toBeUndefined();
    expect(new SupabaseVectorStore({ client: service(), textSearch: true }).textSearch).toBeTypeOf("function");
  });

  it("calls match_documents_text over RPC and pages past the project's max_rows", async () => {
    const store = new SupabaseVectorStore({ client: service(), textSearch: true, filter: (userId) => ({ user_id: userId }) });
    emulator.requests.length = 0;
    const text = "cardiovascular disease risk bravo";
    const hits = await store.textSearch!({ userId: BOB, query: text, k: 6 });
    expectTopK(hits, await reference(sqlDb, text, ownedBy(BOB), (m) => m.user_id === BOB), 6);
    expect(hits[0]!.metadata).toMatchObject({ user_id: BOB });
    expect(emulator.requests.length).toBeGreaterThanOrEqual(2);
    expect(emulator.requests[0]).toMatchObject({ method: "POST", path: "rpc/match_documents_text" });
    expect(emulator.requests[0]!.body).toEqual({ query_text: text, match_count: 6, filter: { user_id: BOB } });
    expect(await store.textSearch!({ userId: BOB, query: "  ", k: 5 })).toEqual([]);
    expect(await store.textSearch!({ userId: BOB, query: "cardiovascular", k: 0 })).toEqual([]);
  });

  it("holds a signed-in user to their own and the shared documents by row-level security", async () => {
    const store = new SupabaseVectorStore({ client: asUser(ALICE), textSearch: true });
    const text = "price stock alpha bravo";
    const hits = await store.textSearch!({ userId: ALICE, query: text, k: 20 });
    expectTopK(hits, await reference(sqlDb, text, ownedBy(ALICE)), 20);
    expect(hits.some((h) => h.text.includes("bravo"))).toBe(false);
    const own = await asUser(ALICE).from("documents_terms").select("lexeme").eq("user_id", ALICE).limit(1);
    expect(own.error).toBeNull();
    expect(own.data).toHaveLength(1);
    const others = await asUser(ALICE).from("documents_terms").select("lexeme").eq("user_id", BOB);
    expect(others).toMatchObject({ error: null, data: [] });
    const anon = await createClient(PROJECT_URL, emulator.key("anon"), clientOptions).from("documents_terms").select("lexeme");
    expect(anon.error).not.toBeNull();
  });

  it("maps a missing function to a non-retryable UpstreamError", async () => {
    const store = new SupabaseVectorStore({ client: service(), textSearch: { queryName: "no_such_text_function" } });
    const error = await store.textSearch!({ userId: ALICE, query: "vitamin", k: 3 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamError);
    expect(error).toMatchObject({ status: 404, retryable: false });
  });
});
