import {
  cancelJobRequestSchema,
  cancelJobResponseSchema,
  deepMemoryRoutes,
  generateRequestSchema,
  generateResponseSchema,
  importPairsRequestSchema,
  importPairsResponseSchema,
  listRunsQuerySchema,
  runDetailResponseSchema,
  runListResponseSchema,
  searchRequestSchema,
  searchResponseSchema,
  settingsResponseSchema,
  statusResponseSchema,
  trainRequestSchema,
  trainResponseSchema,
  updateSettingsRequestSchema,
  type CancelJobRequest,
  type CancelJobResponse,
  type GenerateRequest,
  type GenerateResponse,
  type ImportPairsRequest,
  type ImportPairsResponse,
  type ListRunsQuery,
  type RunDetailResponse,
  type RunListResponse,
  type SearchRequest,
  type SearchResponse,
  type SettingsResponse,
  type StatusResponse,
  type TrainRequest,
  type TrainResponse,
  type UpdateSettingsRequest,
} from "@zip/deep-memory-protocol";
import { DEFAULT_GC_TIME_MS, StoreCache } from "./store-cache.js";
import { Transport, fillPath, newIdempotencyKey, trimSlashes, validateRequest, type FetchLike, type HeadersOption } from "./http.js";
import { JobStreamStore, type JobStreamOptions, type JobStreamSnapshot } from "./job-stream-store.js";
import { QueryStore, type QueryStoreOptions } from "./query-store.js";
import { SettingsStore } from "./settings-store.js";

export interface DeepMemoryClientOptions {
  /** Where the host mounted the deep-memory router, e.g. "/v1/api/deep-memory" or "https://api.example.com/v1/api/deep-memory". */
  baseUrl: string;
  /** A fetch to use instead of the global one (resolved at call time, so interceptors installed later apply). */
  fetch?: FetchLike | undefined;
  /** Sent with every request and every stream (re)connection; a function is called each time, so a refreshed token is picked up. */
  headers?: HeadersOption | undefined;
  /** fetch's `credentials`, e.g. "include" for cookie sessions on another origin. */
  credentials?: RequestCredentials | undefined;
  /**
   * Where job event streams live, when not at `${baseUrl}/events/stream/:jobId`
   * (the plan mounted them at "/v1/api/events/stream"): a base URL the job id
   * is appended to, or a function from job id to URL.
   */
  eventsUrl?: string | ((jobId: string) => string) | undefined;
  /** Reconnect and timeout settings of job event streams. */
  stream?: JobStreamOptions | undefined;
  /** Freshness of cached GET resources. */
  query?: QueryStoreOptions | undefined;
  /**
   * How long a run, job stream or page of runs nobody watches stays cached
   * before the client forgets it (ms; default 5 minutes, as TanStack Query's
   * gcTime; `Infinity` keeps everything). Watched stores are never collected.
   */
  gcTimeMs?: number | undefined;
}

export interface RequestOptions {
  signal?: AbortSignal | undefined;
  /**
   * POST /generate, /train and /import: the Idempotency-Key to send. A fresh
   * one is made per call when none is given, so each call (one click) is done
   * at most once by the server even if the client sends it again; pass your
   * own to make a retry of yours replay the first answer.
   */
  idempotencyKey?: string | undefined;
}

export type { FetchLike, HeadersOption };

/**
 * A typed client of the deep-memory HTTP API plus the observable stores the
 * React hooks (or any other UI binding) read. Every method rejects with a
 * DeepMemoryClientError; every response is checked against the protocol's
 * schema. Stores are cached per client: two components asking for the same
 * run or job share one request and one stream.
 */
export interface DeepMemoryClient {
  readonly baseUrl: string;

  /**
   * POST /generate: starts generating training pairs, or follows the job
   * already generating (`joined`). 409 NOTHING_TO_GENERATE when every chunk
   * is covered (`details.training_run_id` names the run to train); 409
   * RUN_ALREADY_ACTIVE while a run trains (`retryAfterMs` says when to retry).
   */
  generate(body?: GenerateRequest, options?: RequestOptions): Promise<GenerateResponse>;
  /** POST /train: starts training a generated run; 409 (INVALID_RUN_STATE) unless it is `generated`. */
  train(body: TrainRequest, options?: RequestOptions): Promise<TrainResponse>;
  /**
   * POST /jobs/:jobId/cancel: stops a generate or train job; its run is stored
   * as failed with the reason (generate resumes it, train retrains it). 409
   * (INVALID_RUN_STATE) when the job has finished; 404 for an unknown job.
   */
  cancelJob(jobId: string, body?: CancelJobRequest, options?: RequestOptions): Promise<CancelJobResponse>;
  /** POST /import: stores real question/chunk pairs as a run ready to train. */
  importPairs(body: ImportPairsRequest, options?: RequestOptions): Promise<ImportPairsResponse>;
  /** GET /runs: the user's runs, newest first. */
  listRuns(query?: ListRunsQuery, options?: RequestOptions): Promise<RunListResponse>;
  /** GET /runs/:runId: one run with sample pairs and statistics. */
  getRun(runId: string, options?: RequestOptions): Promise<RunDetailResponse>;
  /** GET /status/:id: a run's progress, by job id or run id. */
  getStatus(id: string, options?: RequestOptions): Promise<StatusResponse>;
  /** GET /settings. */
  getSettings(options?: RequestOptions): Promise<SettingsResponse>;
  /** PUT /settings: 409 (NO_TRAINED_MODEL) when enabling without a model that beat plain search. */
  updateSettings(body: UpdateSettingsRequest, options?: RequestOptions): Promise<SettingsResponse>;
  /** POST /search: the top k with and without deep memory, side by side. */
  search(body: SearchRequest, options?: RequestOptions): Promise<SearchResponse>;
  /** The URL of a job's event stream. */
  jobEventsUrl(jobId: string): string;

  /** The shared settings store, with the optimistic `setEnabled`. */
  settingsStore(): SettingsStore;
  /** The shared store of one page of runs. */
  runsStore(query?: ListRunsQuery): QueryStore<RunListResponse>;
  /** The shared store of one run's detail. */
  runStore(runId: string): QueryStore<RunDetailResponse>;
  /** The shared, reference-counted event stream of one job. */
  jobStream(jobId: string): JobStreamStore;

  /** Marks cached data out of date (refetched now where watched). Without a target: everything. */
  invalidate(target?: InvalidateTarget): void;
}

export type InvalidateTarget = { settings: true } | { runs: true } | { run: string };

export function createDeepMemoryClient(options: DeepMemoryClientOptions): DeepMemoryClient {
  const transport = new Transport(options);
  const routes = deepMemoryRoutes;
  const signalOf = (requestOptions?: RequestOptions) => requestOptions?.signal;
  const keyOf = (requestOptions?: RequestOptions) => requestOptions?.idempotencyKey ?? newIdempotencyKey();

  const jobEventsUrl = (jobId: string): string => {
    const { eventsUrl } = options;
    if (typeof eventsUrl === "function") return eventsUrl(jobId);
    if (typeof eventsUrl === "string") return `${trimSlashes(eventsUrl)}/${encodeURIComponent(jobId)}`;
    return `${transport.baseUrl}${fillPath(routes.jobEvents.path, { jobId })}`;
  };

  // async, so an invalid request rejects like every other failure instead of throwing.
  const api = {
    generate: async (body: GenerateRequest = {}, requestOptions?: RequestOptions) =>
      transport.request(
        routes.generate,
        { body: validateRequest(generateRequestSchema, body), signal: signalOf(requestOptions), idempotencyKey: keyOf(requestOptions) },
        generateResponseSchema,
      ),
    train: async (body: TrainRequest, requestOptions?: RequestOptions) =>
      transport.request(
        routes.train,
        { body: validateRequest(trainRequestSchema, body), signal: signalOf(requestOptions), idempotencyKey: keyOf(requestOptions) },
        trainResponseSchema,
      ),
    cancelJob: async (jobId: string, body: CancelJobRequest = {}, requestOptions?: RequestOptions) =>
      transport.request(
        routes.cancelJob,
        {
          params: { jobId },
          body: validateRequest(cancelJobRequestSchema, body),
          signal: signalOf(requestOptions),
          idempotencyKey: keyOf(requestOptions),
        },
        cancelJobResponseSchema,
      ),
    importPairs: async (body: ImportPairsRequest, requestOptions?: RequestOptions) =>
      transport.request(
        routes.importPairs,
        { body: validateRequest(importPairsRequestSchema, body), signal: signalOf(requestOptions), idempotencyKey: keyOf(requestOptions) },
        importPairsResponseSchema,
      ),
    listRuns: async (query: ListRunsQuery = {}, requestOptions?: RequestOptions) =>
      transport.request(routes.listRuns, { query: validateRequest(listRunsQuerySchema, query), signal: signalOf(requestOptions) }, runListResponseSchema),
    getRun: async (runId: string, requestOptions?: RequestOptions) =>
      transport.request(routes.getRun, { params: { runId }, signal: signalOf(requestOptions) }, runDetailResponseSchema),
    getStatus: async (id: string, requestOptions?: RequestOptions) =>
      transport.request(routes.getStatus, { params: { id }, signal: signalOf(requestOptions) }, statusResponseSchema),
    getSettings: async (requestOptions?: RequestOptions) =>
      transport.request(routes.getSettings, { signal: signalOf(requestOptions) }, settingsResponseSchema),
    updateSettings: async (body: UpdateSettingsRequest, requestOptions?: RequestOptions) =>
      transport.request(
        routes.updateSettings,
        { body: validateRequest(updateSettingsRequestSchema, body), signal: signalOf(requestOptions) },
        settingsResponseSchema,
      ),
    search: async (body: SearchRequest, requestOptions?: RequestOptions) =>
      transport.request(routes.search, { body: validateRequest(searchRequestSchema, body), signal: signalOf(requestOptions) }, searchResponseSchema),
  };

  let settings: SettingsStore | undefined;
  const gcTimeMs = options.gcTimeMs ?? DEFAULT_GC_TIME_MS;
  const runLists = new StoreCache<string, QueryStore<RunListResponse>>(gcTimeMs);
  const runs = new StoreCache<string, QueryStore<RunDetailResponse>>(gcTimeMs);
  const streams = new StoreCache<string, JobStreamStore>(gcTimeMs);

  const invalidate = (target?: InvalidateTarget): void => {
    if (target === undefined || "settings" in target) settings?.invalidate();
    if (target === undefined || "runs" in target) for (const store of runLists.values()) store.invalidate();
    if (target === undefined) for (const store of runs.values()) store.invalidate();
    else if ("run" in target) runs.peek(target.run)?.invalidate();
  };

  // A finished job changed its run, the run list and (after training) the settings.
  const onJobTerminal = (snapshot: JobStreamSnapshot) => {
    if (snapshot.runId !== null) invalidate({ run: snapshot.runId });
    invalidate({ runs: true });
    invalidate({ settings: true });
  };

  return {
    baseUrl: transport.baseUrl,
    ...api,
    // Starting a job changes the run list and the run; the hooks' stores learn it here.
    async generate(body, requestOptions) {
      const started = await api.generate(body, requestOptions);
      invalidate({ runs: true });
      invalidate({ run: started.training_run_id });
      return started;
    },
    async train(body, requestOptions) {
      const started = await api.train(body, requestOptions);
      invalidate({ runs: true });
      invalidate({ run: started.training_run_id });
      return started;
    },
    async cancelJob(jobId, body, requestOptions) {
      const cancelled = await api.cancelJob(jobId, body, requestOptions);
      invalidate({ runs: true });
      invalidate({ run: cancelled.training_run_id });
      return cancelled;
    },
    async importPairs(body, requestOptions) {
      const imported = await api.importPairs(body, requestOptions);
      invalidate({ runs: true });
      return imported;
    },
    async updateSettings(body, requestOptions) {
      const updated = await api.updateSettings(body, requestOptions);
      settings?.setData(updated);
      return updated;
    },
    jobEventsUrl,

    settingsStore() {
      settings ??= new SettingsStore(
        (signal) => api.getSettings({ signal }),
        (enabled, signal) => api.updateSettings({ enabled }, { signal }),
      );
      return settings;
    },
    runsStore(query = {}) {
      const normalized = validateRequest(listRunsQuerySchema, query);
      const key = `${normalized.limit}:${normalized.offset}`;
      return runLists.get(key, () => new QueryStore((signal) => api.listRuns(normalized, { signal }), options.query));
    },
    runStore(runId) {
      return runs.get(runId, () => new QueryStore((signal) => api.getRun(runId, { signal }), options.query));
    },
    jobStream(jobId) {
      return streams.get(jobId, () => new JobStreamStore(jobId, jobEventsUrl(jobId), transport, options.stream, onJobTerminal));
    },
    invalidate,
  };
}
