import { errorBodySchema, fieldIssueSchema, type FieldIssueWire } from "@zip/deep-memory-protocol";

const marker = Symbol.for("@zip/deep-memory-react/client-error");

/**
 * Codes the client raises itself, next to the server's (`RUN_ALREADY_ACTIVE`,
 * `NO_TRAINED_MODEL`, ...) which arrive in the error body.
 */
export type ClientErrorCode =
  /** fetch itself failed: offline, DNS, CORS, connection reset. */
  | "NETWORK_ERROR"
  /** The server answered with something that is not the protocol's shape. */
  | "INVALID_RESPONSE"
  /** The request was aborted through its signal. */
  | "ABORTED"
  /** The request failed the protocol's request schema before it was sent. */
  | "VALIDATION_FAILED"
  /** The `headers` function threw (no session to take a token from, say); the cause is attached. */
  | "HEADERS_FAILED";

export interface DeepMemoryClientErrorInit {
  /** HTTP status; null when no response came back (network, abort, client-side validation). */
  status: number | null;
  /** The server's machine-readable code, or a {@link ClientErrorCode}. */
  code: string;
  message: string;
  details?: Record<string, unknown> | undefined;
  /** From the response's Retry-After header. */
  retryAfterMs?: number | null | undefined;
  cause?: unknown;
}

/**
 * Every failure of the client. Switch on `code` (stable), not on `message`
 * (for people). `details` is the server's, e.g. `details.issues` for
 * validation errors, also available as `issues`.
 */
export class DeepMemoryClientError extends Error {
  readonly [marker] = true;
  readonly status: number | null;
  readonly code: string;
  readonly details: Record<string, unknown> | undefined;
  /**
   * When trying again may succeed, from the server's Retry-After (a 409 while
   * another job holds the run, a 429); null when the server did not say.
   */
  readonly retryAfterMs: number | null;

  constructor(init: DeepMemoryClientErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = "DeepMemoryClientError";
    this.status = init.status;
    this.code = init.code;
    this.details = init.details;
    this.retryAfterMs = init.retryAfterMs ?? null;
  }

  /** Field errors of a `VALIDATION_FAILED` error (server- or client-side); empty otherwise. */
  get issues(): FieldIssueWire[] {
    const parsed = fieldIssueSchema.array().safeParse(this.details?.issues);
    return parsed.success ? parsed.data : [];
  }

  /** Works across two copies of the package (e.g. the `/client` entry and the main one), unlike `instanceof`. */
  static isInstance(value: unknown): value is DeepMemoryClientError {
    return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[marker] === true;
  }
}

/** The typed error for a non-2xx response, from its error body when it has the protocol's shape. */
export async function errorFromResponse(response: Response): Promise<DeepMemoryClientError> {
  const text = await response.text().catch(() => "");
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const parsed = errorBodySchema.safeParse(body);
  const retryAfterMs = parseRetryAfter(response.headers.get("retry-after"));
  if (parsed.success) {
    const { code, message, details } = parsed.data.error;
    return new DeepMemoryClientError({ status: response.status, code, message, details, retryAfterMs });
  }
  return new DeepMemoryClientError({
    status: response.status,
    // Not our server (a proxy's HTML page, say): the status is all there is to go on.
    code: "INVALID_RESPONSE",
    message: `Request failed with status ${response.status}${response.statusText ? ` ${response.statusText}` : ""}`,
  });
}

/** Retry-After as milliseconds: delay-seconds or an HTTP date; null when absent or unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | null {
  if (value === null || value.trim() === "") return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}

export function isAbortError(error: unknown): boolean {
  return (
    (typeof error === "object" && error !== null && (error as { name?: unknown }).name === "AbortError") ||
    (DeepMemoryClientError.isInstance(error) && error.code === "ABORTED")
  );
}

/** Anything thrown while talking to the server, as a DeepMemoryClientError. */
export function toClientError(error: unknown): DeepMemoryClientError {
  if (DeepMemoryClientError.isInstance(error)) return error;
  if (isAbortError(error)) return new DeepMemoryClientError({ status: null, code: "ABORTED", message: "The request was aborted", cause: error });
  const message = error instanceof Error ? error.message : String(error);
  return new DeepMemoryClientError({ status: null, code: "NETWORK_ERROR", message: `Could not reach the server: ${message}`, cause: error });
}
