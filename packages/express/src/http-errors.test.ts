import {
  DeepMemoryError,
  GenerationOutputError,
  InvalidRunStateError,
  NotFoundError,
  RunAlreadyActiveError,
  StoreError,
  UpstreamError,
  ValidationError,
} from "@zip/deep-memory";
import { describe, expect, it } from "vitest";
import { toHttpError } from "./index.js";

describe("toHttpError", () => {
  it("maps typed errors through the core table, with details in wire case", () => {
    expect(toHttpError(new NotFoundError("run", "r1"))).toEqual({
      status: 404,
      body: { error: { code: "NOT_FOUND", message: 'No run with id "r1"', details: { resource: "run", id: "r1" } } },
    });
    expect(toHttpError(new RunAlreadyActiveError("r1", "generating")).body.error.details).toEqual({ training_run_id: "r1", status: "generating" });
    expect(toHttpError(new InvalidRunStateError("r1", "completed", ["generated"], "train")).status).toBe(409);
    expect(toHttpError(new ValidationError("bad", [{ path: "k", message: "too big" }]))).toMatchObject({
      status: 400,
      body: { error: { code: "VALIDATION_FAILED", details: { issues: [{ path: "k", message: "too big" }] } } },
    });
  });

  it("adds Retry-After to a 429 when the provider said how long to wait", () => {
    const limited = toHttpError(new UpstreamError("openai", "Rate limit reached for gpt-4o", { status: 429, retryable: true, retryAfterMs: 2500 }));
    expect(limited).toMatchObject({ status: 429, headers: { "retry-after": "3" }, body: { error: { code: "RATE_LIMITED" } } });
  });

  it("says nothing of the failure in 5xx bodies", () => {
    const cases = [
      new UpstreamError("openai", "500 from https://api.openai.com/v1 org-secret", { status: 500, retryable: true }),
      new GenerationOutputError("model said: <internal prompt>"),
      new StoreError("relation deep_memory_runs: permission denied for user svc_admin"),
      new DeepMemoryError("INTERNAL", "TypeError at /srv/app/node_modules/x.js:10"),
      new Error("plain error with /etc/passwd"),
      "a thrown string",
    ];
    for (const error of cases) {
      const http = toHttpError(error);
      expect(http.status).toBeGreaterThanOrEqual(500);
      expect(Object.keys(http.body.error).sort()).toEqual(["code", "message"]);
      expect(http.body.error.message).not.toMatch(/secret|prompt|svc_admin|node_modules|passwd|string/);
    }
    expect(toHttpError(cases[0]).status).toBe(502);
  });
});
