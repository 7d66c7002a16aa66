import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { PGlite } from "@electric-sql/pglite";
import { vector } from "@electric-sql/pglite-pgvector";
import { createClient } from "@supabase/supabase-js";
import { http, HttpResponse } from "msw";
import { setupServer } from "msw/node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { AbortedError, UpstreamError, ValidationError } from "../../errors/errors.js";
import { authShimSql } from "../training-store/sql-schema.js";
import { PostgrestEmulator } from "./postgrest-emulator.test-support.js";
import { SupabaseVectorStore } from "./supabase-vector-store.js";
import { allPages } from "../../test-utils/pages.js";
import { cosine, randomVectors } from "../../test-utils/synthetic.js";

/**
 * supabase/vector-store/documents.sql run for real on PGlite with pgvector,
 * then SupabaseVectorStore talking to it through supabase-js, msw and the
 * PostgREST emulator.
 */

const PROJECT_URL = "https://vectors-test.supabase.co";
const SECRET = "another-secret-jwt-token-with-at-least-32-characters";
const DIMS = 1536;
const documentsSql = readFileSync(fileURLToPath(new URL("../../../../../supabase/vector-store/documents.sql", import.meta.url)), "utf8");

class NoWebSocket {
  constructor() {
    throw new Error("The vector store must not open a realtime connection");
  }
}
const clientOptions = { auth: { persistSession: false }, realtime: { transport: NoWebSocket as never } };

const ALICE = randomUUID();
const BOB = randomUUID();
const vectors = randomVectors(30, 7, DIMS);
/** Documents 0-9 are shared, 10-19 Alice's, 20-29 Bob's. */
const owner = (i: number) => (i < 10 ? undefined : i < 20 ? ALICE : BOB);

let db: PGlite;
let emulator: PostgrestEmulator;
const server = setupServer(http.all(`${PROJECT_URL}/rest/v1/*`, ({ request }) => emulator.handle(request)));

beforeAll(async () => {
  db = await PGlite.create({ extensions: { vector } });
  // What a Supabase project has before documents.sql runs.
  await db.exec(authShimSql);
  await db.exec("create schema extensions; grant usage on schema extensions to anon, authenticated, service_role");
  await db.exec(documentsSql);
  for (let i = 0; i < vectors.length; i++) {
    const user = owner(i);
    await db.query(
      "insert into public.documents (content, metadata, embedding) values ($1, $2::text::jsonb, $3::text::extensions.vector)",
      [`document ${i}`, JSON.stringify(user ? { user_id: user, n: i } : { n: i }), JSON.stringify(Array.from(vectors[i]!))],
    );
  }
  emulator = new PostgrestEmulator({ db, url: PROJECT_URL, jwtSecret: SECRET, maxRows: 4 });
  server.listen({ onUnhandledRequest: "error" });
}, 60_000);
afterEach(() => server.resetHandlers());
afterAll(async () => {
  server.close();
  await db?.close();
});

/** Ids (1-based identity) of the k documents closest to `query` among `allowed`, by brute force. */
function bruteForce(query: Float32Array, k: number, allowed: (i: number) => boolean): string[] {
  return vectors
    .map((v, i) => ({ id: String(i + 1), score: cosine(query, v), i }))
    .filter((d) => allowed(d.i))
    .sort((x, y) => y.score - x.score)
    .slice(0, k)
    .map((d) => d.id);
}

describe("documents.sql on PostgreSQL with pgvector", () => {
  it("ranks by cosine similarity and reports it as `similarity`", async () => {
    const query = randomVectors(1, 99, DIMS)[0]!;
    const { rows } = await db.query<{ id: number; similarity: number }>(
      "select id, similarity from public.match_documents($1::text::extensions.vector, 5)",
      [JSON.stringify(Array.from(query))],
    );
    expect(rows.map((r) => String(r.id))).toEqual(bruteForce(query, 5, () => true));
    for (const row of rows) expect(row.similarity).toBeCloseTo(cosine(query, vectors[row.id - 1]!), 5);
  });

  it("keeps to the documents whose metadata contains the filter", async () => {
    const { rows } = await db.query<{ id: number }>(
      "select id from public.match_documents($1::text::extensions.vector, 30, $2::text::jsonb)",
      [JSON.stringify(Array.from(vectors[12]!)), JSON.stringify({ user_id: ALICE })],
    );
    expect(rows.map((r) => r.id).sort((a, b) => a - b)).toEqual([11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
    expect(rows[0]!.id).toBe(13);
  });

  it("lets a signed-in user read shared documents and their own only", async () => {
    const ids = await db.transaction(async (tx) => {
      await tx.query("set local role authenticated");
      await tx.query("select set_config('request.jwt.claims', $1, true)", [JSON.stringify({ sub: ALICE, role: "authenticated" })]);
      const { rows } = await tx.query<{ id: number }>("select id from public.documents order by id");
      return rows.map((r) => r.id);
    });
    expect(ids).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });
});

describe("SupabaseVectorStore", () => {
  const service = () => createClient(PROJECT_URL, emulator.key("service_role"), clientOptions);

  it("lists every chunk once, in id order, with embeddings, across the project's max_rows", async () => {
    const store = new SupabaseVectorStore({ client: service() });
    const pages = await allPages(store, { userId: ALICE, limit: 7, includeEmbeddings: true });
    const chunks = pages.flatMap((page) => page.chunks);
    for (const chunk of chunks) {
      const i = Number(chunk.id) - 1;
      expect(chunk.text).toBe(`document ${i}`);
      expect(chunk.embedding).toEqual(vectors[i]);
      expect(chunk.metadata).toMatchObject({ n: i });
    }
    expect(Math.max(...pages.map((page) => page.chunks.length))).toBeLessThanOrEqual(7);
    expect(chunks.map((c) => c.id)).toEqual(Array.from({ length: 30 }, (_, i) => String(i + 1)));
    expect(pages.length).toBeGreaterThanOrEqual(5);

    const bare = await store.listChunks({ userId: ALICE, cursor: null, limit: 2, includeEmbeddings: false });
    expect(bare.chunks.map((c) => c.embedding)).toEqual([undefined, undefined]);
  });

  it("searches through match_documents over RPC, best first", async () => {
    const store = new SupabaseVectorStore({ client: service() });
    const query = randomVectors(1, 5, DIMS)[0]!;
    emulator.requests.length = 0;
    const hits = await store.search({ userId: ALICE, embedding: query, k: 6 });
    expect(hits.map((h) => h.id)).toEqual(bruteForce(query, 6, () => true));
    expect(hits[0]!.score).toBeCloseTo(cosine(query, vectors[Number(hits[0]!.id) - 1]!), 5);
    expect(hits[0]!.text).toMatch(/^document \d+$/);
    const call = emulator.requests[0]!;
    expect(call).toMatchObject({ method: "POST", path: "rpc/match_documents" });
    expect(call.body).toMatchObject({ match_count: 6, filter: {} });
    expect((call.body as { query_embedding: number[] }).query_embedding).toHaveLength(DIMS);
  });

  it("scopes listing and search to a user's chunks with the filter option", async () => {
    const store = new SupabaseVectorStore({ client: service(), filter: (userId) => ({ user_id: userId }) });
    const page = await store.listChunks({ userId: BOB, cursor: null, limit: 50, includeEmbeddings: false });
    expect(page.chunks.map((c) => c.id)).toEqual(Array.from({ length: 10 }, (_, i) => String(21 + i)));
    expect(page.nextCursor).toBeNull();
    const hits = await store.search({ userId: BOB, embedding: vectors[3]!, k: 3 });
    expect(hits.map((h) => h.id)).toEqual(bruteForce(vectors[3]!, 3, (i) => owner(i) === BOB));
  });

  it("counts chunks with PostgREST's exact count on HEAD requests, reading no row", async () => {
    const store = new SupabaseVectorStore({ client: service() });
    emulator.requests.length = 0;
    expect(await store.countChunks({ userId: ALICE, excludeIds: [] })).toBe(30);
    expect(emulator.requests).toHaveLength(1);
    const [call] = emulator.requests;
    expect(call).toMatchObject({ method: "HEAD", path: "documents" });
    expect(call!.headers.get("prefer")).toMatch(/count=exact/);
    // Ids it does not hold, and repeats, are ignored.
    expect(await store.countChunks({ userId: ALICE, excludeIds: ["3", "4", "4", "999"] })).toBe(28);
    // A HEAD answer has no body: the failure is still an UpstreamError with the status.
    const missing = await new SupabaseVectorStore({ client: service(), table: "no_such_table" }).countChunks({ userId: ALICE, excludeIds: [] }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(UpstreamError);
    expect(missing).toMatchObject({ status: 404, retryable: false });
  });

  it("counts only the user's chunks with the filter option, and through a user's session as row-level security allows", async () => {
    const scoped = new SupabaseVectorStore({ client: service(), filter: (userId) => ({ user_id: userId }) });
    // Bob's chunks are 21-30; shared (1) and Alice's (11) ids are not his to exclude.
    expect(await scoped.countChunks({ userId: BOB, excludeIds: ["1", "11", "21", "22"] })).toBe(8);
    const asAlice = createClient(PROJECT_URL, emulator.key("anon"), {
      ...clientOptions,
      global: { headers: { Authorization: `Bearer ${emulator.userToken(ALICE)}` } },
    });
    expect(await new SupabaseVectorStore({ client: asAlice }).countChunks({ userId: ALICE, excludeIds: ["25"] })).toBe(20);
  });

  it("asks for many excluded ids in several requests, each URL short enough for a gateway", async () => {
    const store = new SupabaseVectorStore({ client: service() });
    // 3,000 ids of a trained model (most long gone from the table) around ten that are there.
    const excludeIds = [...Array.from({ length: 3000 }, (_, i) => String(100_000 + i)), ...Array.from({ length: 10 }, (_, i) => String(i + 1))];
    emulator.requests.length = 0;
    expect(await store.countChunks({ userId: ALICE, excludeIds })).toBe(20);
    expect(emulator.requests.length).toBeGreaterThan(3);
    for (const request of emulator.requests) expect(`${PROJECT_URL}/rest/v1/documents?${request.search.toString()}`.length).toBeLessThan(8192);
  });

  it("reads stored embeddings by id in one GET with an `in` filter", async () => {
    const store = new SupabaseVectorStore({ client: service() });
    emulator.requests.length = 0;
    const found = await store.getEmbeddings({ userId: ALICE, ids: ["3", "12", "25", "12"] });
    expect([...found.keys()].sort()).toEqual(["12", "25", "3"]);
    for (const [id, vector] of found) expect(vector).toEqual(vectors[Number(id) - 1]);
    expect(emulator.requests).toHaveLength(1);
    const [call] = emulator.requests;
    expect(call).toMatchObject({ method: "GET", path: "documents" });
    expect(call!.search.get("select")).toBe("id,embedding");
    expect(call!.search.get("id")).toBe("in.(3,12,25)");
  });

  it("leaves out ids it does not hold, across the project's max_rows", async () => {
    const store = new SupabaseVectorStore({ client: service() });
    const ids = ["999", ...Array.from({ length: 10 }, (_, i) => String(2 * i + 5)), "100000"];
    const found = await store.getEmbeddings({ userId: ALICE, ids });
    expect([...found.keys()]).toEqual(Array.from({ length: 10 }, (_, i) => String(2 * i + 5)));
    for (const [id, vector] of found) expect(vector).toEqual(vectors[Number(id) - 1]);
  });

  it("reads only the user's embeddings with the filter option, and through a user's session as row-level security allows", async () => {
    const scoped = new SupabaseVectorStore({ client: service(), filter: (userId) => ({ user_id: userId }) });
    const bobs = await scoped.getEmbeddings({ userId: BOB, ids: ["1", "11", "21", "22"] });
    expect([...bobs.keys()]).toEqual(["21", "22"]);
    expect(bobs.get("22")).toEqual(vectors[21]);
    const asAlice = createClient(PROJECT_URL, emulator.key("anon"), {
      ...clientOptions,
      global: { headers: { Authorization: `Bearer ${emulator.userToken(ALICE)}` } },
    });
    const alices = await new SupabaseVectorStore({ client: asAlice }).getEmbeddings({ userId: ALICE, ids: ["5", "15", "25"] });
    expect([...alices.keys()]).toEqual(["5", "15"]);
  });

  it("sends no request for no ids or an aborted signal, and rejects ids that are not strings", async () => {
    const store = new SupabaseVectorStore({ client: service() });
    emulator.requests.length = 0;
    expect(await store.getEmbeddings({ userId: ALICE, ids: [] })).toEqual(new Map());
    const aborted = await store.getEmbeddings({ userId: ALICE, ids: ["1"], signal: AbortSignal.abort() }).catch((e: unknown) => e);
    expect(aborted).toBeInstanceOf(AbortedError);
    const bad = await store.getEmbeddings({ userId: ALICE, ids: [1] as unknown as string[] }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(ValidationError);
    expect(emulator.requests).toHaveLength(0);
  });

  it("reads many ids in several requests, each URL short enough for a gateway", async () => {
    const store = new SupabaseVectorStore({ client: service() });
    const ids = [...Array.from({ length: 1000 }, (_, i) => String(100_000 + i)), "7", "17"];
    emulator.requests.length = 0;
    const found = await store.getEmbeddings({ userId: ALICE, ids });
    expect([...found.keys()].sort()).toEqual(["17", "7"]);
    expect(emulator.requests.length).toBeGreaterThan(1);
    for (const request of emulator.requests) expect(`${PROJECT_URL}/rest/v1/documents?${request.search.toString()}`.length).toBeLessThan(8192);
  });

  it("maps embedding read failures to UpstreamError like the other calls", async () => {
    const missing = await new SupabaseVectorStore({ client: service(), table: "no_such_table" })
      .getEmbeddings({ userId: ALICE, ids: ["1"] })
      .catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(UpstreamError);
    expect(missing).toMatchObject({ status: 404, retryable: false, provider: "supabase" });

    // A 500, not a 503: supabase-js itself retries GETs answered 503, with backoff.
    server.use(http.get(`${PROJECT_URL}/rest/v1/documents`, () => HttpResponse.json({ message: "down" }, { status: 500 })));
    const down = await new SupabaseVectorStore({ client: service() }).getEmbeddings({ userId: ALICE, ids: ["1"] }).catch((e: unknown) => e);
    expect(down).toBeInstanceOf(UpstreamError);
    expect(down).toMatchObject({ status: 500, retryable: true, provider: "supabase" });
  });

  it("maps failures to UpstreamError, retryable for outages only", async () => {
    const store = new SupabaseVectorStore({ client: service(), queryName: "no_such_function" });
    const missing = await store.search({ userId: ALICE, embedding: vectors[0]!, k: 3 }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(UpstreamError);
    expect(missing).toMatchObject({ status: 404, retryable: false, provider: "supabase" });

    server.use(http.post(`${PROJECT_URL}/rest/v1/rpc/match_documents`, () => HttpResponse.json({ message: "busy" }, { status: 503 })));
    const down = await new SupabaseVectorStore({ client: service() })
      .search({ userId: ALICE, embedding: vectors[0]!, k: 3 })
      .catch((e: unknown) => e);
    expect(down).toMatchObject({ status: 503, retryable: true });
  });
});
