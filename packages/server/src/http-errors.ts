import { DeepMemoryError, httpStatusFor, type ErrorCode, type FieldIssue } from "@zip/deep-memory";
import { errorBody, JSON_RESPONSE_HEADERS, wireKey, type ErrorBody } from "@zip/deep-memory-protocol";

/** An answer that is an error: status, JSON body with a code, extra headers. */
export interface HttpError {
  status: number;
  body: ErrorBody;
  headers?: Record<string, string>;
}

/** What 5xx bodies say instead of the error's own message, which may name internals. */
const publicServerMessages: Partial<Record<ErrorCode, string>> = {
  UPSTREAM_FAILED: "A service the server depends on failed; try again later",
  GENERATION_OUTPUT_INVALID: "The question generator returned unusable output; try again later",
};

/**
 * Turns anything thrown into a status and a body, through the core's one
 * code -> status table. 5xx bodies carry the code and a generic message
 * only: never a stack, a driver error or a provider's response. Anything
 * that is not the SDK's typed error is a bare 500 INTERNAL.
 */
export function toHttpError(error: unknown): HttpError {
  if (!DeepMemoryError.isInstance(error)) return { status: 500, body: errorBody("INTERNAL", "Internal server error") };
  const status = httpStatusFor(error.code) ?? 500;
  if (status >= 500) {
    return { status, body: errorBody(error.code, publicServerMessages[error.code] ?? "Internal server error") };
  }
  const details = error.details === undefined ? undefined : wireDetails(error.details);
  const http: HttpError = { status, body: errorBody(error.code, error.message, details) };
  const retryAfterMs = (error as { retryAfterMs?: unknown }).retryAfterMs;
  // 429 (rate limited) and 409 (a run is busy) say when trying again may succeed.
  if ((status === 429 || status === 409) && typeof retryAfterMs === "number" && retryAfterMs > 0) {
    http.headers = { "retry-after": String(Math.ceil(retryAfterMs / 1000)) };
  }
  return http;
}

/** Detail keys in the wire's snake_case (`runId` -> `training_run_id`), values as they are. */
function wireDetails(details: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(details).map(([key, value]) => [wireKey(key), value]));
}

export function validationError(issues: FieldIssue[], what: string): HttpError {
  const summary = issues.map((i) => `${i.path}: ${i.message}`).join("; ");
  return { status: 400, body: errorBody("VALIDATION_FAILED", `Invalid ${what}: ${summary}`, { issues }) };
}

/** Field errors of a failed zod parse, one per unknown field at the field itself, so a client can point at it. */
export function zodIssues(
  error: { issues: readonly { code?: string; path: readonly PropertyKey[]; message: string; keys?: readonly string[] }[] },
  prefix?: string,
): FieldIssue[] {
  const at = (path: readonly PropertyKey[]) => [...(prefix ? [prefix] : []), ...path.map(String)].join(".") || "(root)";
  return error.issues.flatMap((issue) =>
    issue.code === "unrecognized_keys" && issue.keys
      ? issue.keys.map((key) => ({ path: at([...issue.path, key]), message: "unknown field" }))
      : [{ path: at(issue.path), message: issue.message }],
  );
}

export function httpError(code: ErrorCode, message: string, details?: Record<string, unknown>): HttpError {
  return { status: httpStatusFor(code), body: errorBody(code, message, details) };
}

export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { ...JSON_RESPONSE_HEADERS, ...headers } });
}

export function errorResponse(error: HttpError): Response {
  return jsonResponse(error.status, error.body, error.headers);
}
