import { DeepMemoryError, httpStatusFor, type ErrorCode } from "@zip/deep-memory";
import { errorBody, JSON_RESPONSE_HEADERS } from "@zip/deep-memory-protocol";
import { toHttpError as toHandlerHttpError, type HttpError } from "@zip/deep-memory-server";

export type { HttpError };

/**
 * Turns anything thrown into a status and a body, through the core's one
 * code -> status table: the SDK's typed errors (as the fetch handler does),
 * and failures of the request itself in Express apps (see {@link requestFailure}).
 * 5xx bodies carry the code and a generic message only: never a stack, a
 * driver error or a provider's response.
 */
export function toHttpError(error: unknown): HttpError {
  if (!DeepMemoryError.isInstance(error)) {
    return requestFailure(error) ?? { status: 500, body: errorBody("INTERNAL", "Internal server error") };
  }
  return toHandlerHttpError(error);
}

const bodyFailures: Record<string, [ErrorCode, string]> = {
  "entity.too.large": ["PAYLOAD_TOO_LARGE", "The request body is larger than this server accepts"],
  "entity.parse.failed": ["INVALID_JSON", "The request body is not valid JSON"],
  "request.size.invalid": ["INVALID_JSON", "The request body is shorter or longer than its Content-Length says"],
  "charset.unsupported": ["UNSUPPORTED_MEDIA_TYPE", "The request body must be UTF-8 JSON"],
  "encoding.unsupported": ["UNSUPPORTED_MEDIA_TYPE", "Unsupported Content-Encoding: send the body as is, or gzip, deflate or br"],
};

const statusFailures: Record<number, [ErrorCode, string]> = {
  401: ["UNAUTHORIZED", "Authentication required"],
  // 403 from a static file server means a path outside its folder: no different from a missing file to the caller.
  403: ["NOT_FOUND", "Not found"],
  404: ["NOT_FOUND", "Not found"],
  405: ["METHOD_NOT_ALLOWED", "This method is not allowed here"],
  410: ["NOT_FOUND", "Not found"],
  413: ["PAYLOAD_TOO_LARGE", "The request body is larger than this server accepts"],
  415: ["UNSUPPORTED_MEDIA_TYPE", "Send the request body as application/json"],
};

/**
 * A failure of the request itself rather than of the work it asked for:
 * body-parser's typed errors (bad JSON, a charset or Content-Encoding it cannot
 * read, a broken gzip stream, too large), a URIError from decoding a
 * malformed percent-encoded path, the 4xx errors of the http-errors
 * convention (`expose: true`) and of send's file lookups (serve-static). Null for
 * anything else. Messages are this module's own, never the library's.
 */
export function requestFailure(error: unknown): HttpError | null {
  if (typeof error !== "object" || error === null) return null;
  const e = error as { type?: unknown; status?: unknown; statusCode?: unknown; expose?: unknown; code?: unknown; syscall?: unknown };
  if (typeof e.type === "string" && e.type in bodyFailures) {
    const [code, message] = bodyFailures[e.type]!;
    return httpError(code, message);
  }
  if (error instanceof URIError) {
    return httpError("VALIDATION_FAILED", "The URL is not valid percent-encoded UTF-8", { issues: [{ path: "(path)", message: "malformed percent-encoding" }] });
  }
  const status = typeof e.status === "number" ? e.status : typeof e.statusCode === "number" ? e.statusCode : null;
  // send (under express.static) marks a missing file's fs error 404 without `expose`; a provider's error with a status is not a request failure.
  const fromRequest = e.expose === true || typeof e.syscall === "string";
  if (!fromRequest || status === null || status < 400 || status > 499) return null;
  // body-parser wraps a zlib failure (a body that is not the gzip/deflate/br it claims to be) in a plain 400.
  if (status === 400 && typeof e.code === "string" && e.code.startsWith("Z_")) {
    return httpError("INVALID_JSON", "The request body could not be decompressed as its Content-Encoding says");
  }
  const [code, message] = statusFailures[status] ?? ["VALIDATION_FAILED", "The request could not be read"];
  return httpError(code, message);
}

export function httpError(code: ErrorCode, message: string, details?: Record<string, unknown>): HttpError {
  return { status: httpStatusFor(code), body: errorBody(code, message, details) };
}

interface JsonResponse {
  headersSent: boolean;
  status(code: number): unknown;
  set(headers: Record<string, string>): unknown;
  send(body: string): unknown;
}

export function sendJson(res: JsonResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.status(status);
  res.set({ ...JSON_RESPONSE_HEADERS, ...headers });
  res.send(JSON.stringify(body));
}

export function sendError(res: JsonResponse, error: HttpError): void {
  if (res.headersSent) return;
  sendJson(res, error.status, error.body, error.headers);
}
