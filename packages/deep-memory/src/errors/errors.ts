/**
 * Every error the SDK throws on purpose is a DeepMemoryError with a string
 * `code`. Hosts switch on `code` (or `DeepMemoryError.isInstance`), never on
 * messages; `httpStatusFor` maps codes to HTTP status in one table.
 *
 * The base class, the codes and the errors the engine throws too
 * (ValidationError, TrainingFailedError, AbortedError) are the engine's, so
 * each is defined once and an engine error is an instance of the core's class.
 */
import { AbortedError, DeepMemoryError, type DeepMemoryErrorOptions } from "@zip/deep-memory-engine";

export {
  AbortedError,
  DeepMemoryError,
  TrainingFailedError,
  ValidationError,
  type DeepMemoryErrorOptions,
  type ErrorCode,
  type FieldIssue,
} from "@zip/deep-memory-engine";

export class UnauthorizedError extends DeepMemoryError {
  static override readonly brand: string = "UnauthorizedError";
  constructor(message = "Authentication required", options: DeepMemoryErrorOptions = {}) {
    super("UNAUTHORIZED", message, options);
  }
}

/** Also used for resources of another user, so their existence never leaks. */
export class NotFoundError extends DeepMemoryError {
  static override readonly brand: string = "NotFoundError";
  constructor(resource: "run" | "job" | "run or job" | "model" | "chunk", id: string) {
    super("NOT_FOUND", `No ${resource} with id ${JSON.stringify(id)}`, { details: { resource, id } });
  }
}

export class RunAlreadyActiveError extends DeepMemoryError {
  static override readonly brand: string = "RunAlreadyActiveError";
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
  static override readonly brand: string = "NothingToGenerateError";
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
  static override readonly brand: string = "InvalidRunStateError";
  constructor(runId: string, status: string, expected: readonly string[], action: string) {
    super(
      "INVALID_RUN_STATE",
      `Cannot ${action} run ${runId}: its status is "${status}", expected ${expected.map((s) => `"${s}"`).join(" or ")}`,
      { details: { runId, status, expected: [...expected] } },
    );
  }
}

export class NoTrainedModelError extends DeepMemoryError {
  static override readonly brand: string = "NoTrainedModelError";
  constructor(reason: string) {
    super("NO_TRAINED_MODEL", reason);
  }
}

/** The bytes given as a model file are not a complete, undamaged deep-memory model file. */
export class ModelFileInvalidError extends DeepMemoryError {
  static override readonly brand: string = "ModelFileInvalidError";
  constructor(message: string, options: DeepMemoryErrorOptions = {}) {
    super("MODEL_FILE_INVALID", message, options);
  }
}

/**
 * A model that cannot be applied here: trained on another embedding model's
 * vectors, for another dimension, or by an engine this trainer does not run.
 * Applying it would search with meaningless vectors, so it is refused.
 */
export class ModelIncompatibleError extends DeepMemoryError {
  static override readonly brand: string = "ModelIncompatibleError";
  constructor(message: string, details: { field: "embeddingModel" | "dimensions" | "engine" | "format"; expected: string | number; actual: string | number }) {
    super("MODEL_INCOMPATIBLE", message, { details });
  }
}

/** A provider (LLM, embeddings, vector database) answered with an error. */
export class UpstreamError extends DeepMemoryError {
  static override readonly brand: string = "UpstreamError";
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
  static override readonly brand: string = "GenerationOutputError";
  constructor(message: string, options: DeepMemoryErrorOptions = {}) {
    super("GENERATION_OUTPUT_INVALID", message, options);
  }
}

export class StoreError extends DeepMemoryError {
  static override readonly brand: string = "StoreError";
  constructor(message: string, options: DeepMemoryErrorOptions = {}) {
    super("STORE_FAILED", message, options);
  }
}

/** Normalises anything thrown into a DeepMemoryError, once, at the boundary. */
export function toDeepMemoryError(error: unknown): DeepMemoryError {
  if (DeepMemoryError.isInstance(error)) return error;
  if (error instanceof Error && error.name === "AbortError") return new AbortedError(error.message);
  const message = error instanceof Error ? error.message : String(error);
  return new DeepMemoryError("INTERNAL", message, { cause: error });
}
