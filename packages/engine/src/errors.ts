/**
 * The errors the engine throws. The engine cannot import @zip/deep-memory
 * (the core depends on it), so these carry the core's cross-copy brand: the
 * same marker symbol, codes and brand names as the core's classes, so
 * `ValidationError.isInstance(error)` and `error.code` from
 * @zip/deep-memory hold for them, and servers map them to HTTP status
 * like any other deep-memory error (tested in errors.test.ts).
 */
import type { z } from "zod";

const marker = Symbol.for("@zip/deep-memory/error");
const brandsKey = Symbol.for("@zip/deep-memory/error-brands");

/** The codes the engine throws; a subset of the core's ErrorCode. */
export type EngineErrorCode = "VALIDATION_FAILED" | "TRAINING_FAILED" | "ABORTED";

/**
 * The brand every deep-memory error carries, whichever package or installed
 * copy threw it: `isInstance` checks the marker and the class brands, not the
 * prototype chain. @zip/deep-memory's DeepMemoryError extends this class with
 * its own codes; the engine's errors below extend it with theirs.
 */
export class BrandedError<C extends string = string> extends Error {
  /** Names the class across installed copies (and survives minified class names); every subclass declares its own. */
  static readonly brand: string = "DeepMemoryError";
  readonly [marker] = true;
  readonly [brandsKey]: readonly string[];
  readonly code: C;
  /** Safe to show to the API caller; never contains stacks or secrets. */
  readonly details: Record<string, unknown> | undefined;

  constructor(code: C, message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
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
  static isInstance<T extends BrandedError>(this: { readonly brand: string; readonly prototype: T }, value: unknown): value is T {
    if (typeof value !== "object" || value === null || (value as Record<symbol, unknown>)[marker] !== true) return false;
    if (this.brand === BrandedError.brand) return true;
    const brands = (value as Record<symbol, unknown>)[brandsKey];
    return Array.isArray(brands) && brands.includes(this.brand);
  }
}

/** The engine's base error: a BrandedError with the engine's codes. */
export class DeepMemoryError extends BrandedError<EngineErrorCode> {}

export interface FieldIssue {
  path: string;
  message: string;
}

export class ValidationError extends DeepMemoryError {
  static override readonly brand: string = "ValidationError";
  readonly issues: FieldIssue[];
  constructor(message: string, issues: FieldIssue[] = []) {
    super("VALIDATION_FAILED", message, { details: { issues } });
    this.issues = issues;
  }
}

export class TrainingFailedError extends DeepMemoryError {
  static override readonly brand: string = "TrainingFailedError";
  constructor(message: string) {
    super("TRAINING_FAILED", message);
  }
}

export class AbortedError extends DeepMemoryError {
  static override readonly brand: string = "AbortedError";
  constructor(message = "The operation was aborted") {
    super("ABORTED", message);
  }
}

/** Parses with a zod schema, turning failures into one ValidationError listing every field (as the core's parseOrThrow). */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => ({ path: issue.path.map(String).join(".") || "(root)", message: issue.message }));
  throw new ValidationError(`Invalid ${what}: ${issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`, issues);
}
