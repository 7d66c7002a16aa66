import { errorBodySchema, RUN_FAILED_CODE, SYNTHESIZED_EVENT_SEQ } from "@zip/deep-memory-protocol";
import { UpstreamError } from "@zip/deep-memory";
import { describe, expect, it } from "vitest";
import { createJobEventsRouter } from "../index.js";
import { BASE, userHeader, type StartRouter, type Started } from "./contract-harness.js";
import { createTrainer, eventually, Gate, GatedGenerator, openStream, type TestSetup } from "./fixtures.js";

/** The job event stream: replay after Last-Event-ID, live following, reconnects, jobs of other processes. */
export function eventStreamContract(start: StartRouter, track: (setup: TestSetup) => void): void {
  describe("event stream", () => {
    async function finishedJob() {
      const ctx = await start();
      const gen = (await call0(ctx)).json!;
      const all = await (await ctx.stream(gen.job_id)).rest();
      return { ...ctx, jobId: gen.job_id as string, all };
    }
    const call0 = (ctx: Started) => ctx.call("POST", "generate");

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
      track(worker);
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
        expect(errorBodySchema.parse(await opened.response.json()).error).toMatchObject({ code: "NOT_FOUND", message: `No job with id "${jobId}"` });
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

}
