import {
  encodeJobStreamEvent,
  cancelJobResponseSchema,
  errorBody,
  generateResponseSchema,
  jobStreamEventSchema,
  runDetailResponseSchema,
  runListResponseSchema,
  searchResponseSchema,
  settingsResponseSchema,
  trainResponseSchema,
  type JobStreamEvent,
  type RunDetailResponse,
  type RunMetricsWire,
  type SearchHitWire,
  type SettingsResponse,
} from "@zip/deep-memory-protocol";
import { http, HttpResponse, type JsonBodyType } from "msw";
import { type FakeJob, type JobEventBody, type Kind, newFakeRun, openJobStream } from "./fake-jobs.js";

/*
 * An in-memory deep-memory API for the hook tests, answering the real routes
 * with bodies checked against the protocol's response schemas (so a drift in
 * the schemas breaks these tests, not a user's app) and serving job events as
 * a real SSE byte stream written with the protocol's encoder. Tests drive
 * jobs by hand (emit, drop) and inspect every stream request.
 */

export const BASE_URL = "http://api.test/v1/api/deep-memory";

export interface StreamRequest {
  jobId: string;
  lastEventId: string | null;
  authorization: string | null;
}

export const sampleMetrics: RunMetricsWire = {
  held_out: {
    with_model: { "recall@1": 0.5, "recall@10": 0.9 },
    without_model: { "recall@1": 0.3, "recall@10": 0.7 },
    query_count: 20,
    top_k: [1, 10],
  },
  train_pairs: 80,
  held_out_pairs: 20,
  recall_at_10_gain: 0.2,
  verdict: "improved",
  reason: "held-out recall@10 rose from 0.70 to 0.90",
  training: {
    engine: "local-residual-linear/v1",
    epochs: 10,
    best_epoch: 7,
    train_queries: 80,
    validation_queries: 10,
    baseline_validation_recall_at_10: 0.7,
    validation_recall_at_10: 0.88,
    wall_ms: 120,
  },
};

/** Run ids are UUIDs, as the trainer makes them (the protocol refuses others); the last digits count up. */
export function fakeRunId(n: number): string {
  return `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;
}

export interface FakeApiOptions {
  baseUrl?: string;
  /** `retry:` advice sent at the start of every stream. */
  retryMs?: number;
  /** Token the routes require as `Authorization: Bearer ...`; none by default. */
  requireToken?: string;
}

export function createFakeApi(options: FakeApiOptions = {}) {
  const base = options.baseUrl ?? BASE_URL;
  const retryMs = options.retryMs ?? 10;
  let clock = Date.parse("2025-01-01T00:00:00.000Z");
  const now = () => new Date((clock += 1000)).toISOString();

  const state = {
    settings: {
      enabled: false,
      last_trained_at: null,
      last_training_run_id: null,
      model_run_id: null,
      can_enable: false,
      cannot_enable_reason: "No completed training run yet",
      new_chunks_since_last_training: 44,
    } as SettingsResponse,
    runs: new Map<string, RunDetailResponse>(),
    jobs: new Map<string, FakeJob>(),
    /** Set when every chunk has pairs: POST /generate then answers 409 NOTHING_TO_GENERATE naming the newest run. */
    allCovered: false,
  };
  const log = {
    /** "METHOD /path" of every request, in order. */
    requests: [] as string[],
    streamRequests: [] as StreamRequest[],
    openStreams: 0,
    maxOpenStreams: 0,
  };
  let nextId = 1;
  /** Set to make the next PUT /settings wait for this promise before answering. */
  let settingsGate: Promise<void> | null = null;

  function json(body: JsonBodyType, status = 200) {
    return HttpResponse.json(body, { status });
  }
  function fail(code: string, status: number, message: string, details?: Record<string, unknown>) {
    return HttpResponse.json(errorBody(code, message, details), { status });
  }
  function authorized(request: Request): boolean {
    return options.requireToken === undefined || request.headers.get("authorization") === `Bearer ${options.requireToken}`;
  }
  function record(request: Request) {
    log.requests.push(`${request.method} ${new URL(request.url).pathname.replace(new URL(base).pathname, "")}`);
  }

  function createRun(overrides: Partial<RunDetailResponse> = {}): RunDetailResponse {
    const id = overrides.id ?? fakeRunId(nextId++);
    const created = now();
    const run = newFakeRun(id, created, overrides);
    state.runs.set(id, run);
    return run;
  }

  function createJob(runId: string, kind: Kind): FakeJob {
    const job: FakeJob = { id: `job-${nextId++}`, runId, kind, events: [], connections: new Set(), over: false };
    state.jobs.set(job.id, job);
    return job;
  }

  /** Emits the next event of a job to its history and every open stream; terminal events end the job and update its run. */
  function emit(jobId: string, body: JobEventBody): JobStreamEvent {
    const job = state.jobs.get(jobId);
    if (!job) throw new Error(`no job ${jobId}`);
    const event = jobStreamEventSchema.parse({ ...body, seq: job.events.length + 1, job_id: job.id, training_run_id: job.runId, kind: job.kind, at: now() });
    job.events.push(event);
    applyToRun(job, event);
    for (const connection of [...job.connections]) {
      connection.write(encodeJobStreamEvent(event));
      if (job.over) connection.close();
    }
    return event;
  }

  function applyToRun(job: FakeJob, event: JobStreamEvent) {
    const run = state.runs.get(job.runId);
    if (!run) return;
    const patch: Partial<RunDetailResponse> = { updated_at: event.at };
    if (event.type === "progress" && job.kind === "generate") Object.assign(patch, { processed_chunks: event.processed, pair_count: event.pair_count });
    if (event.type === "completed") {
      job.over = true;
      Object.assign(patch, {
        status: event.status,
        processed_chunks: event.processed_chunks,
        pair_count: event.pair_count,
        metrics: event.metrics ?? run.metrics,
        statistics: { ...run.statistics, pair_count: event.pair_count, chunks_with_pairs: event.processed_chunks },
        sample_pairs: [{ id: "pair-1", chunk_id: "chunk-1", question: "What does the stop-loss rule say?" }],
        ...(event.status === "generated" ? { generated_at: event.at } : { completed_at: event.at }),
      });
      if (event.status === "completed" && event.metrics?.verdict === "improved") {
        state.settings = {
          ...state.settings,
          last_trained_at: event.at,
          last_training_run_id: run.id,
          model_run_id: run.id,
          can_enable: true,
          cannot_enable_reason: null,
          new_chunks_since_last_training: 0,
        };
      }
    }
    if (event.type === "cancelled") {
      job.over = true;
      Object.assign(patch, { status: "failed", error: `Cancelled: ${event.reason}`, failed_phase: event.phase });
    }
    if (event.type === "failed") {
      job.over = true;
      Object.assign(patch, { status: "failed", error: event.error.message, failed_phase: job.kind === "generate" ? "generating" : "training" });
    }
    state.runs.set(run.id, runDetailResponseSchema.parse({ ...run, ...patch }));
  }

  /** Ends every open stream of a job without a terminal event, as a dropped connection or a restarting proxy would. */
  function drop(jobId: string) {
    for (const connection of [...(state.jobs.get(jobId)?.connections ?? [])]) connection.close();
  }

  function hits(query: string, order: string[]): SearchHitWire[] {
    return order.map((id, i) => ({ id, text: `${id}: notes about ${query}`, score: 0.9 - i * 0.1 }));
  }

  const handlers = [
    http.all(`${base}/*`, ({ request }) => {
      record(request);
      if (!authorized(request)) return fail("UNAUTHORIZED", 401, "Missing or invalid access token");
      return undefined;
    }),
    http.get(`${base}/settings`, () => json(settingsResponseSchema.parse(state.settings))),
    http.put(`${base}/settings`, async ({ request }) => {
      const body = (await request.json()) as { enabled: boolean };
      if (settingsGate) await settingsGate;
      if (body.enabled && !state.settings.can_enable) {
        return fail("NO_TRAINED_MODEL", 409, state.settings.cannot_enable_reason ?? "No trained model to enable");
      }
      state.settings = { ...state.settings, enabled: body.enabled };
      return json(settingsResponseSchema.parse(state.settings));
    }),
    http.post(`${base}/generate`, () => {
      const active = [...state.runs.values()].find((run) => ["pending", "generating", "training"].includes(run.status));
      // As the real server: a generate while one runs joins it; training blocks it.
      if (active && active.status !== "training" && active.generate_job_id) {
        return json(
          generateResponseSchema.parse({
            job_id: active.generate_job_id,
            training_run_id: active.id,
            total_chunks: active.total_chunks,
            existing_chunks: 0,
            resumed: false,
            joined: true,
            message: "Already generating training data; following that job",
            events_url: `${base}/events/stream/${active.generate_job_id}`,
          }),
          202,
        );
      }
      if (active) return fail("RUN_ALREADY_ACTIVE", 409, `Run ${active.id} is still ${active.status}`);
      if (state.allCovered) {
        const newest = [...state.runs.values()].at(-1);
        return fail("NOTHING_TO_GENERATE", 409, `Every one of the 4 chunks already has training pairs (newest: run ${newest?.id})`, {
          training_run_id: newest?.id ?? null,
          status: newest?.status ?? null,
          chunk_count: 4,
        });
      }
      const run = createRun();
      const job = createJob(run.id, "generate");
      state.runs.set(run.id, { ...run, generate_job_id: job.id });
      return json(
        generateResponseSchema.parse({
          job_id: job.id,
          training_run_id: run.id,
          total_chunks: run.total_chunks,
          existing_chunks: 0,
          resumed: false,
          joined: false,
          message: "Generation started",
          events_url: `${base}/events/stream/${job.id}`,
        }),
        202,
      );
    }),
    http.post(`${base}/train`, async ({ request }) => {
      const { training_run_id } = (await request.json()) as { training_run_id: string };
      const run = state.runs.get(training_run_id);
      if (!run) return fail("NOT_FOUND", 404, `No run with id "${training_run_id}"`);
      if (run.status !== "generated") return fail("INVALID_RUN_STATE", 409, `Run ${run.id} is ${run.status}, not generated`);
      const job = createJob(run.id, "train");
      state.runs.set(run.id, { ...run, status: "training", train_job_id: job.id });
      return json(trainResponseSchema.parse({ job_id: job.id, training_run_id: run.id, joined: false, message: "Training started", events_url: `${base}/events/stream/${job.id}` }), 202);
    }),
    http.post(`${base}/jobs/:jobId/cancel`, async ({ request, params }) => {
      const job = state.jobs.get(String(params.jobId));
      const run = job ? state.runs.get(job.runId) : undefined;
      if (!job || !run) return fail("NOT_FOUND", 404, `No job with id "${String(params.jobId)}"`);
      const phase = job.kind === "train" ? "training" : "generating";
      if (job.over) return fail("INVALID_RUN_STATE", 409, `Cannot cancel the job of run ${run.id}: its status is "${run.status}"`);
      const text = await request.text();
      const reason = (text ? (JSON.parse(text) as { reason?: string }).reason : undefined) ?? "cancelled by the user";
      // As the real server: the job's stream ends with `cancelled` and the run is stored as failed with the reason.
      emit(job.id, { type: "cancelled", reason, phase });
      return json(
        cancelJobResponseSchema.parse({ job_id: job.id, training_run_id: run.id, kind: job.kind, phase, stopped: true, message: "Job cancelled" }),
        202,
      );
    }),
    http.get(`${base}/runs`, ({ request }) => {
      const url = new URL(request.url);
      const limit = Number(url.searchParams.get("limit") ?? 20);
      const offset = Number(url.searchParams.get("offset") ?? 0);
      const all = [...state.runs.values()].reverse().map(({ sample_pairs: _pairs, statistics: _stats, ...run }) => run);
      const page = all.slice(offset, offset + limit);
      return json(runListResponseSchema.parse({ runs: page, total: all.length, limit, offset, has_more: offset + page.length < all.length }));
    }),
    http.get(`${base}/runs/:runId`, ({ params }) => {
      const run = state.runs.get(String(params.runId));
      return run ? json(runDetailResponseSchema.parse(run)) : fail("NOT_FOUND", 404, `No run with id "${String(params.runId)}"`);
    }),
    http.post(`${base}/search`, async ({ request }) => {
      const { query, k } = (await request.json()) as { query: string; k: number };
      const plain = ["chunk-a", "chunk-b", "chunk-c", "chunk-d", "chunk-e"].slice(0, k);
      const applied = state.settings.enabled && state.settings.model_run_id !== null;
      const learned = applied ? [...plain].reverse() : plain;
      return json(
        searchResponseSchema.parse({
          query,
          k,
          with_deep_memory: hits(query, learned),
          without_deep_memory: hits(query, plain),
          deep_memory_applied: applied,
          model_run_id: applied ? state.settings.model_run_id : null,
          reason: applied ? null : "Deep memory is disabled",
        }),
      );
    }),
    http.get(`${base}/events/stream/:jobId`, ({ request, params }) => {
      const jobId = String(params.jobId);
      const header = request.headers.get("last-event-id");
      log.streamRequests.push({ jobId, lastEventId: header, authorization: request.headers.get("authorization") });
      const job = state.jobs.get(jobId);
      if (!job) return fail("NOT_FOUND", 404, `No job with id "${jobId}"`);
      const after = header === null ? 0 : Number(header);
      if (job.over && !job.events.some((event) => "seq" in event && event.seq > after)) return new HttpResponse(null, { status: 204 });
      return openJobStream(log, retryMs, job, after, request.signal);
    }),
  ];

  return {
    base,
    handlers,
    state,
    log,
    createRun,
    createJob,
    emit,
    drop,
    /** Holds PUT /settings until the returned release function is called. */
    holdSettingsUpdates(): () => void {
      let release!: () => void;
      settingsGate = new Promise((resolve) => (release = resolve));
      return () => {
        settingsGate = null;
        release();
      };
    },
    /** A run whose generation is under way, with its job. */
    startGeneration(overrides: Partial<RunDetailResponse> = {}) {
      const run = createRun({ status: "generating", ...overrides });
      const job = createJob(run.id, "generate");
      state.runs.set(run.id, { ...state.runs.get(run.id)!, generate_job_id: job.id });
      return { runId: run.id, jobId: job.id };
    },
  };
}

export type FakeApi = ReturnType<typeof createFakeApi>;
