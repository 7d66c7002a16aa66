import type { DeepMemoryTrainer } from "@zip/deep-memory";
import { DEFAULT_HEARTBEAT_MS, DEFAULT_RETRY_MS, type OpenApiOptions } from "@zip/deep-memory-protocol";
import { httpError, type HttpError } from "./http-errors.js";
import type { IdempotencyOptions } from "./idempotency.js";

/** The trainer methods the routes call; a `DeepMemoryTrainer` has them all. */
export type DeepMemoryTrainerApi = Pick<
  DeepMemoryTrainer,
  | "generate"
  | "train"
  | "cancel"
  | "importPairs"
  | "listRuns"
  | "getRun"
  | "getRunSummary"
  | "getStatus"
  | "getSettings"
  | "updateSettings"
  | "compareSearch"
  | "subscribe"
  | "getJob"
  | "options"
> &
  // With a shared job event log (sharesJobEvents), the stream reads any replica's job through these.
  Partial<Pick<DeepMemoryTrainer, "sharesJobEvents" | "findJob" | "jobEvents">>;

/**
 * Who is calling. The only source of identity: a `user_id` in a body or query
 * is rejected, never used. Return null (or throw) for an unauthenticated
 * request; the route answers 401.
 */
export type GetUserIdFromRequest = (request: Request) => string | null | undefined | Promise<string | null | undefined>;

export interface JobEventsHandlerOptions {
  trainer: DeepMemoryTrainerApi;
  getUserId: GetUserIdFromRequest;
  /**
   * Where the routes are mounted (the path before `/generate`, `/runs`...).
   * Default "/v1/api/deep-memory". A mount that knows it per request (the
   * Express shim) passes it to the handler instead.
   */
  basePath?: string;
  /** Comment lines on the event stream this often, so proxies keep it open. Default 15 s. */
  heartbeatMs?: number;
  /** Reconnect delay advised to EventSource clients (`retry:`). Default 3 s. */
  retryMs?: number;
  /**
   * Bytes an event stream may have queued for a client that does not read;
   * past it the stream is closed and the client resumes with Last-Event-ID.
   * Default 1 MiB.
   */
  maxBufferedBytes?: number;
  /** Called with every error that answers 5xx (the body says nothing about it). Default: console.error. */
  onError?: (error: unknown, request: Request) => void;
}

export interface DeepMemoryHandlerOptions extends JobEventsHandlerOptions {
  /** Largest JSON body accepted, in bytes (after decompression). Default 1 MiB. */
  bodyLimit?: number;
  /**
   * Where the job event routes are served when apart from the others (the
   * plan's "/v1/api/events"). Used for the `events_url` of 202 responses and
   * the OpenAPI document. By default events are served under `<base>/events`.
   */
  eventsBasePath?: string;
  /** Also serve GET <base>/events/stream/{jobId}. Default true. */
  serveEvents?: boolean;
  /** Serve the OpenAPI document at GET <base>/openapi.json (no auth). Default true. */
  openApi?: boolean | Omit<OpenApiOptions, "basePath" | "eventsBasePath">;
  /**
   * `Idempotency-Key` on POST requests: the same key (per user) with the same
   * request replays the first answer; with another request it is a 422.
   * Answers are kept in this process's memory (default 24 h, 10,000 keys).
   * `false` ignores the header. Default on.
   */
  idempotency?: boolean | IdempotencyOptions;
}

export interface ResolvedContext {
  trainer: DeepMemoryTrainerApi;
  getUserId: GetUserIdFromRequest;
  basePath: string;
  heartbeatMs: number;
  retryMs: number;
  maxBufferedBytes: number;
  onError: (error: unknown, request: Request) => void;
}

export function resolveContext(options: JobEventsHandlerOptions, defaultBase = "/v1/api/deep-memory"): ResolvedContext {
  if (typeof options?.getUserId !== "function") throw new TypeError("getUserId must be a function (request) => userId");
  if (typeof options.trainer?.subscribe !== "function") throw new TypeError("trainer must be a DeepMemoryTrainer");
  return {
    trainer: options.trainer,
    getUserId: options.getUserId,
    basePath: trimSlash(options.basePath ?? defaultBase),
    heartbeatMs: positive(options.heartbeatMs, DEFAULT_HEARTBEAT_MS, "heartbeatMs"),
    retryMs: positive(options.retryMs, DEFAULT_RETRY_MS, "retryMs"),
    maxBufferedBytes: positive(options.maxBufferedBytes, 1024 * 1024, "maxBufferedBytes"),
    onError: options.onError ?? ((error) => console.error("[deep-memory-server]", error)),
  };
}

export function trimSlash(path: string): string {
  return path.replace(/\/+$/, "");
}

export function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) throw new TypeError(`${name} must be a positive number`);
  return value;
}

/** The caller's user id, or the 401 to answer. */
export async function authenticate(ctx: ResolvedContext, request: Request): Promise<string | HttpError> {
  let userId: unknown;
  try {
    userId = await ctx.getUserId(request);
  } catch (error) {
    // The auth layer's own words are safe to show only when it threw an UNAUTHORIZED error on purpose.
    const message =
      typeof error === "object" && error !== null && (error as { code?: unknown }).code === "UNAUTHORIZED" && error instanceof Error
        ? error.message
        : "Authentication required";
    return httpError("UNAUTHORIZED", message);
  }
  if (typeof userId !== "string" || userId.trim() === "" || userId.length > 256) return httpError("UNAUTHORIZED", "Authentication required");
  return userId;
}
