import { SSE_RESPONSE_HEADERS, encodeJobStreamEvent, encodeSseRetry, type JobStreamEvent } from "@zip/deep-memory-protocol";
import { http, HttpResponse } from "msw";
import { describe, expect, it, vi } from "vitest";
import { BASE_URL, sampleMetrics } from "../test-utils/fake-api.js";
import { tick, setupFakeApi } from "../test-utils/msw.js";
import { createDeepMemoryClient } from "./client.js";

const ctx = setupFakeApi();

const progress = (processed: number, pairs: number) =>
  ({ type: "progress", phase: "generating", processed, total: 4, percent: processed * 25, pair_count: pairs, skipped_chunks: 0 }) as const;
const generated = { type: "completed", status: "generated", pair_count: 12, processed_chunks: 4, total_chunks: 4, cap_reached: false } as const;

function seqs(events: JobStreamEvent[]): number[] {
  return events.map((event) => ("seq" in event ? event.seq : -1));
}

describe("JobStreamStore", () => {
  it("follows a job to its terminal event, then closes the stream and refetches what the job changed", async () => {
    const { jobId, runId } = ctx.api.startGeneration();
    const client = createDeepMemoryClient({ baseUrl: BASE_URL });
    const runStore = client.runStore(runId);
    const unwatchRun = runStore.subscribe(() => {});
    const store = client.jobStream(jobId);
    const unsubscribe = store.subscribe(() => {});
    await vi.waitFor(() => expect(store.getSnapshot().connection).toBe("open"));

    ctx.api.emit(jobId, { type: "started", total_chunks: 4, resumed: false });
    ctx.api.emit(jobId, progress(2, 6));
    await vi.waitFor(() => expect(store.getSnapshot()).toMatchObject({ status: "running", phase: "generating", processed: 2, total: 4, percent: 50, pairCount: 6 }));
    expect(store.getSnapshot()).toMatchObject({ runId, kind: "generate", lastEventId: "2", done: false });

    ctx.api.emit(jobId, generated);
    await vi.waitFor(() => expect(store.getSnapshot()).toMatchObject({ status: "completed", runStatus: "generated", percent: 100, pairCount: 12, done: true, connection: "closed" }));
    await vi.waitFor(() => expect(runStore.getSnapshot().data?.status).toBe("generated"));
    expect(ctx.api.log.openStreams).toBe(0);
    expect(ctx.api.log.streamRequests).toHaveLength(1);
    unsubscribe();
    unwatchRun();
  });

  it("resumes a dropped stream with Last-Event-ID: every event exactly once, in order", async () => {
    const { jobId } = ctx.api.startGeneration();
    const store = createDeepMemoryClient({ baseUrl: BASE_URL, headers: { authorization: "Bearer t" } }).jobStream(jobId);
    const received: JobStreamEvent[] = [];
    store.onEvent((event) => received.push(event));
    const unsubscribe = store.subscribe(() => {});
    await vi.waitFor(() => expect(ctx.api.log.openStreams).toBe(1));

    ctx.api.emit(jobId, { type: "started", total_chunks: 4, resumed: false });
    ctx.api.emit(jobId, progress(1, 3));
    await vi.waitFor(() => expect(store.getSnapshot().processed).toBe(1));

    ctx.api.drop(jobId);
    // Emitted while the client is disconnected: must arrive through the replay.
    ctx.api.emit(jobId, progress(2, 6));
    await vi.waitFor(() => expect(ctx.api.log.streamRequests).toHaveLength(2));
    await vi.waitFor(() => expect(store.getSnapshot().processed).toBe(2));
    ctx.api.emit(jobId, progress(3, 9));
    ctx.api.emit(jobId, generated);
    await vi.waitFor(() => expect(store.getSnapshot().done).toBe(true));

    expect(ctx.api.log.streamRequests.map((r) => r.lastEventId)).toEqual([null, "2"]);
    expect(ctx.api.log.streamRequests.every((r) => r.authorization === "Bearer t")).toBe(true);
    expect(seqs(received)).toEqual([1, 2, 3, 4, 5]);
    expect(ctx.api.log.openStreams).toBe(0);
    unsubscribe();
  });

  it("never applies an event twice, even when the server replays from the start", async () => {
    const events: JobStreamEvent[] = [1, 2, 3].map((seq) => ({
      type: "progress",
      seq,
      job_id: "job-x",
      training_run_id: "run-x",
      kind: "generate",
      at: "2025-01-01T00:00:00.000Z",
      phase: "generating",
      processed: seq,
      total: 3,
      percent: seq * 33,
      pair_count: seq * 3,
      skipped_chunks: 0,
    }));
    let connections = 0;
    ctx.server.use(
      http.get(`${BASE_URL}/events/stream/job-x`, () => {
        connections++;
        // A server ignoring Last-Event-ID: each connection replays everything so far, then drops.
        const upTo = Math.min(connections + 1, 3);
        const body = encodeSseRetry(5) + events.slice(0, upTo).map(encodeJobStreamEvent).join("") +
          (connections === 2 ? encodeJobStreamEvent({ ...generated, seq: 4, job_id: "job-x", training_run_id: "run-x", kind: "generate", at: "2025-01-01T00:00:00.000Z" }) : "");
        return new HttpResponse(body, { headers: SSE_RESPONSE_HEADERS });
      }),
    );
    const store = createDeepMemoryClient({ baseUrl: BASE_URL }).jobStream("job-x");
    const received: JobStreamEvent[] = [];
    store.onEvent((event) => received.push(event));
    const unsubscribe = store.subscribe(() => {});
    await vi.waitFor(() => expect(store.getSnapshot().done).toBe(true));
    expect(seqs(received)).toEqual([1, 2, 3, 4]);
    expect(connections).toBe(2);
    unsubscribe();
  });

  it("backs off while attempts fail, then recovers; gives up after maxAttempts with the last error", async () => {
    const { jobId } = ctx.api.startGeneration();
    let failuresLeft = 2;
    const attemptTimes: number[] = [];
    ctx.server.use(
      http.get(`${BASE_URL}/events/stream/:jobId`, () => {
        attemptTimes.push(Date.now());
        if (failuresLeft-- > 0) return HttpResponse.json({ error: { code: "INTERNAL", message: "down" } }, { status: 503 });
        return undefined;
      }),
    );
    const client = createDeepMemoryClient({ baseUrl: BASE_URL, stream: { retryMs: 20 } });
    const store = client.jobStream(jobId);
    const unsubscribe = store.subscribe(() => {});
    await vi.waitFor(() => expect(store.getSnapshot().connection).toBe("open"));
    expect(attemptTimes).toHaveLength(3);
    // 20 ms then about 40 ms (doubling, +-20% jitter).
    expect(attemptTimes[2]! - attemptTimes[1]!).toBeGreaterThanOrEqual(30);
    expect(store.getSnapshot().reconnectAttempts).toBe(2);
    ctx.api.emit(jobId, progress(1, 3));
    await vi.waitFor(() => expect(store.getSnapshot().reconnectAttempts).toBe(0));
    unsubscribe();

    ctx.server.use(http.get(`${BASE_URL}/events/stream/:jobId`, () => HttpResponse.error()));
    const doomed = createDeepMemoryClient({ baseUrl: BASE_URL, stream: { retryMs: 1, maxAttempts: 3 } }).jobStream(jobId);
    const stop = doomed.subscribe(() => {});
    await vi.waitFor(() => expect(doomed.getSnapshot().done).toBe(true));
    expect(doomed.getSnapshot()).toMatchObject({ connection: "closed", reconnectAttempts: 3, streamError: { code: "NETWORK_ERROR", status: null } });
    stop();
  });

  it("stops at once on a 404 (unknown job) and can be retried", async () => {
    const store = createDeepMemoryClient({ baseUrl: BASE_URL }).jobStream("missing");
    const unsubscribe = store.subscribe(() => {});
    await vi.waitFor(() => expect(store.getSnapshot().done).toBe(true));
    expect(store.getSnapshot().streamError).toMatchObject({ status: 404, code: "NOT_FOUND" });
    expect(ctx.api.log.streamRequests).toHaveLength(1);

    store.retry();
    await vi.waitFor(() => expect(ctx.api.log.streamRequests).toHaveLength(2));
    unsubscribe();
  });

  it("treats 204 (job over, nothing after Last-Event-ID) as the end", async () => {
    const { jobId } = ctx.api.startGeneration();
    ctx.api.emit(jobId, generated);
    ctx.server.use(http.get(`${BASE_URL}/events/stream/:jobId`, () => new HttpResponse(null, { status: 204 })));
    const store = createDeepMemoryClient({ baseUrl: BASE_URL }).jobStream(jobId);
    const unsubscribe = store.subscribe(() => {});
    await vi.waitFor(() => expect(store.getSnapshot()).toMatchObject({ done: true, connection: "closed", streamError: null }));
    unsubscribe();
  });

  it("polls with `status` snapshots while the job runs in another server process", async () => {
    let polls = 0;
    const status = (active: boolean, processed: number) => ({
      type: "status",
      job_id: "job-elsewhere",
      training_run_id: "run-1",
      kind: "generate",
      at: "2025-01-01T00:00:00.000Z",
      status: {
        training_run_id: "run-1",
        job_id: "job-elsewhere",
        kind: "generate",
        status: active ? "generating" : "generated",
        active,
        phase: active ? "generating" : null,
        processed_chunks: processed,
        total_chunks: 4,
        pair_count: processed * 3,
        percent: processed * 25,
        error: null,
        metrics: null,
      },
    });
    ctx.server.use(
      http.get(`${BASE_URL}/events/stream/job-elsewhere`, () => {
        polls++;
        const event = status(polls < 3, polls + 1) as JobStreamEvent;
        return new HttpResponse(encodeSseRetry(5) + encodeJobStreamEvent(event), { headers: SSE_RESPONSE_HEADERS });
      }),
    );
    const store = createDeepMemoryClient({ baseUrl: BASE_URL }).jobStream("job-elsewhere");
    const unsubscribe = store.subscribe(() => {});
    await vi.waitFor(() => expect(store.getSnapshot().done).toBe(true));
    expect(polls).toBe(3);
    expect(store.getSnapshot()).toMatchObject({ status: "completed", runStatus: "generated", processed: 4, pairCount: 12, reconnectAttempts: 0 });
    unsubscribe();
  });

  it("reconnects when nothing, not even a heartbeat, arrives within the idle timeout", async () => {
    const { jobId } = ctx.api.startGeneration();
    const store = createDeepMemoryClient({ baseUrl: BASE_URL, stream: { idleTimeoutMs: 60, retryMs: 1 } }).jobStream(jobId);
    const unsubscribe = store.subscribe(() => {});
    await vi.waitFor(() => expect(ctx.api.log.streamRequests.length).toBeGreaterThanOrEqual(2), { timeout: 2000 });
    await vi.waitFor(() => expect(ctx.api.log.openStreams).toBe(1));
    unsubscribe();
    await tick();
    expect(ctx.api.log.openStreams).toBe(0);
  });

  it("shares one stream between subscribers, closes it after the last leaves, and resumes on return", async () => {
    const { jobId } = ctx.api.startGeneration();
    const client = createDeepMemoryClient({ baseUrl: BASE_URL });
    const store = client.jobStream(jobId);
    expect(client.jobStream(jobId)).toBe(store);
    const first = store.subscribe(() => {});
    const second = store.subscribe(() => {});
    await vi.waitFor(() => expect(ctx.api.log.openStreams).toBe(1));
    ctx.api.emit(jobId, { type: "started", total_chunks: 4, resumed: false });
    await vi.waitFor(() => expect(store.getSnapshot().lastEventId).toBe("1"));

    first();
    await tick();
    expect(ctx.api.log.openStreams).toBe(1);
    second();
    await tick();
    expect(ctx.api.log.openStreams).toBe(0);
    expect(store.getSnapshot().connection).toBe("idle");

    // An unsubscribe followed at once by a subscribe (StrictMode) keeps the connection.
    const again = store.subscribe(() => {});
    await vi.waitFor(() => expect(ctx.api.log.openStreams).toBe(1));
    again();
    const last = store.subscribe(() => {});
    await tick(20);
    expect(ctx.api.log.streamRequests.map((r) => r.lastEventId)).toEqual([null, "1"]);
    last();
    await tick();
    expect(ctx.api.log.openStreams).toBe(0);
    expect(ctx.api.log.maxOpenStreams).toBe(1);
  });

  it("carries training metrics and failures", async () => {
    const client = createDeepMemoryClient({ baseUrl: BASE_URL });
    const run = ctx.api.createRun({ status: "training" });
    const trainJob = ctx.api.createJob(run.id, "train");
    const store = client.jobStream(trainJob.id);
    const unsubscribe = store.subscribe(() => {});
    ctx.api.emit(trainJob.id, { type: "progress", phase: "training", processed: 3, total: 10, percent: 40, pair_count: 100, skipped_chunks: 0, epoch: 3, loss: 0.5, validation_recall_at_10: 0.8 });
    await vi.waitFor(() => expect(store.getSnapshot()).toMatchObject({ phase: "training", epoch: 3, loss: 0.5, validationRecallAt10: 0.8 }));
    ctx.api.emit(trainJob.id, { type: "completed", status: "completed", pair_count: 100, processed_chunks: 4, total_chunks: 4, cap_reached: false, metrics: sampleMetrics });
    await vi.waitFor(() => expect(store.getSnapshot().metrics).toEqual(sampleMetrics));
    unsubscribe();

    const { jobId } = ctx.api.startGeneration({ id: "run-failing" });
    const failing = client.jobStream(jobId);
    const stop = failing.subscribe(() => {});
    ctx.api.emit(jobId, { type: "failed", error: { code: "UPSTREAM_FAILED", message: "OpenAI is down" } });
    await vi.waitFor(() => expect(failing.getSnapshot()).toMatchObject({ status: "failed", runStatus: "failed", done: true, error: { code: "UPSTREAM_FAILED", message: "OpenAI is down" } }));
    stop();
  });
});
