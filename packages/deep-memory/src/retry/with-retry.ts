import pRetry from "p-retry";
import { AbortedError, DeepMemoryError, UpstreamError } from "../errors/errors.js";

export interface RetryInfo {
  /** The attempt that just failed, counting from 1. */
  attempt: number;
  /** How long we wait before the next attempt. */
  delayMs: number;
  error: DeepMemoryError;
}

export interface RetryOptions {
  /** Retries after the first attempt: `retries: 3` makes at most 4 attempts. */
  retries: number;
  /** Backoff before the first retry; doubles on each further retry. */
  minDelayMs: number;
  /** Cap on the computed backoff. A longer Retry-After from the provider still wins (up to 5 minutes). */
  maxDelayMs: number;
  signal?: AbortSignal;
  onRetry?: (info: RetryInfo) => void;
}

/**
 * Longest wait we accept from a Retry-After header. A provider asking for
 * longer is treated as asking for this, so a misconfigured proxy cannot park
 * a job for an hour; the next attempt will tell us again if it still means it.
 */
export const MAX_RETRY_AFTER_MS = 5 * 60_000;

/**
 * Runs `fn` until it succeeds, retrying only `UpstreamError`s marked
 * `retryable` (rate limits, 5xx, timeouts, dropped connections). Anything
 * else is thrown at once. The wait is exponential backoff with jitter, and
 * never shorter than the provider's `retryAfterMs`. Aborting `signal` stops
 * a wait immediately and throws `AbortedError`.
 *
 * p-retry drives the attempts; we set its own backoff to zero and wait in
 * `onFailedAttempt`, because its delay cannot depend on the error (Retry-After).
 */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const { retries, minDelayMs, maxDelayMs, signal, onRetry } = options;
  if (!Number.isInteger(retries) || retries < 0) throw new RangeError(`retries must be an integer >= 0, got ${retries}`);
  if (!(minDelayMs >= 0) || !(maxDelayMs >= minDelayMs)) {
    throw new RangeError(`Expected 0 <= minDelayMs <= maxDelayMs, got ${minDelayMs} and ${maxDelayMs}`);
  }
  if (signal?.aborted) throw new AbortedError();

  try {
    return await pRetry(fn, {
      retries,
      minTimeout: 0,
      factor: 1,
      signal,
      onFailedAttempt: async ({ error, attemptNumber, retriesLeft }) => {
        if (signal?.aborted) throw new AbortedError();
        // Throwing here ends p-retry with this error, unchanged.
        if (!isRetryable(error)) throw error;
        if (retriesLeft <= 0) throw exhausted(error, attemptNumber);
        const delayMs = retryDelayMs(attemptNumber, error.retryAfterMs, minDelayMs, maxDelayMs);
        onRetry?.({ attempt: attemptNumber, delayMs, error });
        await sleep(delayMs, signal);
      },
    });
  } catch (error) {
    // p-retry rethrows the signal's reason (a DOMException) when aborted between attempts.
    if (signal?.aborted && !(error instanceof AbortedError)) throw new AbortedError();
    throw error;
  }
}

/**
 * Equal jitter: half the exponential backoff is fixed, half random, so
 * parallel callers spread out yet each still waits a predictable minimum.
 */
export function retryDelayMs(
  attempt: number,
  retryAfterMs: number | undefined,
  minDelayMs: number,
  maxDelayMs: number,
  random: () => number = Math.random,
): number {
  const backoff = Math.min(maxDelayMs, minDelayMs * 2 ** (attempt - 1));
  const jittered = Math.round(backoff / 2 + random() * (backoff / 2));
  if (retryAfterMs === undefined) return jittered;
  return Math.max(jittered, Math.min(Math.ceil(retryAfterMs), MAX_RETRY_AFTER_MS));
}

/** `isInstance` rather than `instanceof`, so errors from a second installed copy of the SDK count too. */
function isRetryable(error: unknown): error is UpstreamError {
  return DeepMemoryError.isInstance(error) && (error as Partial<UpstreamError>).retryable === true;
}

function exhausted(last: UpstreamError, attempts: number): UpstreamError {
  return new UpstreamError(
    last.provider,
    `${last.message} (gave up after ${attempts} attempt${attempts === 1 ? "" : "s"})`,
    { status: last.status, retryable: last.retryable, retryAfterMs: last.retryAfterMs, cause: last },
  );
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new AbortedError());
    const onAbort = () => {
      clearTimeout(timer);
      reject(new AbortedError());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
