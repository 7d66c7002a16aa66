import {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
  OpenAIError,
} from "openai";
import { describe, expect, it } from "vitest";
import { AbortedError, UpstreamError, ValidationError } from "../../errors/errors.js";
import { parseRetryAfterMs } from "../../retry/retry-after.js";
import { mapOpenAIError } from "./openai-errors.js";

const context = { operation: "chat completion", timeoutMs: 1_000, baseURL: "https://api.openai.com/v1" };

function apiError(status: number, body: { message: string; code?: string | null; type?: string }, headers: Record<string, string> = {}) {
  return APIError.generate(status, { error: { param: null, type: "invalid_request_error", code: null, ...body } }, undefined, new Headers(headers));
}

function mapUpstream(error: unknown): UpstreamError {
  const mapped = mapOpenAIError(error, context);
  expect(mapped).toBeInstanceOf(UpstreamError);
  return mapped as UpstreamError;
}

describe("mapOpenAIError", () => {
  it.each([
    [429, true],
    [500, true],
    [502, true],
    [503, true],
    [408, true],
    [409, true],
    [400, false],
    [401, false],
    [403, false],
    [404, false],
    [422, false],
  ])("status %i is retryable: %s", (status, retryable) => {
    const mapped = mapUpstream(apiError(status, { message: "something" }));
    expect(mapped).toMatchObject({ status, retryable, provider: "openai" });
    expect(mapped.code).toBe(status === 429 ? "RATE_LIMITED" : "UPSTREAM_FAILED");
  });

  it("says what to fix for a rejected key, and quotes OpenAI without the SDK's status prefix", () => {
    const mapped = mapUpstream(apiError(401, { message: "Incorrect API key provided: sk-abc.", code: "invalid_api_key" }, { "x-request-id": "req_123" }));
    expect(mapped.message).toBe(
      "OpenAI rejected the API key (401) for the chat completion; check the apiKey option or OPENAI_API_KEY: Incorrect API key provided: sk-abc. [request req_123]",
    );
  });

  it("reads Retry-After into retryAfterMs", () => {
    const mapped = mapUpstream(apiError(429, { message: "Rate limit reached" }, { "retry-after": "3" }));
    expect(mapped.retryAfterMs).toBe(3_000);
  });

  it("does not retry a 429 that means the account is out of quota", () => {
    const mapped = mapUpstream(apiError(429, { message: "You exceeded your current quota", code: "insufficient_quota" }));
    expect(mapped.retryable).toBe(false);
    expect(mapped.message).toMatch(/no quota left/);
  });

  it("follows OpenAI's x-should-retry header over the status table", () => {
    expect(mapUpstream(apiError(400, { message: "x" }, { "x-should-retry": "true" })).retryable).toBe(true);
    expect(mapUpstream(apiError(500, { message: "x" }, { "x-should-retry": "false" })).retryable).toBe(false);
  });

  it("maps timeouts and connection errors to retryable errors without a status", () => {
    const timeout = mapUpstream(new APIConnectionTimeoutError());
    expect(timeout).toMatchObject({ retryable: true, status: undefined });
    expect(timeout.message).toBe("OpenAI did not answer the chat completion within 1000 ms (timed out)");

    const connection = mapUpstream(new APIConnectionError({ cause: new Error("getaddrinfo ENOTFOUND api.openai.com") }));
    expect(connection).toMatchObject({ retryable: true, status: undefined });
    expect(connection.message).toMatch(/Could not reach OpenAI at https:\/\/api.openai.com\/v1 .*ENOTFOUND/);
  });

  it("maps the caller's abort to AbortedError", () => {
    expect(mapOpenAIError(new APIUserAbortError(), context)).toBeInstanceOf(AbortedError);
    expect(mapOpenAIError(new DOMException("aborted", "AbortError"), context)).toBeInstanceOf(AbortedError);
  });

  it("recognises SDK errors from another installed copy by class name", () => {
    class ForeignTimeout extends Error {}
    Object.defineProperty(ForeignTimeout, "name", { value: "APIConnectionTimeoutError" });
    expect(mapUpstream(new ForeignTimeout("Request timed out.")).retryable).toBe(true);
  });

  it("passes our own errors through and wraps other SDK errors as non-retryable", () => {
    const ours = new ValidationError("bad");
    expect(mapOpenAIError(ours, context)).toBe(ours);
    expect(mapUpstream(new OpenAIError("Could not parse response content")).retryable).toBe(false);
    expect(mapOpenAIError(new Error("boom"), context).code).toBe("INTERNAL");
  });
});

describe("parseRetryAfterMs", () => {
  const now = Date.parse("2025-01-01T00:00:00Z");
  it("prefers retry-after-ms, then retry-after seconds, then an HTTP date", () => {
    expect(parseRetryAfterMs(new Headers({ "retry-after-ms": "250", "retry-after": "9" }), now)).toBe(250);
    expect(parseRetryAfterMs(new Headers({ "retry-after": "1.5" }), now)).toBe(1_500);
    expect(parseRetryAfterMs(new Headers({ "retry-after": "Wed, 01 Jan 2025 00:00:07 GMT" }), now)).toBe(7_000);
  });

  it("gives undefined for missing or unparseable headers, and 0 for a date in the past", () => {
    expect(parseRetryAfterMs(undefined, now)).toBeUndefined();
    expect(parseRetryAfterMs(new Headers(), now)).toBeUndefined();
    expect(parseRetryAfterMs(new Headers({ "retry-after": "soon" }), now)).toBeUndefined();
    expect(parseRetryAfterMs(new Headers({ "retry-after": "-5" }), now)).toBeUndefined();
    expect(parseRetryAfterMs(new Headers({ "retry-after-ms": "abc", "retry-after": "2" }), now)).toBe(2_000);
    expect(parseRetryAfterMs(new Headers({ "retry-after": "Tue, 31 Dec 2024 23:59:00 GMT" }), now)).toBe(0);
  });
});
