import { errorBody } from "@zip/deep-memory-protocol";
import { http, HttpResponse } from "msw";
import { describe, expect, it, vi } from "vitest";
import { BASE_URL, fakeRunId } from "../test-utils/fake-api.js";
import { setupFakeApi } from "../test-utils/msw.js";
import { createDeepMemoryClient } from "./client.js";
import { DeepMemoryClientError } from "./errors.js";

const ctx = setupFakeApi();

async function rejection(promise: Promise<unknown>): Promise<DeepMemoryClientError> {
  const error = await promise.then(
    () => {
      throw new Error("expected a rejection");
    },
    (e: unknown) => e,
  );
  expect(DeepMemoryClientError.isInstance(error)).toBe(true);
  return error as DeepMemoryClientError;
}

describe("createDeepMemoryClient", () => {
  it("a second generate while one runs returns the same job", async () => {
    const client = createDeepMemoryClient({ baseUrl: BASE_URL });
    const first = await client.generate();
    expect(await client.generate()).toMatchObject({ job_id: first.job_id, joined: true });
  });

  it("calls every route and returns the protocol's typed bodies", async () => {
    const client = createDeepMemoryClient({ baseUrl: `${BASE_URL}/` });
    expect(client.baseUrl).toBe(BASE_URL);

    expect((await client.getSettings()).enabled).toBe(false);
    const started = await client.generate();
    expect(started).toMatchObject({ job_id: expect.any(String), training_run_id: expect.any(String), total_chunks: 4 });

    const page = await client.listRuns({ limit: 5 });
    expect(page).toMatchObject({ total: 1, limit: 5, offset: 0, has_more: false });
    expect(page.runs[0]?.id).toBe(started.training_run_id);

    ctx.api.emit(started.job_id, { type: "completed", status: "generated", pair_count: 12, processed_chunks: 4, total_chunks: 4, cap_reached: false });
    const run = await client.getRun(started.training_run_id);
    expect(run).toMatchObject({ status: "generated", pair_count: 12, statistics: { pair_count: 12 } });
    expect(run.sample_pairs).toHaveLength(1);

    const training = await client.train({ training_run_id: started.training_run_id });
    expect(training.training_run_id).toBe(started.training_run_id);

    const search = await client.search({ query: "stop loss", k: 3 });
    expect(search.without_deep_memory.map((hit) => hit.id)).toEqual(["chunk-a", "chunk-b", "chunk-c"]);
    expect(search.deep_memory_applied).toBe(false);

    expect(ctx.api.log.requests).toEqual([
      "GET /settings",
      "POST /generate",
      "GET /runs",
      "GET /runs/" + started.training_run_id,
      "POST /train",
      "POST /search",
    ]);
  });

  it("turns error bodies into DeepMemoryClientError with status, code, message and details", async () => {
    const client = createDeepMemoryClient({ baseUrl: BASE_URL });
    ctx.api.createRun({ status: "training" });
    const conflict = await rejection(client.generate());
    expect(conflict).toBeInstanceOf(DeepMemoryClientError);
    expect(conflict).toMatchObject({ status: 409, code: "RUN_ALREADY_ACTIVE", message: expect.stringContaining("still") });

    const missing = await rejection(client.getRun("nope"));
    expect(missing).toMatchObject({ status: 404, code: "NOT_FOUND" });

    const refused = await rejection(client.updateSettings({ enabled: true }));
    expect(refused).toMatchObject({ status: 409, code: "NO_TRAINED_MODEL", message: "No completed training run yet" });
  });

  it("exposes the server's field errors of a 400", async () => {
    ctx.server.use(
      http.post(`${BASE_URL}/search`, () =>
        HttpResponse.json(
          { error: { code: "VALIDATION_FAILED", message: "Invalid body", details: { issues: [{ path: "k", message: "Too big" }] } } },
          { status: 400 },
        ),
      ),
    );
    const error = await rejection(createDeepMemoryClient({ baseUrl: BASE_URL }).search({ query: "x", k: 5 }));
    expect(error).toMatchObject({ status: 400, code: "VALIDATION_FAILED" });
    expect(error.issues).toEqual([{ path: "k", message: "Too big" }]);
  });

  it("rejects invalid requests before sending them, with the same issue format", async () => {
    const client = createDeepMemoryClient({ baseUrl: BASE_URL });
    const error = await rejection(client.search({ query: "   ", k: 5 }));
    expect(error).toMatchObject({ status: null, code: "VALIDATION_FAILED" });
    expect(error.issues.map((issue) => issue.path)).toEqual(["query"]);
    const unknownField = await rejection(client.updateSettings({ enabled: true, user_id: "someone-else" } as never));
    expect(unknownField.code).toBe("VALIDATION_FAILED");
    expect(ctx.api.log.requests).toEqual([]);
  });

  it("reports answers that are not the protocol's as INVALID_RESPONSE", async () => {
    ctx.server.use(
      http.get(`${BASE_URL}/settings`, () => new HttpResponse("<html>Bad gateway</html>", { status: 502, headers: { "content-type": "text/html" } })),
      http.get(`${BASE_URL}/runs`, () => HttpResponse.json({ runs: "not a list" })),
    );
    const client = createDeepMemoryClient({ baseUrl: BASE_URL });
    expect(await rejection(client.getSettings())).toMatchObject({ status: 502, code: "INVALID_RESPONSE" });
    const drifted = await rejection(client.listRuns());
    expect(drifted).toMatchObject({ status: 200, code: "INVALID_RESPONSE" });
    expect(drifted.issues.length).toBeGreaterThan(0);
  });

  it("reports network failures and aborts with their own codes", async () => {
    ctx.server.use(http.get(`${BASE_URL}/settings`, () => HttpResponse.error()));
    const client = createDeepMemoryClient({ baseUrl: BASE_URL });
    expect(await rejection(client.getSettings())).toMatchObject({ status: null, code: "NETWORK_ERROR" });

    const controller = new AbortController();
    controller.abort();
    expect(await rejection(client.listRuns({}, { signal: controller.signal }))).toMatchObject({ status: null, code: "ABORTED" });
  });

  it("sends a fresh Idempotency-Key with each generate, train and import, and one more try with the same key when the connection failed", async () => {
    const keys: (string | null)[] = [];
    let failures = 1;
    ctx.server.use(
      http.post(`${BASE_URL}/generate`, ({ request }) => {
        keys.push(request.headers.get("idempotency-key"));
        if (failures-- > 0) return HttpResponse.error();
        return undefined;
      }),
    );
    const client = createDeepMemoryClient({ baseUrl: BASE_URL });
    const first = await client.generate();
    expect(keys).toHaveLength(2);
    expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(keys[1]).toBe(keys[0]);
    await client.generate(undefined, { idempotencyKey: "my-key" });
    expect(keys[2]).toBe("my-key");
    expect(first.job_id).toBeTruthy();
    // Without a key (a read), a failed connection is reported, not retried.
    let gets = 0;
    ctx.server.use(http.get(`${BASE_URL}/settings`, () => (gets++, HttpResponse.error())));
    expect(await rejection(client.getSettings())).toMatchObject({ code: "NETWORK_ERROR" });
    expect(gets).toBe(1);
  });

  it("says when to retry, from Retry-After", async () => {
    ctx.server.use(
      http.post(`${BASE_URL}/train`, () =>
        HttpResponse.json(errorBody("RUN_ALREADY_ACTIVE", "A training run is already generating"), { status: 409, headers: { "retry-after": "7" } }),
      ),
      http.post(`${BASE_URL}/import`, () => HttpResponse.json(errorBody("RATE_LIMITED", "slow down"), { status: 429, headers: { "retry-after": new Date(Date.now() + 60_000).toUTCString() } })),
    );
    const client = createDeepMemoryClient({ baseUrl: BASE_URL });
    expect(await rejection(client.train({ training_run_id: fakeRunId(1) }))).toMatchObject({ status: 409, code: "RUN_ALREADY_ACTIVE", retryAfterMs: 7000 });
    const limited = await rejection(client.importPairs({ pairs: [{ question: "q", chunk_id: "c" }] }));
    expect(limited.retryAfterMs).toBeGreaterThan(50_000);
    expect((await rejection(client.getRun("missing"))).retryAfterMs).toBeNull();
  });

  it("sends the host's headers, calling a headers function before every request", async () => {
    let token = 0;
    const headers = vi.fn(async () => ({ authorization: `Bearer token-${++token}` }));
    const seen: (string | null)[] = [];
    ctx.server.use(
      http.get(`${BASE_URL}/settings`, ({ request }) => {
        seen.push(request.headers.get("authorization"));
        return undefined;
      }),
    );
    const client = createDeepMemoryClient({ baseUrl: BASE_URL, headers });
    await client.getSettings();
    await client.getSettings();
    expect(seen).toEqual(["Bearer token-1", "Bearer token-2"]);
    expect(headers).toHaveBeenCalledTimes(2);
  });

  it("reports a failing headers function as HEADERS_FAILED, without sending the request", async () => {
    const client = createDeepMemoryClient({
      baseUrl: BASE_URL,
      headers: async () => {
        throw new Error("no session");
      },
    });
    const error = await rejection(client.getSettings());
    expect(error).toMatchObject({ status: null, code: "HEADERS_FAILED", message: expect.stringContaining("no session") });
    expect(ctx.api.log.requests).toEqual([]);
  });

  it("uses a given fetch, and builds event stream URLs from eventsUrl", async () => {
    const fetchSpy = vi.fn((input: string, init: RequestInit) => globalThis.fetch(input, init));
    const client = createDeepMemoryClient({ baseUrl: BASE_URL, fetch: fetchSpy });
    await client.getSettings();
    expect(fetchSpy).toHaveBeenCalledWith(`${BASE_URL}/settings`, expect.objectContaining({ method: "GET" }));

    expect(client.jobEventsUrl("job 1")).toBe(`${BASE_URL}/events/stream/job%201`);
    expect(createDeepMemoryClient({ baseUrl: BASE_URL, eventsUrl: "/v1/api/events/stream/" }).jobEventsUrl("j")).toBe("/v1/api/events/stream/j");
    expect(createDeepMemoryClient({ baseUrl: BASE_URL, eventsUrl: (id) => `/events?job=${id}` }).jobEventsUrl("j")).toBe("/events?job=j");
  });

  it("recognises its errors across copies of the package", () => {
    const error = new DeepMemoryClientError({ status: 409, code: "NO_TRAINED_MODEL", message: "no" });
    const lookalike = Object.assign(Object.create(null), { [Symbol.for("@zip/deep-memory-react/client-error")]: true });
    expect(DeepMemoryClientError.isInstance(error)).toBe(true);
    expect(DeepMemoryClientError.isInstance(lookalike)).toBe(true);
    expect(DeepMemoryClientError.isInstance(new Error("x"))).toBe(false);
    expect(error.issues).toEqual([]);
  });
});
