import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError, OpenAIError } from "openai";
import { AbortedError, DeepMemoryError, UpstreamError, toDeepMemoryError } from "../../errors/errors.js";
import { parseRetryAfterMs } from "../../retry/retry-after.js";

export const OPENAI_PROVIDER = "openai";

export interface OpenAIErrorContext {
  /** What we were doing, for the message: "embeddings request", "chat completion"... */
  operation: string;
  /** The request timeout, quoted when the request timed out. */
  timeoutMs?: number;
  /** Quoted for connection errors, which are usually a wrong baseURL or a proxy. */
  baseURL?: string;
}

/**
 * Turns anything the `openai` SDK throws into our errors: `AbortedError` for
 * the caller's abort, `UpstreamError` (provider "openai") for the rest, with
 * `retryable` and `retryAfterMs` set so `withRetry` can decide.
 *
 * Classes are matched by `instanceof` or by constructor name, because a
 * caller may pass a client built from another installed copy of `openai`.
 */
export function mapOpenAIError(error: unknown, context: OpenAIErrorContext): DeepMemoryError {
  if (DeepMemoryError.isInstance(error)) return error;
  if (is(error, APIUserAbortError) || (error instanceof Error && error.name === "AbortError")) {
    return new AbortedError(`The OpenAI ${context.operation} was aborted`);
  }
  if (is(error, APIConnectionTimeoutError)) {
    const after = context.timeoutMs === undefined ? "" : ` within ${context.timeoutMs} ms`;
    return new UpstreamError(OPENAI_PROVIDER, `OpenAI did not answer the ${context.operation}${after} (timed out)`, {
      retryable: true,
      cause: error,
    });
  }
  if (is(error, APIConnectionError)) {
    const where = context.baseURL ? ` at ${context.baseURL}` : "";
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : "";
    return new UpstreamError(
      OPENAI_PROVIDER,
      `Could not reach OpenAI${where} for the ${context.operation} (${error.message.replace(/\.$/, "")}${cause})`,
      { retryable: true, cause: error },
    );
  }
  if (is(error, APIError) && typeof error.status === "number") {
    return fromStatus(error, error.status, context);
  }
  if (is(error, OpenAIError)) {
    return new UpstreamError(OPENAI_PROVIDER, `OpenAI ${context.operation} failed: ${error.message}`, {
      retryable: false,
      cause: error,
    });
  }
  return toDeepMemoryError(error);
}

function fromStatus(error: APIError, status: number, context: OpenAIErrorContext): UpstreamError {
  const detail = providerMessage(error);
  const headers = error.headers;
  const retryAfterMs = parseRetryAfterMs(headers);
  const { summary, retryable } = describeStatus(status, error.code ?? undefined, context);
  // OpenAI's own hint, when present, knows better than our status table.
  const shouldRetry = headers?.get("x-should-retry");
  const finalRetryable = shouldRetry === "true" ? true : shouldRetry === "false" ? false : retryable;
  const requestId = error.requestID ? ` [request ${error.requestID}]` : "";
  return new UpstreamError(OPENAI_PROVIDER, `${summary}: ${detail}${requestId}`, {
    status,
    retryable: finalRetryable,
    retryAfterMs,
    cause: error,
  });
}

function describeStatus(
  status: number,
  code: string | undefined,
  { operation }: OpenAIErrorContext,
): { summary: string; retryable: boolean } {
  if (status === 401) {
    return {
      summary: `OpenAI rejected the API key (401) for the ${operation}; check the apiKey option or OPENAI_API_KEY`,
      retryable: false,
    };
  }
  if (status === 403) {
    return { summary: `OpenAI refused the ${operation} (403); the key's project may lack access to this model`, retryable: false };
  }
  if (status === 404) {
    return { summary: `OpenAI found no such model or endpoint (404) for the ${operation}; check model and baseURL`, retryable: false };
  }
  if (status === 429 && code === "insufficient_quota") {
    // Billing, not load: waiting will not help.
    return { summary: `OpenAI says the account has no quota left (429 insufficient_quota); check billing`, retryable: false };
  }
  if (status === 429) return { summary: `OpenAI rate limit hit (429) on the ${operation}`, retryable: true };
  if (status === 408) return { summary: `OpenAI timed out the ${operation} (408)`, retryable: true };
  if (status === 409) return { summary: `OpenAI reported a conflict (409) on the ${operation}`, retryable: true };
  if (status >= 500) return { summary: `OpenAI had a server error (${status}) on the ${operation}`, retryable: true };
  if (status === 400 || status === 422) {
    return { summary: `OpenAI rejected the ${operation} as invalid (${status})`, retryable: false };
  }
  return { summary: `OpenAI answered the ${operation} with status ${status}`, retryable: false };
}

/** The provider's own sentence, without the "429 " prefix the SDK adds to `message`. */
function providerMessage(error: APIError): string {
  const message = messageOf(error);
  if (typeof message === "string" && message.length > 0) return message;
  return error.message.replace(/^\d{3}\s+/, "");
}

function is<C extends abstract new (...args: never[]) => unknown>(value: unknown, cls: C): value is InstanceType<C> {
  if (value instanceof cls) return true;
  // Walk the prototype chain by name, for errors from another copy of the SDK.
  let proto: unknown = typeof value === "object" && value !== null ? Object.getPrototypeOf(value) : null;
  while (proto && proto !== Object.prototype) {
    if ((proto as { constructor?: { name?: string } }).constructor?.name === cls.name) return true;
    proto = Object.getPrototypeOf(proto);
  }
  return false;
}

/** The `message` of the error body the API sent (the SDK types the body loosely). */
function messageOf(error: { error?: unknown }): unknown {
  const body = error.error;
  return typeof body === "object" && body !== null && "message" in body ? body.message : undefined;
}
