import type { ErrorRequestHandler, Request, RequestHandler } from "express";
import { httpError, sendError, sendJson, toHttpError } from "./http-errors.js";

export interface JsonErrorHandlerOptions {
  /** Called with every error that answers 5xx (the body says nothing about it). Default: console.error. */
  onError?: (error: unknown, req: Request) => void;
}

/**
 * Express error middleware that answers every error as JSON with a code,
 * whatever NODE_ENV says: the SDK's typed errors through the core's status
 * table, body-parser and URI decoding failures as 4xx, anything else as a
 * bare 500 (no message, no stack). Install it last:
 * `app.use(jsonNotFound()); app.use(jsonErrorHandler());`
 */
export function jsonErrorHandler(options: JsonErrorHandlerOptions = {}): ErrorRequestHandler {
  const onError = options.onError ?? ((error: unknown) => console.error("[deep-memory-express]", error));
  return (error, req, res, next) => {
    const http = toHttpError(error);
    if (http.status >= 500) onError(error, req);
    // Too late for a status: Express's own handler closes the connection (it writes nothing once headers are out).
    if (res.headersSent) return next(error);
    sendError(res, http);
  };
}

/** A JSON 404 for every request that reached it; install after the app's routes. */
export function jsonNotFound(): RequestHandler {
  return (_req, res) => sendError(res, httpError("NOT_FOUND", "No such route"));
}

/**
 * For a path the router serves with other methods: OPTIONS answers 204 with
 * `Allow`, anything else 405 METHOD_NOT_ALLOWED with `Allow`, as JSON.
 */
export function methodNotAllowed(methods: readonly string[]): RequestHandler {
  const allowed = [...new Set(methods.flatMap((m) => (m === "GET" ? ["GET", "HEAD"] : [m]))), "OPTIONS"].join(", ");
  return (req, res) => {
    if (req.method === "OPTIONS") {
      res.status(204).set("allow", allowed).end();
      return;
    }
    const http = httpError("METHOD_NOT_ALLOWED", `${req.method} is not allowed here; use ${allowed}`, { allow: allowed });
    sendJson(res, http.status, http.body, { allow: allowed });
  };
}
