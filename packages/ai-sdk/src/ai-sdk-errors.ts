import { AbortedError, DeepMemoryError, GenerationOutputError, UpstreamError } from "@zip/deep-memory";
import { parseRetryAfterMs, toDeepMemoryError } from "@zip/deep-memory/provider-utils";
import {
  APICallError,
  EmptyResponseBodyError,
  InvalidResponseDataError,
  JSONParseError,
  LoadAPIKeyError,
  NoContentGeneratedError,
  NoObjectGeneratedError,
  NoOutputGeneratedError,
  RetryError,
  TypeValidationError,
} from "ai";

export interface AiSdkErrorContext {
  /** The model's provider, e.g. "openai.chat"; names the provider in UpstreamError. */
  provider: string;
  /** What we were doing, for the message: "embedding request", "question generation"... */
  operation: string;
  /** Set when our own request timeout fired (not the caller's signal). */
  timedOutAfterMs?: number;
  /** Unusable model output becomes GenerationOutputError (the trainer retries the chunk, then skips it). */
  outputErrors: "generation" | "upstream";
}

/**
 * Turns anything an AI SDK call throws into the core's errors, with the same
 * retry decisions as the OpenAI adapters: 429 (except an exhausted quota),
 * 408, 409, 5xx, timeouts and dropped connections are retryable, honouring
 * Retry-After / retry-after-ms; the rest is not. Classes are recognised with
 * the AI SDK's own `isInstance`, which works across installed copies.
 */
export function mapAiSdkError(error: unknown, context: AiSdkErrorContext): DeepMemoryError {
  if (DeepMemoryError.isInstance(error)) return error;
  if (context.timedOutAfterMs !== undefined) {
    return new UpstreamError(context.provider, `${context.provider} did not answer the ${context.operation} within ${context.timedOutAfterMs} ms (timed out)`, {
      retryable: true,
      cause: error,
    });
  }
  if (error instanceof Error && (error.name === "AbortError" || error.name === "TimeoutError")) return new AbortedError(`The ${context.operation} was aborted`);
  // With maxRetries 0 the AI SDK throws the original error; a RetryError only comes from a caller's own settings.
  if (RetryError.isInstance(error)) return mapAiSdkError(error.lastError, context);
  if (APICallError.isInstance(error)) return fromApiCall(error, context);
  if (LoadAPIKeyError.isInstance(error)) {
    return new UpstreamError(context.provider, `${context.provider} has no API key for the ${context.operation}: ${error.message}`, { retryable: false, cause: error });
  }
  const badOutput =
    NoObjectGeneratedError.isInstance(error) ||
    NoOutputGeneratedError.isInstance(error) ||
    NoContentGeneratedError.isInstance(error) ||
    JSONParseError.isInstance(error) ||
    TypeValidationError.isInstance(error) ||
    EmptyResponseBodyError.isInstance(error) ||
    InvalidResponseDataError.isInstance(error);
  if (badOutput) {
    const finish = NoObjectGeneratedError.isInstance(error) && error.finishReason ? ` (finish reason: ${error.finishReason})` : "";
    const message = `${context.provider} answered the ${context.operation} with unusable output${finish}: ${error.message}`;
    return context.outputErrors === "generation"
      ? new GenerationOutputError(message, { cause: error })
      : new UpstreamError(context.provider, message, { retryable: false, cause: error });
  }
  // Gateway and other provider errors that carry a status without being APICallErrors.
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  if (typeof status === "number") return fromStatus(status, error as Error, undefined, (error as { isRetryable?: boolean }).isRetryable, context);
  return toDeepMemoryError(error);
}

function fromApiCall(error: APICallError, context: AiSdkErrorContext): UpstreamError {
  if (error.statusCode === undefined) {
    // No HTTP answer at all: the connection failed. The AI SDK marks these retryable.
    return new UpstreamError(context.provider, `Could not reach ${context.provider} (${error.url}) for the ${context.operation}: ${error.message}`, {
      retryable: error.isRetryable,
      cause: error,
    });
  }
  return fromStatus(error.statusCode, error, error.responseHeaders, error.isRetryable, context);
}

function fromStatus(
  status: number,
  error: Error & { responseBody?: string },
  headers: Record<string, string> | undefined,
  sdkRetryable: boolean | undefined,
  context: AiSdkErrorContext,
): UpstreamError {
  const { provider, operation } = context;
  const quota = status === 429 && /insufficient_quota/.test(error.responseBody ?? "");
  const summary =
    status === 401
      ? `${provider} rejected the API key (401) for the ${operation}`
      : status === 403
        ? `${provider} refused the ${operation} (403); the key may lack access to this model`
        : status === 404
          ? `${provider} found no such model or endpoint (404) for the ${operation}`
          : quota
            ? `${provider} says the account has no quota left (429 insufficient_quota); check billing`
            : status === 429
              ? `${provider} rate limit hit (429) on the ${operation}`
              : status >= 500
                ? `${provider} had a server error (${status}) on the ${operation}`
                : `${provider} answered the ${operation} with status ${status}`;
  const byStatus = !quota && (status === 408 || status === 409 || status === 429 || status >= 500);
  const hint = headers?.["x-should-retry"];
  // The provider's own hint wins over our table, and our table over the SDK's guess (it retries an exhausted quota).
  const retryable = hint === "true" ? true : hint === "false" ? false : quota ? false : (sdkRetryable ?? byStatus) || byStatus;
  const retryAfterMs = headers ? parseRetryAfterMs(new Headers(headers)) : undefined;
  return new UpstreamError(provider, `${summary}: ${error.message}`, {
    status,
    retryable,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    cause: error,
  });
}

/**
 * The caller's signal and our own request timeout as one signal, and a way to
 * tell afterwards which of them fired (a timeout is retried, an abort is not).
 */
export function withTimeout(signal: AbortSignal | undefined, timeoutMs: number): { signal: AbortSignal; timedOut: () => boolean } {
  const timeout = AbortSignal.timeout(timeoutMs);
  return { signal: signal ? AbortSignal.any([signal, timeout]) : timeout, timedOut: () => timeout.aborted && !signal?.aborted };
}
