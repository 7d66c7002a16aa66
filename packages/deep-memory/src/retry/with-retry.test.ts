import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { AbortedError, UpstreamError, ValidationError } from "../errors/errors.js";
import { MAX_RETRY_AFTER_MS, retryDelayMs, withRetry, type RetryInfo } from "./with-retry.js";

const rateLimited = (retryAfterMs?: number) =>
  new UpstreamError("openai", "OpenAI rate limit reached (429)", { status: 429, retryable: true, retryAfterMs });
const serverError = () => new UpstreamError("openai", "OpenAI server error (503)", { status: 503, retryable: true });

describe("withRetry", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  it("retries retryable upstream errors and returns the first success, passing the attempt number", async () => {
    const attempts: number[] = [];
    const retries: RetryInfo[] = [];
    const promise = withRetry(
      async (attempt) => {
        attempts.push(attempt);
        if (attempt < 3) throw serverError();
        return "ok";
      },
      { retries: 5, minDelayMs: 10, maxDelayMs: 100, onRetry: (info) => retries.push(info) },
    );
    await vi.runAllTimersAsync();
    await expect(promise).resolves.toBe("ok");
    expect(attempts).toEqual([1, 2, 3]);
    expect(retries.map((r) => r.attempt)).toEqual([1, 2]);
    expect(retries[0]!.error).toBeInstanceOf(UpstreamError);
  });

  it("waits at least the provider's Retry-After even when it exceeds maxDelayMs", async () => {
    const fn = vi.fn<(attempt: number) => Promise<string>>();
    fn.mockRejectedValueOnce(rateLimited(10_000)).mockResolvedValueOnce("ok");
    const delays: number[] = [];
    const promise = withRetry(fn, { retries: 3, minDelayMs: 10, maxDelayMs: 100, onRetry: (i) => delays.push(i.delayMs) });

    await vi.advanceTimersByTimeAsync(9_999);
    expect(fn).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1);
    await expect(promise).resolves.toBe("ok");
    expect(fn).toHaveBeenCalledTimes(2);
    expect(delays).toEqual([10_000]);
  });

  it("caps a huge Retry-After at five minutes", async () => {
    const fn = vi.fn<(attempt: number) => Promise<string>>();
    fn.mockRejectedValueOnce(rateLimited(3_600_000)).mockResolvedValueOnce("ok");
    const delays: number[] = [];
    const promise = withRetry(fn, { retries: 1, minDelayMs: 10, maxDelayMs: 100, onRetry: (i) => delays.push(i.delayMs) });
    await vi.advanceTimersByTimeAsync(MAX_RETRY_AFTER_MS);
    await expect(promise).resolves.toBe("ok");
    expect(delays).toEqual([MAX_RETRY_AFTER_MS]);
  });

  it("throws a non-retryable upstream error at once, unchanged", async () => {
    const unauthorized = new UpstreamError("openai", "OpenAI rejected the API key (401)", { status: 401, retryable: false });
    const fn = vi.fn(async () => {
      throw unauthorized;
    });
    await expect(withRetry(fn, { retries: 5, minDelayMs: 10, maxDelayMs: 100 })).rejects.toBe(unauthorized);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it("throws errors that are not upstream errors at once", async () => {
    const invalid = new ValidationError("bad input");
    const fn = vi.fn(async () => {
      throw invalid;
    });
    await expect(withRetry(fn, { retries: 5, minDelayMs: 10, maxDelayMs: 100 })).rejects.toBe(invalid);
    const bug = new TypeError("x is undefined");
    const buggy = vi.fn(async () => {
      throw bug;
    });
    await expect(withRetry(buggy, { retries: 5, minDelayMs: 10, maxDelayMs: 100 })).rejects.toBe(bug);
    expect(fn).toHaveBeenCalledTimes(1);
    expect(buggy).toHaveBeenCalledTimes(1);
  });

  it("after the last retry throws the last upstream error, saying how many attempts were made", async () => {
    const fn = vi.fn(async () => {
      throw serverError();
    });
    const promise = withRetry(fn, { retries: 2, minDelayMs: 10, maxDelayMs: 100 });
    const assertion = expect(promise).rejects.toSatisfy((error: unknown) => {
      expect(error).toBeInstanceOf(UpstreamError);
      const upstream = error as UpstreamError;
      expect(upstream.message).toMatch(/gave up after 3 attempts/);
      expect(upstream.status).toBe(503);
      expect(upstream.retryable).toBe(true);
      expect(upstream.cause).toBeInstanceOf(UpstreamError);
      return true;
    });
    await vi.runAllTimersAsync();
    await assertion;
    expect(fn).toHaveBeenCalledTimes(3);
  });

  it("with retries: 0 makes one attempt", async () => {
    const fn = vi.fn(async () => {
      throw serverError();
    });
    await expect(withRetry(fn, { retries: 0, minDelayMs: 10, maxDelayMs: 100 })).rejects.toThrow(/after 1 attempt\)/);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it("stops waiting as soon as the signal aborts and throws AbortedError", async () => {
    const controller = new AbortController();
    const fn = vi.fn(async () => {
      throw rateLimited(60_000);
    });
    const promise = withRetry(fn, { retries: 3, minDelayMs: 10, maxDelayMs: 100, signal: controller.signal });
    const assertion = expect(promise).rejects.toBeInstanceOf(AbortedError);
    await vi.advanceTimersByTimeAsync(1_000);
    controller.abort();
    await assertion;
    expect(fn).toHaveBeenCalledTimes(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("does not call fn when the signal is already aborted", async () => {
    const fn = vi.fn(async () => "ok");
    await expect(
      withRetry(fn, { retries: 3, minDelayMs: 10, maxDelayMs: 100, signal: AbortSignal.abort() }),
    ).rejects.toBeInstanceOf(AbortedError);
    expect(fn).not.toHaveBeenCalled();
  });
});

describe("retryDelayMs", () => {
  it("doubles per attempt up to maxDelayMs, with jitter between half and all of the backoff", () => {
    const low = () => 0;
    const high = () => 1;
    expect([1, 2, 3, 4, 5].map((a) => retryDelayMs(a, undefined, 100, 1_000, high))).toEqual([100, 200, 400, 800, 1_000]);
    expect([1, 2, 3, 4, 5].map((a) => retryDelayMs(a, undefined, 100, 1_000, low))).toEqual([50, 100, 200, 400, 500]);
  });

  it("uses Retry-After when longer than the backoff, and the backoff when longer than Retry-After", () => {
    expect(retryDelayMs(1, 5_000, 100, 1_000, () => 1)).toBe(5_000);
    expect(retryDelayMs(4, 10, 100, 1_000, () => 1)).toBe(800);
  });
});
