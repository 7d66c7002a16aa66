/**
 * The HTTP API's behaviour over a real socket, as one suite run against every
 * mount: Express 5 and 4 (packages/express), the raw fetch handler and Hono
 * (packages/server), Next.js route handlers (the dashboard example). A new
 * mount implements `Mount` (contract-harness.ts) and calls routerContract.
 */
import {
  cancelJobResponseSchema,
  generateResponseSchema,
  importPairsResponseSchema,
  PROTOCOL_VERSION,
  PROTOCOL_VERSION_HEADER,
  runDetailResponseSchema,
  runListResponseSchema,
  searchResponseSchema,
  settingsResponseSchema,
  statusResponseSchema,
  trainResponseSchema,
  type JobStreamEvent,
} from "@zip/deep-memory-protocol";
import { describe, expect, it, vi } from "vitest";
import { BASE, contractHarness, type Mount } from "./contract-harness.js";
import { eventStreamContract } from "./contract-event-stream.js";
import { idempotencyContract } from "./contract-idempotency.js";
import { requestErrorContract } from "./contract-request-errors.js";
import { chunkId, createTrainer, Gate, GatedGenerator, questionFor } from "./fixtures.js";

export function routerContract(mount: Mount): void {
  const { start, track } = contractHarness(mount);

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

  eventStreamContract(start, track);

  it("two concurrent POST /generate for one user: both 202 with the same job, one run", async () => {
    const gate = new Gate(false);
    const ctx = await start(createTrainer({ generator: new GatedGenerator(gate) }));
    const results = await Promise.all([ctx.call("POST", "generate"), ctx.call("POST", "generate")]);
    expect(results.map((r) => r.status)).toEqual([202, 202]);
    expect(results[0].json!.job_id).toBe(results[1].json!.job_id);
    expect(results.map((r) => r.json!.joined).sort()).toEqual([false, true]);
    // Another user is not blocked.
    const bob = await ctx.call("POST", "generate", { user: "bob" });
    expect(bob.status).toBe(202);
    gate.open();
    await ctx.trainer.waitForJob({ userId: "alice", jobId: results[0].json!.job_id });
    await ctx.trainer.waitForJob({ userId: "bob", jobId: bob.json!.job_id });
    expect((await ctx.call("GET", "runs")).json!.total).toBe(1);
    // Nothing new to cover: a 409 with its own code, and no empty run.
    const again = await ctx.call("POST", "generate");
    expect(again.status).toBe(409);
    expect(again.json!.error).toMatchObject({ code: "NOTHING_TO_GENERATE" });
    expect((await ctx.call("GET", "runs")).json!.total).toBe(1);
  });

  idempotencyContract(start);

  it("POST /jobs/{jobId}/cancel stops a job (202, the stream ends with `cancelled`) and generate resumes it; 404 and 409 otherwise", async () => {
    const gate = new Gate(false);
    const ctx = await start(createTrainer({ generator: new GatedGenerator(gate) }));
    const gen = generateResponseSchema.parse((await ctx.call("POST", "generate")).json);
    expect((await ctx.call("POST", `jobs/${gen.job_id}/cancel`, { user: "bob" })).status).toBe(404);
    expect((await ctx.call("POST", "jobs/no-such-job/cancel")).status).toBe(404);

    const cancelled = await ctx.call("POST", `jobs/${gen.job_id}/cancel`, { body: { reason: "wrong knowledge base" } });
    expect(cancelled.status).toBe(202);
    expect(cancelJobResponseSchema.parse(cancelled.json)).toMatchObject({
      job_id: gen.job_id,
      training_run_id: gen.training_run_id,
      kind: "generate",
      phase: "generating",
      stopped: true,
    });
    const events = await (await ctx.stream(gen.job_id)).rest();
    expect(events.at(-1)!.data).toMatchObject({ type: "cancelled", reason: "wrong knowledge base", phase: "generating" });
    const status = statusResponseSchema.parse((await ctx.call("GET", `status/${gen.job_id}`)).json);
    expect(status).toMatchObject({ status: "failed", active: false, error: "Cancelled: wrong knowledge base" });

    const again = await ctx.call("POST", `jobs/${gen.job_id}/cancel`);
    expect(again.status).toBe(409);
    expect(again.json!.error.code).toBe("INVALID_RUN_STATE");

    gate.open();
    const resumed = generateResponseSchema.parse((await ctx.call("POST", "generate")).json);
    expect(resumed).toMatchObject({ training_run_id: gen.training_run_id, resumed: true });
    await ctx.trainer.waitForJob({ userId: "alice", jobId: resumed.job_id });
    const run = runDetailResponseSchema.parse((await ctx.call("GET", `runs/${gen.training_run_id}`)).json);
    expect(run).toMatchObject({ status: "generated", pair_count: 120 });
  });

  it("a second POST /train while the run trains follows that job (joined), and another run's train is told when to retry", async () => {
    const ctx = await start();
    const gen = (await ctx.call("POST", "generate")).json!;
    await ctx.trainer.waitForJob({ userId: "alice", jobId: gen.job_id });
    ctx.engine.gate.close();
    const first = await ctx.call("POST", "train", { body: { training_run_id: gen.training_run_id } });
    const second = await ctx.call("POST", "train", { body: { training_run_id: gen.training_run_id } });
    expect([first.status, second.status]).toEqual([202, 202]);
    expect(second.json).toMatchObject({ job_id: first.json!.job_id, joined: true });
    const chunk = chunkId("alice", 0);
    const busy = await ctx.call("POST", "import", { body: { pairs: [{ question: questionFor(chunk, 9), chunk_id: chunk }] } });
    expect(busy.status).toBe(409);
    expect(busy.json!.error).toMatchObject({ code: "RUN_ALREADY_ACTIVE", details: { training_run_id: gen.training_run_id, status: "training" } });
    expect(Number(busy.headers.get("retry-after"))).toBeGreaterThan(0);
    ctx.engine.gate.open();
    await ctx.trainer.waitForJob({ userId: "alice", jobId: first.json!.job_id });
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
      ["POST", "jobs/j/cancel", {}],
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

  requestErrorContract(start);

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

  it("leaves requests outside its routes to the host, also under its own base path", async () => {
    const setup = createTrainer();
    const ctx = await start(setup, {}, "host-routes");
    expect(await ctx.call("GET", "/health", { user: null })).toMatchObject({ status: 200, json: { ok: true } });
    expect(await ctx.call("GET", `${BASE}/health`, { user: null })).toMatchObject({ status: 200, json: { ok: true } });
    expect((await ctx.call("GET", "settings")).status).toBe(200);
  });
}
