/**
 * The router's behaviour over a real socket, as a suite run once per Express
 * major version (router.test.ts: Express 5; router.express4.test.ts: 4).
 */
import {
  errorBodySchema,
  generateResponseSchema,
  importPairsResponseSchema,
  PROTOCOL_VERSION,
  PROTOCOL_VERSION_HEADER,
  RUN_FAILED_CODE,
  runDetailResponseSchema,
  runListResponseSchema,
  searchResponseSchema,
  settingsResponseSchema,
  statusResponseSchema,
  SYNTHESIZED_EVENT_SEQ,
  trainResponseSchema,
  type JobStreamEvent,
} from "@zip/deep-memory/protocol";
import { UpstreamError } from "@zip/deep-memory";
import express from "express";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createDeepMemoryRouter, createJobEventsRouter, type DeepMemoryRouterOptions } from "../index.js";
import { chunkId, createTrainer, eventually, Gate, GatedGenerator, listen, openStream, questionFor, type RunningServer, type TestSetup } from "./fixtures.js";

const BASE = "/v1/api/deep-memory";
const userHeader = "x-test-user";

export function routerContract(expectedMajor: 4 | 5): void {
  const servers: RunningServer[] = [];
  const setups: TestSetup[] = [];

  afterEach(async () => {
    for (const s of setups.splice(0)) {
      s.generator.gate.open();
      s.engine.gate.open();
      await s.trainer.close();
    }
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  async function start(
    setup: TestSetup = createTrainer(),
    options: Partial<DeepMemoryRouterOptions> = {},
    mount: (app: express.Express, router: express.Router) => void = (app, router) => app.use(BASE, router),
  ) {
    setups.push(setup);
    const app = express();
    const router = createDeepMemoryRouter({
      trainer: setup.trainer,
      getUserId: (req) => req.get(userHeader) ?? null,
      onError: () => {},
      ...options,
    });
    mount(app, router);
    const server = await listen(app);
    servers.push(server);
    const call = async (method: string, path: string, init: { user?: string | null; body?: unknown; raw?: string; headers?: Record<string, string> } = {}) => {
      const headers: Record<string, string> = { ...init.headers };
      if (init.user !== null) headers[userHeader] = init.user ?? "alice";
      let body: string | undefined;
      if (init.raw !== undefined) body = init.raw;
      else if (init.body !== undefined) {
        body = JSON.stringify(init.body);
        headers["content-type"] ??= "application/json";
      }
      const response = await fetch(`${server.url}${path.startsWith("/") ? path : `${BASE}/${path}`}`, { method, headers, body });
      const text = await response.text();
      let json: Record<string, any> | null = null;
      try {
        json = text ? (JSON.parse(text) as Record<string, any>) : null;
      } catch {
        // Not JSON (e.g. Express's own HTML 404 for a path the router does not serve).
      }
      return { status: response.status, headers: response.headers, json };
    };
    const stream = (jobId: string, headers: Record<string, string> = {}, user = "alice", query = "") =>
      openStream(`${server.url}${BASE}/events/stream/${jobId}${query}`, { [userHeader]: user, ...headers });
    return { ...setup, server, call, stream };
  }

  it(`runs on Express ${expectedMajor}`, () => {
    // The router uses whichever Express the host has; check this suite got the intended one.
    // Express 5's path syntax rejects a bare "*", Express 4's accepts it.
    const bareWildcard = (() => {
      try {
        express.Router().get("/x*", () => {});
        return true;
      } catch {
        return false;
      }
    })();
    expect(bareWildcard).toBe(expectedMajor === 4);
  });

  it("whole workflow: generate -> stream progress -> review -> train -> stream -> settings -> search", async () => {
    const { call, stream } = await start();

    const generated = await call("POST", "generate");
    expect(generated.status).toBe(202);
    expect(generated.headers.get(PROTOCOL_VERSION_HEADER)).toBe(PROTOCOL_VERSION);
    const gen = generateResponseSchema.parse(generated.json);
    expect(gen).toMatchObject({ total_chunks: 30, existing_chunks: 0, resumed: false, events_url: `${BASE}/events/stream/${gen.job_id}` });

    const genStream = await stream(gen.job_id);
    expect(genStream.response.status).toBe(200);
    expect(genStream.response.headers.get("content-type")).toMatch(/^text\/event-stream/);
    expect(genStream.response.headers.get("x-accel-buffering")).toBe("no");
    expect(genStream.response.headers.get("cache-control")).toContain("no-cache");
    const genEvents = await genStream.rest();
    expect(genEvents.map((e) => e.data.type)).toEqual(["started", ...Array(31).fill("progress"), "completed"]);
    genEvents.forEach((e, i) => {
      expect(e.id).toBe(String(i + 1));
      expect(e.event).toBe(e.data.type);
    });
    const percents = genEvents.flatMap((e) => (e.data.type === "progress" ? [e.data.percent] : []));
    expect(percents).toEqual([...percents].sort((a, b) => a - b));
    expect(percents.at(-1)).toBe(100);
    expect(genEvents.at(-1)!.data).toMatchObject({ type: "completed", status: "generated", pair_count: 120, training_run_id: gen.training_run_id });

    const runs = runListResponseSchema.parse((await call("GET", "runs")).json);
    expect(runs).toMatchObject({ total: 1, has_more: false, runs: [{ id: gen.training_run_id, status: "generated", pair_count: 120 }] });
    const detail = await call("GET", `runs/${gen.training_run_id}`);
    expect(detail.status).toBe(200);
    const review = runDetailResponseSchema.parse(detail.json);
    expect(review.sample_pairs.length).toBe(20);
    expect(review.sample_pairs[0]!.question).toMatch(/^What does alice-chunk-\d+ say about aspect \d\?$/);
    expect(review.statistics).toMatchObject({ pair_count: 120, chunks_with_pairs: 30, pairs_per_chunk: { min: 4, max: 4 } });

    const trained = await call("POST", "train", { body: { training_run_id: gen.training_run_id } });
    expect(trained.status).toBe(202);
    const train = trainResponseSchema.parse(trained.json);
    const trainEvents = await (await stream(train.job_id)).rest();
    const phases = new Set(trainEvents.flatMap((e) => (e.data.type === "progress" ? [e.data.phase] : [])));
    expect([...phases]).toEqual(["embedding", "training", "evaluating"]);
    const done = trainEvents.at(-1)!.data as Extract<JobStreamEvent, { type: "completed" }>;
    expect(done).toMatchObject({ type: "completed", status: "completed", metrics: { verdict: "improved" } });
    expect(done.metrics!.held_out.with_model["recall@10"]!).toBeGreaterThan(done.metrics!.held_out.without_model["recall@10"]!);

    const before = settingsResponseSchema.parse((await call("GET", "settings")).json);
    expect(before).toMatchObject({ enabled: false, can_enable: true, last_training_run_id: gen.training_run_id, new_chunks_since_last_training: 0 });
    expect(Date.parse(before.last_trained_at!)).not.toBeNaN();
    const enabled = await call("PUT", "settings", { body: { enabled: true } });
    expect(enabled.status).toBe(200);
    expect(settingsResponseSchema.parse(enabled.json).enabled).toBe(true);

    const target = chunkId("alice", 7);
    const searched = await call("POST", "search", { body: { query: questionFor(target, 9), k: 3 } });
    expect(searched.status).toBe(200);
    const search = searchResponseSchema.parse(searched.json);
    expect(search).toMatchObject({ k: 3, deep_memory_applied: true, model_run_id: gen.training_run_id, reason: null });
    expect(search.with_deep_memory[0]!.id).toBe(target);
    expect(search.without_deep_memory.map((h) => h.id)).not.toEqual(search.with_deep_memory.map((h) => h.id));

    const status = statusResponseSchema.parse((await call("GET", `status/${train.job_id}`)).json);
    expect(status).toMatchObject({ training_run_id: gen.training_run_id, status: "completed", active: false, percent: 100 });
  });

  it("imports pairs as a run ready to train", async () => {
    const { call } = await start();
    const pairs = [0, 1, 2].map((i) => ({ question: questionFor(chunkId("alice", i), 0), chunk_id: chunkId("alice", i) }));
    const imported = await call("POST", "import", { body: { pairs: [...pairs, pairs[0], { question: "q", chunk_id: "nope" }], source: "chat-feedback" } });
    expect(imported.status).toBe(201);
    expect(importPairsResponseSchema.parse(imported.json)).toMatchObject({ imported: 3, duplicates_removed: 1, unknown_chunk_ids: ["nope"] });
    const runs = (await call("GET", "runs")).json!;
    expect(runs.runs[0]).toMatchObject({ status: "generated", pair_count: 3, generation: { model: "import:chat-feedback" } });
  });

  it("refuses text a store cannot keep before the trainer sees it, and the next valid import goes through at once", async () => {
    const ctx = await start();
    const importSpy = vi.spyOn(ctx.trainer, "importPairs");
    const searchSpy = vi.spyOn(ctx.trainer, "compareSearch");
    const chunk = chunkId("alice", 1);
    for (const [path, raw] of [
      ["import", `{"pairs":[{"question":"What\\u0000?","chunk_id":"${chunk}"}]}`],
      ["import", `{"pairs":[{"question":"q","chunk_id":"${chunk}"}],"source":"\\ud83d"}`],
      ["search", '{"query":"x\\u0000"}'],
    ] as const) {
      const res = await ctx.call("POST", path, { raw, headers: { "content-type": "application/json" } });
      expect(res.status, raw).toBe(400);
      expect(res.json!.error.code).toBe("VALIDATION_FAILED");
      expect(res.json!.error.message).toContain("NUL");
    }
    expect(importSpy).not.toHaveBeenCalled();
    expect(searchSpy).not.toHaveBeenCalled();
    expect((await ctx.call("GET", "runs")).json!.total).toBe(0);
    const ok = await ctx.call("POST", "import", { body: { pairs: [{ question: questionFor(chunk, 0), chunk_id: chunk }] } });
    expect(ok.status).toBe(201);
  });

  describe("event stream", () => {
    async function finishedJob() {
      const ctx = await start();
      const gen = (await call0(ctx)).json!;
      const all = await (await ctx.stream(gen.job_id)).rest();
      return { ...ctx, jobId: gen.job_id as string, all };
    }
    const call0 = (ctx: Awaited<ReturnType<typeof start>>) => ctx.call("POST", "generate");

    it("replays exactly the events after Last-Event-ID, and everything without one", async () => {
      const { stream, jobId, all } = await finishedJob();
      expect((await (await stream(jobId)).rest()).map((e) => e.id)).toEqual(all.map((e) => e.id));
      const resumed = await (await stream(jobId, { "last-event-id": "3" })).rest();
      expect(resumed.map((e) => e.data)).toEqual(all.slice(3).map((e) => e.data));
      const viaQuery = await (await stream(jobId, {}, "alice", "?last_event_id=30")).rest();
      expect(viaQuery.map((e) => e.id)).toEqual(["31", "32", "33"]);
      const polyfill = await (await stream(jobId, {}, "alice", "?lastEventId=32")).rest();
      expect(polyfill.map((e) => e.id)).toEqual(["33"]);
      // The header wins over the query: EventSource keeps the header current.
      const both = await (await stream(jobId, { "last-event-id": "32" }, "alice", "?last_event_id=1")).rest();
      expect(both.map((e) => e.id)).toEqual(["33"]);
    });

    it("answers 204 (EventSource stops reconnecting) for a finished job with nothing after Last-Event-ID", async () => {
      const { stream, jobId, all } = await finishedJob();
      const opened = await stream(jobId, { "last-event-id": all.at(-1)!.id! });
      expect(opened.response.status).toBe(204);
    });

    it("rejects a malformed Last-Event-ID or unknown query fields with 400", async () => {
      const { stream, jobId } = await finishedJob();
      for (const [headers, query] of [
        [{ "last-event-id": "abc" }, ""],
        [{ "last-event-id": "-1" }, ""],
        [{}, "?last_event_id=1.5"],
        [{}, "?user_id=bob"],
      ] as const) {
        const opened = await stream(jobId, headers, "alice", query);
        expect(opened.response.status, JSON.stringify([headers, query])).toBe(400);
        expect(errorBodySchema.parse(await opened.response.json()).error.code).toBe("VALIDATION_FAILED");
      }
    });

    it("follows a live job, sends heartbeats, and a reconnect resumes without gaps or duplicates", async () => {
      const gate = new Gate(false);
      const ctx = await start(createTrainer({ generator: new GatedGenerator(gate) }), { heartbeatMs: 20, retryMs: 1234 });
      const job = (await ctx.call("POST", "generate")).json!.job_id as string;
      const first = await ctx.stream(job);
      const seen = [await first.next(), await first.next()];
      expect(seen.map((e) => e!.data.type)).toEqual(["started", "progress"]);
      await eventually(() => first.comments.includes("heartbeat"), "a heartbeat comment");
      expect(ctx.trainer.jobListenerCount(job)).toBe(1);
      first.abort();
      await eventually(() => ctx.trainer.jobListenerCount(job) === 0, "the server to release the listener");

      const second = await ctx.stream(job, { "last-event-id": seen[1]!.id! });
      gate.open();
      const rest = await second.rest();
      const seqs = [...seen, ...rest].map((e) => Number(e!.id));
      expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
      expect(rest.at(-1)!.data.type).toBe("completed");
      await eventually(() => ctx.trainer.jobListenerCount(job) === 0, "listeners released after the terminal event");
    });

    it("advises a retry delay", async () => {
      const ctx = await start(undefined, { retryMs: 1234 });
      const gen = (await ctx.call("POST", "generate")).json!;
      const response = await fetch(`${ctx.server.url}${BASE}/events/stream/${gen.job_id}`, { headers: { [userHeader]: "alice" } });
      expect(await response.text()).toMatch(/^retry: 1234\n\n/);
    });

    it("many clients disconnecting mid-stream leave no listener behind", async () => {
      const gate = new Gate(false);
      const ctx = await start(createTrainer({ generator: new GatedGenerator(gate) }));
      const gen = (await ctx.call("POST", "generate")).json!;
      const streams = await Promise.all(Array.from({ length: 8 }, () => ctx.stream(gen.job_id)));
      await Promise.all(streams.map((s) => s.next()));
      expect(ctx.trainer.jobListenerCount(gen.job_id)).toBe(8);
      for (const s of streams) s.abort();
      await eventually(() => ctx.trainer.jobListenerCount(gen.job_id) === 0, "all listeners released");
      gate.open();
      await ctx.trainer.waitForJob({ userId: "alice", jobId: gen.job_id });
    });

    it("rebuilds the end of a job that ran in another process from the stored run", async () => {
      // Two trainers over one store stand for two server processes behind a load balancer.
      const worker = createTrainer({ instanceId: "worker" });
      setups.push(worker);
      const web = await start(createTrainer({ store: worker.store, world: worker.world, instanceId: "web" }));
      const gen = await worker.trainer.generate({ userId: "alice" });
      await worker.trainer.waitForJob({ userId: "alice", jobId: gen.jobId });

      const events = await (await web.stream(gen.jobId)).rest();
      expect(events).toHaveLength(1);
      expect(events[0]!.id).toBe(String(SYNTHESIZED_EVENT_SEQ));
      expect(events[0]!.data).toMatchObject({ type: "completed", status: "generated", pair_count: 120, synthesized: true, kind: "generate" });
      expect((await web.stream(gen.jobId, { "last-event-id": String(SYNTHESIZED_EVENT_SEQ) })).response.status).toBe(204);
      expect((await web.stream(gen.jobId, {}, "bob")).response.status).toBe(404);

      // While it still runs over there: a status snapshot, then the stream closes (EventSource polls via retry).
      worker.engine.gate.close();
      const train = await worker.trainer.train({ userId: "alice", runId: gen.runId });
      const during = await (await web.stream(train.jobId)).rest();
      worker.engine.gate.open();
      expect(during.map((e) => e.data.type)).toEqual(["status"]);
      expect(during[0]!.id).toBeUndefined();
      expect(during[0]!.data).toMatchObject({ type: "status", kind: "train", status: { status: "training", active: true } });
      await worker.trainer.waitForJob({ userId: "alice", jobId: train.jobId });
      const after = await (await web.stream(train.jobId)).rest();
      expect(after[0]!.data).toMatchObject({ type: "completed", status: "completed", metrics: { verdict: "improved" }, synthesized: true });

      // A job that failed over there: its stored error, under the RUN_FAILED code.
      worker.generator.failure = new UpstreamError("llm", "invalid API key", { status: 401, retryable: false });
      const failing = await worker.trainer.generate({ userId: "bob" });
      await worker.trainer.waitForJob({ userId: "bob", jobId: failing.jobId });
      const failed = await (await web.stream(failing.jobId, {}, "bob")).rest();
      expect(failed.map((e) => e.data)).toMatchObject([
        { type: "failed", synthesized: true, kind: "generate", error: { code: RUN_FAILED_CODE, message: expect.stringContaining("invalid API key") } },
      ]);
    });

    it("404s an unknown job, and a job of another user, alike", async () => {
      const ctx = await start();
      const gen = (await ctx.call("POST", "generate")).json!;
      for (const [jobId, user] of [
        ["6a1f0c2e-5b7d-4e3a-9c8b-1d2e3f4a5b6c", "alice"],
        [gen.job_id, "bob"],
        [gen.training_run_id, "alice"], // a run id is not a job id
      ]) {
        const opened = await ctx.stream(jobId, {}, user);
        expect(opened.response.status, `${jobId} as ${user}`).toBe(404);
        expect(errorBodySchema.parse(await opened.response.json()).error.code).toBe("NOT_FOUND");
      }
      // An id that cannot be a job id is a validation error, not a lookup.
      const malformed = await ctx.stream("no-such-job", {}, "alice");
      expect(malformed.response.status).toBe(400);
      expect(errorBodySchema.parse(await malformed.response.json()).error.code).toBe("VALIDATION_FAILED");
    });

    it("serves the events on their own mount point, and 202 responses point there", async () => {
      const setup = createTrainer();
      const ctx = await start(setup, { eventsBasePath: "/v1/api/events", serveEvents: false }, (app, router) => {
        app.use(BASE, router);
        app.use("/v1/api/events", createJobEventsRouter({ trainer: setup.trainer, getUserId: (req) => req.get(userHeader) ?? null }));
      });
      const gen = (await ctx.call("POST", "generate")).json!;
      expect(gen.events_url).toBe(`/v1/api/events/stream/${gen.job_id}`);
      const events = await (await openStream(`${ctx.server.url}${gen.events_url}`, { [userHeader]: "alice" })).rest();
      expect(events.at(-1)!.data.type).toBe("completed");
      expect((await ctx.call("GET", `events/stream/${gen.job_id}`)).status).toBe(404);
    });
  });

  it("two concurrent POST /generate for one user: both 202 with the same job, one run", async () => {
    const gate = new Gate(false);
    const ctx = await start(createTrainer({ generator: new GatedGenerator(gate) }));
    const results = await Promise.all([ctx.call("POST", "generate"), ctx.call("POST", "generate")]);
    expect(results.map((r) => r.status)).toEqual([202, 202]);
    expect(results[0]!.json!.job_id).toBe(results[1]!.json!.job_id);
    expect(results.map((r) => r.json!.joined).sort()).toEqual([false, true]);
    // Another user is not blocked.
    const bob = await ctx.call("POST", "generate", { user: "bob" });
    expect(bob.status).toBe(202);
    gate.open();
    await ctx.trainer.waitForJob({ userId: "alice", jobId: results[0]!.json!.job_id });
    await ctx.trainer.waitForJob({ userId: "bob", jobId: bob.json!.job_id });
    expect((await ctx.call("GET", "runs")).json!.total).toBe(1);
    // Nothing new to cover: a 409 with its own code, and no empty run.
    const again = await ctx.call("POST", "generate");
    expect(again.status).toBe(409);
    expect(again.json!.error).toMatchObject({ code: "NOTHING_TO_GENERATE" });
    expect((await ctx.call("GET", "runs")).json!.total).toBe(1);
  });

  it("another user's runs, jobs and chunks answer 404 or stay invisible everywhere", async () => {
    const ctx = await start();
    const gen = (await ctx.call("POST", "generate")).json!;
    await ctx.trainer.waitForJob({ userId: "alice", jobId: gen.job_id });
    const asBob = { user: "bob" };
    expect((await ctx.call("GET", `runs/${gen.training_run_id}`, asBob)).status).toBe(404);
    expect((await ctx.call("GET", `status/${gen.job_id}`, asBob)).status).toBe(404);
    expect((await ctx.call("GET", `status/${gen.training_run_id}`, asBob)).status).toBe(404);
    const train = await ctx.call("POST", "train", { ...asBob, body: { training_run_id: gen.training_run_id } });
    expect(train.status).toBe(404);
    expect(train.json!.error.code).toBe("NOT_FOUND");
    expect((await ctx.call("GET", "runs", asBob)).json).toMatchObject({ runs: [], total: 0 });
    const search = (await ctx.call("POST", "search", { ...asBob, body: { query: questionFor(chunkId("alice", 1), 0), k: 10 } })).json!;
    const ids = [...search.with_deep_memory, ...search.without_deep_memory].map((h: { id: string }) => h.id);
    expect(ids.length).toBeGreaterThan(0);
    expect(ids.every((id: string) => id.startsWith("bob-"))).toBe(true);
    // And a user_id in the request is refused rather than honoured.
    expect((await ctx.call("GET", "runs?user_id=alice", asBob)).status).toBe(400);
    expect((await ctx.call("POST", "search", { ...asBob, body: { query: "x", user_id: "alice" } })).status).toBe(400);
  });

  it("answers 401 on every route without a user, before looking at the request", async () => {
    const ctx = await start();
    const routes: [string, string, unknown?][] = [
      ["POST", "generate"],
      ["POST", "train", { training_run_id: "r" }],
      ["POST", "import", { pairs: [] }],
      ["GET", "runs"],
      ["GET", "runs/r"],
      ["GET", "status/x"],
      ["GET", "settings"],
      ["PUT", "settings", { enabled: true }],
      ["POST", "search", { query: "x" }],
      ["GET", "events/stream/j"],
    ];
    for (const [method, path, body] of routes) {
      const res = await ctx.call(method, path, { user: null, ...(body ? { raw: "{not json", headers: { "content-type": "application/json" } } : {}) });
      expect(res.status, `${method} ${path}`).toBe(401);
      expect(res.json!.error.code).toBe("UNAUTHORIZED");
    }
    const throwing = await start(undefined, {
      getUserId: () => {
        throw new Error("token store down: secret=abc");
      },
    });
    const res = await throwing.call("GET", "settings");
    expect(res.status).toBe(401);
    expect(JSON.stringify(res.json)).not.toContain("secret");
  });

  describe("400s and other request errors", () => {
    const cases: [string, string, string, { raw?: string; body?: unknown; headers?: Record<string, string> }, number, string, string?][] = [
      ["malformed JSON", "POST", "train", { raw: '{"training_run_id":', headers: { "content-type": "application/json" } }, 400, "INVALID_JSON"],
      ["a JSON string where an object belongs", "POST", "train", { raw: '"run"', headers: { "content-type": "application/json" } }, 400, "INVALID_JSON"],
      ["a JSON array where an object belongs", "POST", "train", { body: [] }, 400, "VALIDATION_FAILED", "(root)"],
      ["a missing body", "POST", "train", {}, 400, "VALIDATION_FAILED", "(root)"],
      ["a missing field", "POST", "train", { body: {} }, 400, "VALIDATION_FAILED", "training_run_id"],
      ["a wrong type", "PUT", "settings", { body: { enabled: "yes" } }, 400, "VALIDATION_FAILED", "enabled"],
      ["an unknown field", "PUT", "settings", { body: { enabled: true, user_id: "bob" } }, 400, "VALIDATION_FAILED", "user_id"],
      ["an empty query", "POST", "search", { body: { query: "   " } }, 400, "VALIDATION_FAILED", "query"],
      ["k out of range", "POST", "search", { body: { query: "x", k: 0 } }, 400, "VALIDATION_FAILED", "k"],
      ["a fractional k", "POST", "search", { body: { query: "x", k: 2.5 } }, 400, "VALIDATION_FAILED", "k"],
      ["questions_per_chunk out of range", "POST", "generate", { body: { questions_per_chunk: 11 } }, 400, "VALIDATION_FAILED", "questions_per_chunk"],
      ["max_pairs above the server's cap", "POST", "generate", { body: { max_pairs: 5001 } }, 400, "VALIDATION_FAILED", "max_pairs"],
      ["an empty pair list", "POST", "import", { body: { pairs: [] } }, 400, "VALIDATION_FAILED", "pairs"],
      ["a pair with an unknown field", "POST", "import", { body: { pairs: [{ question: "q", chunk_id: "c", user_id: "u" }] } }, 400, "VALIDATION_FAILED", "pairs.0.user_id"],
      ["limit=0", "GET", "runs?limit=0", {}, 400, "VALIDATION_FAILED", "limit"],
      ["limit=abc", "GET", "runs?limit=abc", {}, 400, "VALIDATION_FAILED", "limit"],
      ["offset=-1", "GET", "runs?offset=-1", {}, 400, "VALIDATION_FAILED", "offset"],
      ["an unknown query field", "GET", "runs?user_id=bob", {}, 400, "VALIDATION_FAILED", "user_id"],
      ["a body that is not JSON", "PUT", "settings", { raw: "enabled=true", headers: { "content-type": "application/x-www-form-urlencoded" } }, 415, "UNSUPPORTED_MEDIA_TYPE"],
      ["a body in another charset", "PUT", "settings", { raw: '{"enabled":true}', headers: { "content-type": "application/json; charset=latin1" } }, 415, "UNSUPPORTED_MEDIA_TYPE"],
      ["an oversized body", "POST", "search", { body: { query: "x".repeat(3000) } }, 413, "PAYLOAD_TOO_LARGE"],
      ["an id with malformed percent-encoding", "GET", "runs/%ZZ", {}, 400, "VALIDATION_FAILED", "(path)"],
      ["a job id with an encoded lone surrogate", "GET", "events/stream/%ED%A0%80", {}, 400, "VALIDATION_FAILED", "(path)"],
      ["a status id that is not UTF-8", "GET", "status/%FF%FE", {}, 400, "VALIDATION_FAILED", "(path)"],
      ["a body that is not the gzip it claims", "POST", "search", { raw: '{"query":"x"}', headers: { "content-type": "application/json", "content-encoding": "gzip" } }, 400, "INVALID_JSON"],
      ["an unknown Content-Encoding", "POST", "search", { raw: '{"query":"x"}', headers: { "content-type": "application/json", "content-encoding": "x-zip" } }, 415, "UNSUPPORTED_MEDIA_TYPE"],
      ["a NUL in an imported question", "POST", "import", { raw: '{"pairs":[{"question":"a\\u0000b","chunk_id":"alice-chunk-01"}]}', headers: { "content-type": "application/json" } }, 400, "VALIDATION_FAILED", "pairs.0.question"],
      ["a lone surrogate in a chunk id", "POST", "import", { raw: '{"pairs":[{"question":"q","chunk_id":"\\ud800"}]}', headers: { "content-type": "application/json" } }, 400, "VALIDATION_FAILED", "pairs.0.chunk_id"],
      ["a NUL in an import source", "POST", "import", { body: { pairs: [{ question: "q", chunk_id: "alice-chunk-01" }], source: "chat\u0000" } }, 400, "VALIDATION_FAILED", "source"],
      ["a NUL in a search query", "POST", "search", { body: { query: "a\u0000" } }, 400, "VALIDATION_FAILED", "query"],
      ["DELETE on a route that has none", "DELETE", "settings", {}, 405, "METHOD_NOT_ALLOWED"],
      ["GET on a POST route", "GET", "generate", {}, 405, "METHOD_NOT_ALLOWED"],
    ];

    it.each(cases)("%s", async (_name, method, path, init, status, code, path0) => {
      const ctx = await start(undefined, { bodyLimit: 2048 });
      const res = await ctx.call(method, path, init);
      expect(res.status).toBe(status);
      const body = errorBodySchema.parse(res.json);
      expect(body.error.code).toBe(code);
      if (path0) expect((body.error.details!.issues as { path: string }[]).map((i) => i.path)).toContain(path0);
    });

    it("answers OPTIONS on its routes with 204 and Allow, and says which methods in a 405", async () => {
      const ctx = await start();
      const options = await ctx.call("OPTIONS", "settings");
      expect(options.status).toBe(204);
      expect(options.headers.get("allow")).toBe("GET, HEAD, PUT, OPTIONS");
      const wrong = await ctx.call("PATCH", `runs/${"0b9f3a9e-2c4d-4f6e-8a1b-3c5d7e9f1a2b"}`);
      expect(wrong.status).toBe(405);
      expect(wrong.headers.get("allow")).toBe("GET, HEAD, OPTIONS");
      expect(wrong.headers.get("content-type")).toMatch(/^application\/json/);
    });

    it("accepts POST /generate with no body at all, or an empty object", async () => {
      const ctx = await start(createTrainer({ generator: new GatedGenerator(new Gate(false)) }));
      expect((await ctx.call("POST", "generate")).status).toBe(202);
      expect((await ctx.call("POST", "generate", { user: "bob", body: {} })).status).toBe(202);
    });
  });

  describe("trainer errors map to status codes through the one table", () => {
    it("409 for enabling without a trained model and for training a run twice; 404 for an unknown run", async () => {
      const ctx = await start();
      const enable = await ctx.call("PUT", "settings", { body: { enabled: true } });
      expect(enable.status).toBe(409);
      expect(enable.json!.error.code).toBe("NO_TRAINED_MODEL");
      const unknown = "0b9f3a9e-2c4d-4f6e-8a1b-3c5d7e9f1a2b";
      expect((await ctx.call("POST", "train", { body: { training_run_id: unknown } })).status).toBe(404);
      expect((await ctx.call("GET", `runs/${unknown}`)).status).toBe(404);
      expect((await ctx.call("GET", "runs/missing")).status).toBe(400);

      const gen = (await ctx.call("POST", "generate")).json!;
      await ctx.trainer.waitForJob({ userId: "alice", jobId: gen.job_id });
      const train = (await ctx.call("POST", "train", { body: { training_run_id: gen.training_run_id } })).json!;
      await ctx.trainer.waitForJob({ userId: "alice", jobId: train.job_id });
      const again = await ctx.call("POST", "train", { body: { training_run_id: gen.training_run_id } });
      expect(again.status).toBe(409);
      expect(again.json!.error).toMatchObject({ code: "INVALID_RUN_STATE", details: { training_run_id: gen.training_run_id, status: "completed" } });
    });

    it("500 bodies carry no message, stack or internals of the failure, and onError hears of it", async () => {
      const setup = createTrainer();
      vi.spyOn(setup.store, "listRuns").mockRejectedValue(new Error("connect ECONNREFUSED 10.0.0.5:5432 password=hunter2"));
      const onError = vi.fn();
      const ctx = await start(setup, { onError });
      const res = await ctx.call("GET", "runs");
      expect(res.status).toBe(500);
      expect(res.json).toEqual({ error: { code: "INTERNAL", message: "Internal server error" } });
      expect(onError).toHaveBeenCalledTimes(1);
      expect(String(onError.mock.calls[0]![0])).toContain("ECONNREFUSED");
    });
  });

  it("serves its OpenAPI document for the path it is mounted at", async () => {
    const ctx = await start();
    const res = await ctx.call("GET", "openapi.json", { user: null });
    expect(res.status).toBe(200);
    expect(Object.keys(res.json!.paths)).toContain(`${BASE}/runs/{runId}`);
  });

  it("leaves requests outside its routes to the host", async () => {
    const setup = createTrainer();
    const ctx = await start(setup, {}, (app, router) => {
      app.use(router);
      app.get("/health", (_req, res) => {
        res.json({ ok: true });
      });
    });
    const res = await ctx.call("GET", "/health", { user: null });
    expect(res).toMatchObject({ status: 200, json: { ok: true } });
  });
}
