import { describe, expect, it } from "vitest";
import * as z from "zod";
import * as errors from "./errors.js";
import { DeepMemoryError, NotFoundError, RunAlreadyActiveError, toDeepMemoryError, UnauthorizedError, UpstreamError, ValidationError } from "./errors.js";
import { httpStatusFor } from "./http-status.js";
import { parseOrThrow } from "./validation.js";

describe("errors", () => {
  it("carry a string code that maps to one HTTP status", () => {
    expect(httpStatusFor(new ValidationError("bad").code)).toBe(400);
    expect(httpStatusFor(new NotFoundError("run", "x").code)).toBe(404);
    expect(httpStatusFor(new RunAlreadyActiveError("r", "generating").code)).toBe(409);
    expect(httpStatusFor(new UpstreamError("openai", "slow down", { status: 429, retryable: true }).code)).toBe(429);
    expect(httpStatusFor(new UpstreamError("openai", "down", { status: 503, retryable: true }).code)).toBe(502);
  });

  it("are recognised across package copies by a global marker, not instanceof", () => {
    const foreign = Object.assign(new Error("x"), { [Symbol.for("@zip/deep-memory/error")]: true, code: "NOT_FOUND" });
    expect(DeepMemoryError.isInstance(foreign)).toBe(true);
    expect(DeepMemoryError.isInstance(new Error("x"))).toBe(false);
    expect(new NotFoundError("job", "j").name).toBe("NotFoundError");
  });

  it("each class recognises only its own errors and its subclasses' errors", () => {
    const notFound = new NotFoundError("run", "r");
    expect(UnauthorizedError.isInstance(notFound)).toBe(false);
    expect(NotFoundError.isInstance(notFound)).toBe(true);
    expect(DeepMemoryError.isInstance(notFound)).toBe(true);
    expect(UnauthorizedError.isInstance(new UnauthorizedError())).toBe(true);
    // A subclass of a subclass is still an instance of its ancestors.
    class ExpiredSession extends UnauthorizedError {
      static override readonly brand: string = "ExpiredSession";
    }
    expect(UnauthorizedError.isInstance(new ExpiredSession())).toBe(true);
    expect(ExpiredSession.isInstance(new UnauthorizedError())).toBe(false);
    // From a second copy of the package: the brands travel on the error, not the class identity.
    const foreign = Object.assign(new Error("x"), {
      [Symbol.for("@zip/deep-memory/error")]: true,
      [Symbol.for("@zip/deep-memory/error-brands")]: ["NotFoundError", "DeepMemoryError"],
      code: "NOT_FOUND",
    });
    expect(NotFoundError.isInstance(foreign)).toBe(true);
    expect(UnauthorizedError.isInstance(foreign)).toBe(false);
  });

  it("every error class declares a brand of its own", () => {
    const classes = Object.values(errors).filter(
      (value): value is typeof DeepMemoryError => typeof value === "function" && (value === DeepMemoryError || value.prototype instanceof DeepMemoryError),
    );
    expect(classes.length).toBeGreaterThan(10);
    for (const cls of classes) expect(Object.hasOwn(cls, "brand"), cls.name).toBe(true);
    expect(new Set(classes.map((cls) => cls.brand)).size).toBe(classes.length);
  });

  it("normalise anything thrown once", () => {
    expect(toDeepMemoryError("boom")).toMatchObject({ code: "INTERNAL", message: "boom" });
    expect(toDeepMemoryError(Object.assign(new Error("stop"), { name: "AbortError" }))).toMatchObject({ code: "ABORTED" });
    const e = new NotFoundError("run", "r");
    expect(toDeepMemoryError(e)).toBe(e);
  });

  it("parseOrThrow lists every failing field", () => {
    const schema = z.object({ a: z.number(), b: z.object({ c: z.string() }) }).strict();
    try {
      parseOrThrow(schema, { a: "x", b: { c: 1 }, extra: true }, "thing");
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationError);
      const paths = (error as ValidationError).issues.map((i) => i.path).sort();
      expect(paths).toEqual(["(root)", "a", "b.c"]);
      expect((error as ValidationError).message).toMatch(/^Invalid thing: /);
    }
  });
});
