import { randomUUID } from "node:crypto";
import { createClient } from "@supabase/supabase-js";
import { http, HttpResponse } from "msw";
import { setupServer } from "msw/node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { StoreError } from "../../errors/errors.js";
import { PGliteTrainingStore } from "../pglite/pglite-training-store.js";
import { at, describeTrainingStoreContract, newRun, newUserId, outcome } from "../training-store/training-store.contract.js";
import { PostgrestEmulator } from "./postgrest-emulator.test-support.js";
import { SupabaseTrainingStore } from "./supabase-training-store.js";

const PROJECT_URL = "https://deep-memory-test.supabase.co";
const SECRET = "super-secret-jwt-token-with-at-least-32-characters";
/** The project the requests reach; tests swap it (a fresh database, a different max_rows). */
let current: PostgrestEmulator | null = null;
const server = setupServer(
  http.all(`${PROJECT_URL}/rest/v1/*`, ({ request }) => (current ? current.handle(request) : HttpResponse.json({}, { status: 503 }))),
);

/**
 * supabase-js builds a realtime client up front and on Node 20 wants a
 * WebSocket class for it; the stores never use realtime, so one that refuses
 * to connect proves it.
 */
class NoWebSocket {
  constructor() {
    throw new Error("The training store must not open a realtime connection");
  }
}
const clientOptions = { auth: { persistSession: false }, realtime: { transport: NoWebSocket as never } };

beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

/** A PGlite database with the real migrations behind a PostgREST emulator; call use() in each test. */
async function project(maxRows?: number) {
  const db = await PGliteTrainingStore.open({ dataDir: "memory://" });
  const emulator = new PostgrestEmulator({ db: db.db, url: PROJECT_URL, jwtSecret: SECRET, maxRows });
  const serviceClient = createClient(PROJECT_URL, emulator.key("service_role"), clientOptions);
  return { db, emulator, serviceClient, use: () => void (current = emulator) };
}

describe("SupabaseTrainingStore through PostgREST", () => {
  let p: Awaited<ReturnType<typeof project>>;
  beforeAll(async () => {
    p = await project();
  }, 60_000);
  afterAll(() => p?.db.close());

  describeTrainingStoreContract(
    "Supabase (supabase-js, service role)",
    async () => {
      p.use();
      return { store: new SupabaseTrainingStore(p.serviceClient) };
    },
    { rejectsNonUuidIds: true },
  );
});

describe("SupabaseTrainingStore on the wire", () => {
  let p: Awaited<ReturnType<typeof project>>;
  let store: SupabaseTrainingStore;
  beforeAll(async () => {
    p = await project(5);
    store = new SupabaseTrainingStore(p.serviceClient);
  }, 60_000);
  afterAll(() => p?.db.close());

  it("sends PostgREST's request shapes: representation, exact counts, upserts, RPC with named arguments", async () => {
    p.use();
    const user = newUserId();
    p.emulator.requests.length = 0;
    const run = await store.createRun(newRun(user, { status: "generating" }), at(0));
    await store.recordChunk(user, run.id, outcome("chunk-1", ["Q?"]), "worker-1", at(1));
    await store.listRuns(user, { limit: 2, offset: 0 });
    await store.saveSettings(user, { enabled: true }, at(2));
    await store.saveModel({
      runId: run.id,
      userId: user,
      engine: "e",
      format: "f",
      dimensions: 1,
      embeddingModel: "m",
      weights: new Uint8Array([0xde, 0xad]),
      metrics: {},
      createdAt: at(3),
    });
    const [create, record, list, settings, model] = p.emulator.requests;

    expect(create).toMatchObject({ method: "POST", path: "deep_memory_training_runs" });
    expect(create!.headers.get("prefer")).toContain("return=representation");
    expect(create!.headers.get("apikey")).toBe(p.emulator.key("service_role"));
    expect(create!.headers.get("authorization")).toBe(`Bearer ${p.emulator.key("service_role")}`);
    expect(create!.body).toMatchObject({ id: run.id, user_id: user, generation: { model: "test-model" }, created_at: at(0).toISOString() });

    expect(record).toMatchObject({ method: "POST", path: "rpc/deep_memory_record_chunk" });
    expect(record!.body).toEqual({
      p_user_id: user,
      p_run_id: run.id,
      p_lease_owner: "worker-1",
      p_chunk_id: "chunk-1",
      p_status: "done",
      p_questions: ["Q?"],
      p_reason: null,
      p_duplicates_removed: 0,
      p_cap_reached: false,
      p_now: at(1).toISOString(),
    });

    expect(list).toMatchObject({ method: "GET", path: "deep_memory_training_runs" });
    expect(list!.headers.get("prefer")).toContain("count=exact");
    expect(list!.search.get("order")).toBe("created_at.desc,id.desc");
    expect(list!.search.get("user_id")).toBe(`eq.${user}`);
    expect([list!.search.get("offset"), list!.search.get("limit")]).toEqual(["0", "2"]);

    expect(settings).toMatchObject({ method: "POST", path: "deep_memory_settings" });
    expect(settings!.search.get("on_conflict")).toBe("user_id");
    expect(settings!.headers.get("prefer")).toContain("resolution=merge-duplicates");
    expect(model!.body).toMatchObject({ weights: "\\xdead" });
  });

  it("pages past the project's max_rows instead of silently truncating", async () => {
    p.use();
    const user = newUserId();
    const run = await store.createRun(newRun(user, { status: "generating" }), at(0));
    for (let i = 0; i < 12; i++) {
      await store.recordChunk(user, run.id, outcome(`chunk-${String(i).padStart(2, "0")}`, [`Q${i}?`]), "worker-1", at(1 + i));
    }
    expect(await store.listPairs(user, [run.id])).toHaveLength(12);
    expect(await store.listRecordedChunkIds(user, run.id)).toHaveLength(12);
    expect(await store.listChunkIdsWithPairs(user, ["generating"])).toHaveLength(12);

    const many = newUserId();
    for (let i = 0; i < 9; i++) await store.createRun(newRun(many, { status: "completed" }), at(i));
    const page = await store.listRuns(many, { limit: 8, offset: 0 });
    expect(page.total).toBe(9);
    expect(page.runs).toHaveLength(8);
    expect(page.runs[0]!.createdAt).toEqual(at(8));
  });

  it("holds a signed-in user's client to that user's rows through row-level security", async () => {
    p.use();
    const a = randomUUID();
    const b = randomUUID();
    const asUser = createClient(PROJECT_URL, p.emulator.key("anon"), {
      ...clientOptions,
      global: { headers: { Authorization: `Bearer ${p.emulator.userToken(a)}` } },
    });
    const mine = new SupabaseTrainingStore(asUser);
    const theirs = await store.createRun(newRun(b, { status: "generating" }), at(0));

    const own = await mine.createRun(newRun(a, { status: "generating" }), at(0));
    expect(await mine.getRun(a, own.id)).toMatchObject({ userId: a });
    await expect(mine.recordChunk(a, own.id, outcome("c", ["Mine?"]), "worker-1", at(1))).resolves.toMatchObject({ recorded: true });
    // Naming B explicitly does not help: the database hides B's rows from A.
    expect(await mine.getRun(b, theirs.id)).toBeNull();
    await expect(mine.recordChunk(b, theirs.id, outcome("c", ["Theirs?"]), "worker-1", at(1))).rejects.toBeInstanceOf(StoreError);
    await expect(mine.createRun(newRun(b, { status: "completed" }), at(2))).rejects.toBeInstanceOf(StoreError);
    expect(await store.listPairs(b, [theirs.id])).toEqual([]);

    // The anon key alone reaches nothing.
    const anon = new SupabaseTrainingStore(createClient(PROJECT_URL, p.emulator.key("anon"), clientOptions));
    await expect(anon.getRun(a, own.id)).rejects.toBeInstanceOf(StoreError);
  });

  it("reports a network failure, a gateway error and a bad key as StoreError, writing nothing", async () => {
    p.use();
    const user = newUserId();
    const run = await store.createRun(newRun(user, { status: "generating" }), at(0));

    server.use(http.post(`${PROJECT_URL}/rest/v1/rpc/deep_memory_record_chunk`, () => HttpResponse.error()));
    const dropped = await store.recordChunk(user, run.id, outcome("c", ["Lost?"]), "worker-1", at(1)).catch((e: unknown) => e);
    expect(dropped).toBeInstanceOf(StoreError);
    expect((dropped as StoreError).details).toMatchObject({ status: 0 });

    server.use(
      http.post(
        `${PROJECT_URL}/rest/v1/rpc/deep_memory_record_chunk`,
        () => new HttpResponse("<html>upstream timed out</html>", { status: 504 }),
      ),
    );
    await expect(store.recordChunk(user, run.id, outcome("c", ["Lost?"]), "worker-1", at(1))).rejects.toBeInstanceOf(StoreError);
    server.resetHandlers();

    expect(await store.listPairs(user, [run.id])).toEqual([]);
    expect((await store.getRun(user, run.id))?.processedChunks).toBe(0);

    const forged = createClient(PROJECT_URL, "eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoic2VydmljZV9yb2xlIn0.bad-signature", clientOptions);
    const rejected = await new SupabaseTrainingStore(forged).getRun(user, run.id).catch((e: unknown) => e);
    expect(rejected).toBeInstanceOf(StoreError);
    expect((rejected as StoreError).details).toMatchObject({ status: 401, code: "PGRST301" });
  });
});
