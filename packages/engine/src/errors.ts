/**
 * The errors every deep-memory package throws are one family: a
 * DeepMemoryError with a string `code`, recognised by `isInstance` across
 * installed copies. The family's base and the classes the engine throws
 * live here, at the bottom of the dependency graph (the engine cannot import
 * @zip/deep-memory, which depends on it); @zip/deep-memory re-exports them
 * and adds the rest (NotFoundError, UpstreamError, ...), and maps codes to
 * HTTP status in one table.
 */
import type { z } from "zod";

const marker = Symbol.for("@zip/deep-memory/error");
const brandsKey = Symbol.for("@zip/deep-memory/error-brands");

/** Every code a deep-memory error carries (the engine throws VALIDATION_FAILED, TRAINING_FAILED and ABORTED). */
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
  /** A model file that is damaged, truncated or not a deep-memory model file. */
  | "MODEL_FILE_INVALID"
  /** A model made for another embedding model, dimension or engine than this trainer's. */
  | "MODEL_INCOMPATIBLE"
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

/**
 * Every error the SDK throws on purpose. `isInstance` checks a global marker
 * and the brands of the classes the error was made by, not the prototype
 * chain, so it holds also for an error from a second installed copy.
 */
export class DeepMemoryError extends Error {
  /** Names the class across installed copies (and survives minified class names); every subclass declares its own. */
  static readonly brand: string = "DeepMemoryError";
  readonly [marker] = true;
  readonly [brandsKey]: readonly string[];
  readonly code: ErrorCode;
  /** Safe to show to the API caller; never contains stacks or secrets. */
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: DeepMemoryErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.details = options.details;
    const brands: string[] = [];
    for (let c: unknown = new.target; typeof c === "function" && c !== Error; c = Object.getPrototypeOf(c)) {
      if (Object.hasOwn(c, "brand")) brands.push((c as unknown as { brand: string }).brand);
    }
    this[brandsKey] = brands;
  }

  /**
   * True for an error of this class or a subclass, also from a second
   * installed copy (where `instanceof` fails): `NotFoundError.isInstance(e)`
   * is false for any other error class.
   */
  static isInstance<T extends DeepMemoryError>(this: { readonly brand: string; readonly prototype: T }, value: unknown): value is T {
    if (typeof value !== "object" || value === null || (value as Record<symbol, unknown>)[marker] !== true) return false;
    if (this.brand === DeepMemoryError.brand) return true;
    const brands = (value as Record<symbol, unknown>)[brandsKey];
    return Array.isArray(brands) && brands.includes(this.brand);
  }
}

export interface FieldIssue {
  path: string;
  message: string;
}

export class ValidationError extends DeepMemoryError {
  static override readonly brand: string = "ValidationError";
  readonly issues: FieldIssue[];
  constructor(message: string, issues: FieldIssue[] = [], options: DeepMemoryErrorOptions = {}) {
    super("VALIDATION_FAILED", message, { ...options, details: { issues, ...options.details } });
    this.issues = issues;
  }
}

export class TrainingFailedError extends DeepMemoryError {
  static override readonly brand: string = "TrainingFailedError";
  constructor(message: string, options: DeepMemoryErrorOptions = {}) {
    super("TRAINING_FAILED", message, options);
  }
}

export class AbortedError extends DeepMemoryError {
  static override readonly brand: string = "AbortedError";
  constructor(message = "The operation was aborted") {
    super("ABORTED", message);
  }
}

/** Parses with a zod schema, turning failures into one ValidationError listing every field. */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => ({ path: issue.path.map(String).join(".") || "(root)", message: issue.message }));
  throw new ValidationError(`Invalid ${what}: ${issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`, issues);
}
