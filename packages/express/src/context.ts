import type { DeepMemoryTrainerApi } from "@zip/deep-memory-server";
import type { Request } from "express";

export type { DeepMemoryTrainerApi };

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
