/**
 * Every error the SDK throws on purpose is a DeepMemoryError with a string
 * `code`. Hosts switch on `code` (or `DeepMemoryError.isInstance`), never on
 * messages; `httpStatusFor` maps codes to HTTP status in one table.
 */
const marker = Symbol.for("@zip/deep-memory/error");

export type ErrorCode =
  | "VALIDATION_FAILED"
  /** HTTP-only: the request body is not valid JSON. */
  | "INVALID_JSON"
  /** HTTP-only: the request body is larger than the server accepts. */
  | "PAYLOAD_TOO_LARGE"
  /** HTTP-only: the request body is not JSON (or not UTF-8). */
  | "UNSUPPORTED_MEDIA_TYPE"
  /** HTTP-only: the route exists but not with this method (the `Allow` header lists those it has). */
  | "METHOD_NOT_ALLOWED"
  | "UNAUTHORIZED"
  | "NOT_FOUND"
  | "RUN_ALREADY_ACTIVE"
  /** generate found no chunk without training pairs: nothing was started. */
  | "NOTHING_TO_GENERATE"
  /** HTTP-only: an Idempotency-Key was reused with a different request. */
  | "IDEMPOTENCY_KEY_REUSED"
  | "INVALID_RUN_STATE"
  | "NO_TRAINED_MODEL"
  | "RATE_LIMITED"
  | "UPSTREAM_FAILED"
  | "GENERATION_OUTPUT_INVALID"
  | "TRAINING_FAILED"
  | "STORE_FAILED"
  | "ABORTED"
  | "INTERNAL";

export interface DeepMemoryErrorOptions {
  cause?: unknown;
  details?: Record<string, unknown>;
}

export class DeepMemoryError extends Error {
  readonly [marker] = true;
  readonly code: ErrorCode;
  /** Safe to show to the API caller; never contains stacks or secrets. */
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: DeepMemoryErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.details = options.details;
  }

  /** Works across two installed copies of the package, unlike `instanceof`. */
  static isInstance(value: unknown): value is DeepMemoryError {
    return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[marker] === true;
  }
}

export interface FieldIssue {
  path: string;
  message: string;
}

export class ValidationError extends DeepMemoryError {
  readonly issues: FieldIssue[];
  constructor(message: string, issues: FieldIssue[] = [], options: DeepMemoryErrorOptions = {}) {
    super("VALIDATION_FAILED", message, { ...options, details: { issues, ...options.details } });
    this.issues = issues;
  }
}

export class UnauthorizedError extends DeepMemoryError {
  constructor(message = "Authentication required", options: DeepMemoryErrorOptions = {}) {
    super("UNAUTHORIZED", message, options);
  }
}

/** Also used for resources of another user, so their existence never leaks. */
export class NotFoundError extends DeepMemoryError {
  constructor(resource: "run" | "job" | "run or job" | "model" | "chunk", id: string) {
    super("NOT_FOUND", `No ${resource} with id ${JSON.stringify(id)}`, { details: { resource, id } });
  }
}

export class RunAlreadyActiveError extends DeepMemoryError {
  readonly runId: string;
  /** When trying again may succeed: the holder's lease ends then, or its job may have finished. */
  readonly retryAfterMs: number | undefined;
  constructor(runId: string, status: string, options: { retryAfterMs?: number } = {}) {
    const retryAfterMs = options.retryAfterMs === undefined ? undefined : Math.max(1000, Math.ceil(options.retryAfterMs / 1000) * 1000);
    const when = retryAfterMs === undefined ? "wait for it to finish" : `try again in ${retryAfterMs / 1000} s`;
    super("RUN_ALREADY_ACTIVE", `A training run is already ${status} for this user (run ${runId}); ${when}`, {
      details: { runId, status, ...(retryAfterMs === undefined ? {} : { retryAfterSeconds: retryAfterMs / 1000 }) },
    });
    this.runId = runId;
    this.retryAfterMs = retryAfterMs;
  }
}

/** generate had nothing to do: every chunk already has pairs in a finished run. */
export class NothingToGenerateError extends DeepMemoryError {
  readonly runId: string | null;
  constructor(runId: string | null, status: string | null, chunkCount: number) {
    const which = runId ? ` (newest: run ${runId}, ${status})` : "";
    const next = status === "generated" ? "train that run" : "add chunks to the knowledge base, then generate again";
    super(
      "NOTHING_TO_GENERATE",
      chunkCount === 0
        ? "The knowledge base has no chunks to generate questions for"
        : `Every one of the ${chunkCount} chunks already has training pairs${which}: ${next}`,
      { details: { runId, status, chunkCount } },
    );
    this.runId = runId;
  }
}

export class InvalidRunStateError extends DeepMemoryError {
  constructor(runId: string, status: string, expected: readonly string[], action: string) {
    super(
      "INVALID_RUN_STATE",
      `Cannot ${action} run ${runId}: its status is "${status}", expected ${expected.map((s) => `"${s}"`).join(" or ")}`,
      { details: { runId, status, expected: [...expected] } },
    );
  }
}

export class NoTrainedModelError extends DeepMemoryError {
  constructor(reason: string) {
    super("NO_TRAINED_MODEL", reason);
  }
}

/** A provider (LLM, embeddings, vector database) answered with an error. */
export class UpstreamError extends DeepMemoryError {
  readonly status: number | undefined;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;
  readonly provider: string;
  constructor(
    provider: string,
    message: string,
    init: { status?: number; retryable: boolean; retryAfterMs?: number; cause?: unknown },
  ) {
    super(init.status === 429 ? "RATE_LIMITED" : "UPSTREAM_FAILED", message, {
      cause: init.cause,
      details: { provider, status: init.status },
    });
    this.provider = provider;
    this.status = init.status;
    this.retryable = init.retryable;
    this.retryAfterMs = init.retryAfterMs;
  }
}

/** The question generator answered, but not with usable questions. The chunk is retried, then skipped. */
export class GenerationOutputError extends DeepMemoryError {
  constructor(message: string, options: DeepMemoryErrorOptions = {}) {
    super("GENERATION_OUTPUT_INVALID", message, options);
  }
}

export class TrainingFailedError extends DeepMemoryError {
  constructor(message: string, options: DeepMemoryErrorOptions = {}) {
    super("TRAINING_FAILED", message, options);
  }
}

export class StoreError extends DeepMemoryError {
  constructor(message: string, options: DeepMemoryErrorOptions = {}) {
    super("STORE_FAILED", message, options);
  }
}

export class AbortedError extends DeepMemoryError {
  constructor(message = "The operation was aborted") {
    super("ABORTED", message);
  }
}

/** Normalises anything thrown into a DeepMemoryError, once, at the boundary. */
export function toDeepMemoryError(error: unknown): DeepMemoryError {
  if (DeepMemoryError.isInstance(error)) return error;
  if (error instanceof Error && error.name === "AbortError") return new AbortedError(error.message);
  const message = error instanceof Error ? error.message : String(error);
  return new DeepMemoryError("INTERNAL", message, { cause: error });
}
