/**
 * Bumped on any change to the wire format that an older client could
 * misread. Servers send it on every response; clients may check it.
 */
export const PROTOCOL_VERSION = "1";

export const PROTOCOL_VERSION_HEADER = "x-deep-memory-protocol";

/** Headers of every JSON response; the data is per user, so no cache may keep it. */
export const JSON_RESPONSE_HEADERS = {
  "content-type": "application/json; charset=utf-8",
  "cache-control": "no-store",
  [PROTOCOL_VERSION_HEADER]: PROTOCOL_VERSION,
} as const;

/**
 * Headers of the job event stream. `no-transform` and `x-accel-buffering: no`
 * keep proxies (nginx, CDNs) and compression from holding events back.
 */
export const SSE_RESPONSE_HEADERS = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache, no-transform",
  "x-accel-buffering": "no",
  [PROTOCOL_VERSION_HEADER]: PROTOCOL_VERSION,
} as const;

/** Defaults servers use for the stream; clients may rely on a heartbeat at least this often. */
export const DEFAULT_HEARTBEAT_MS = 15_000;
export const DEFAULT_RETRY_MS = 3_000;
