import type { DeepMemoryTrainer } from "@zip/deep-memory";
import { DEFAULT_HEARTBEAT_MS, DEFAULT_RETRY_MS } from "@zip/deep-memory-protocol";
import type { Request } from "express";
import { httpError, type HttpError } from "./http-errors.js";

/** The trainer methods the routes call; a `DeepMemoryTrainer` has them all. */
export type DeepMemoryTrainerApi = Pick<
  DeepMemoryTrainer,
  | "generate"
  | "train"
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
>;

/**
 * Who is calling. The only source of identity: a `user_id` in a body or query
 * is rejected, never used. Return null (or throw) for an unauthenticated
 * request; the route answers 401.
 */
export type GetUserId = (req: Request) => string | null | undefined | Promise<string | null | undefined>;

export interface JobEventsOptions {
  trainer: DeepMemoryTrainerApi;
  getUserId: GetUserId;
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
  onError?: (error: unknown, req: Request) => void;
}

export interface ResolvedContext {
  trainer: DeepMemoryTrainerApi;
  getUserId: GetUserId;
  heartbeatMs: number;
  retryMs: number;
  maxBufferedBytes: number;
  onError: (error: unknown, req: Request) => void;
}

export function resolveContext(options: JobEventsOptions): ResolvedContext {
  if (typeof options?.getUserId !== "function") throw new TypeError("getUserId must be a function (req) => userId");
  if (typeof options.trainer?.subscribe !== "function") throw new TypeError("trainer must be a DeepMemoryTrainer");
  return {
    trainer: options.trainer,
    getUserId: options.getUserId,
    heartbeatMs: positive(options.heartbeatMs, DEFAULT_HEARTBEAT_MS, "heartbeatMs"),
    retryMs: positive(options.retryMs, DEFAULT_RETRY_MS, "retryMs"),
    maxBufferedBytes: positive(options.maxBufferedBytes, 1024 * 1024, "maxBufferedBytes"),
    onError: options.onError ?? ((error) => console.error("[deep-memory-express]", error)),
  };
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) throw new TypeError(`${name} must be a positive number`);
  return value;
}

/** The caller's user id, or the 401 to answer. */
export async function authenticate(ctx: ResolvedContext, req: Request): Promise<string | HttpError> {
  let userId: unknown;
  try {
    userId = await ctx.getUserId(req);
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
