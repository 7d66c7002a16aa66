import {
  createDeepMemoryHandler,
  createJobEventsHandler,
  type DeepMemoryHandler,
  type DeepMemoryHandlerOptions,
  type JobEventsHandlerOptions,
} from "@zip/deep-memory-server";
import express, { type NextFunction, type Request, type Response, type Router } from "express";
import type { GetUserId, JobEventsOptions } from "./context.js";
import { jsonErrorHandler } from "./express-errors.js";
import { clientGone, sendFetchResponse, toFetchRequest } from "./node-bridge.js";

export interface DeepMemoryRouterOptions extends JobEventsOptions, Omit<DeepMemoryHandlerOptions, keyof JobEventsHandlerOptions | "bodyLimit"> {
  /** Largest JSON body accepted (bytes, or a string like "1mb"); larger ones answer 413. Default "1mb". */
  bodyLimit?: number | string;
}

/** "1mb", "100kb", "512b" or a number of bytes; units of 1024 as body-parser reads them. */
function byteLimit(limit: number | string | undefined): number {
  if (limit === undefined) return 1024 * 1024;
  if (typeof limit === "number") return limit;
  const match = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?\s*$/i.exec(limit);
  if (!match) throw new TypeError(`bodyLimit must be a number of bytes or a string like "1mb" (got ${JSON.stringify(limit)})`);
  const unit = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 }[(match[2] ?? "b").toLowerCase() as "b"];
  return Math.floor(Number(match[1]) * unit);
}

/**
 * Callbacks for the fetch handler that call the host's with the Express
 * request each fetch Request stands for, so `getUserId(req)` and
 * `onError(error, req)` get what they always got.
 */
function expressCallbacks(options: JobEventsOptions, origins: WeakMap<globalThis.Request, Request>) {
  const getUserId: GetUserId = options.getUserId;
  if (typeof getUserId !== "function") throw new TypeError("getUserId must be a function (req) => userId");
  const onError = options.onError ?? ((error: unknown) => console.error("[deep-memory-express]", error));
  return {
    expressOnError: onError,
    handler: {
      getUserId: (request: globalThis.Request) => getUserId(origins.get(request)!),
      onError: (error: unknown, request: globalThis.Request) => onError(error, origins.get(request)!),
    },
  };
}

/** Serves the fetch handler's answers on Express; paths it does not serve go on to the host's routes. */
function expressRouter(handler: DeepMemoryHandler, origins: WeakMap<globalThis.Request, Request>, onError: (error: unknown, req: Request) => void): Router {
  const router = express.Router();
  router.use(async (req: Request, res: Response, next: NextFunction) => {
    try {
      const request = toFetchRequest(req, clientGone(res));
      origins.set(request, req);
      const response = await handler.route(request, { basePath: req.baseUrl, pathname: req.originalUrl.replace(/[?#].*$/s, "") });
      if (!response) return next();
      await sendFetchResponse(req, res, request, response);
    } catch (error) {
      next(error);
    }
  });
  router.use(jsonErrorHandler({ onError }));
  return router;
}

/**
 * The deep-memory REST API as an Express router (Express 4 or 5): a thin
 * shim over `createDeepMemoryHandler` of @zip/deep-memory-server. Mount it
 * where you like, e.g. `app.use("/v1/api/deep-memory", createDeepMemoryRouter({ trainer, getUserId }))`.
 * JSON on the wire is snake_case; see docs/http-api.md.
 */
export function createDeepMemoryRouter(options: DeepMemoryRouterOptions): Router {
  const origins = new WeakMap<globalThis.Request, Request>();
  const callbacks = expressCallbacks(options, origins);
  const handler = createDeepMemoryHandler({ ...options, ...callbacks.handler, bodyLimit: byteLimit(options.bodyLimit) });
  return expressRouter(handler, origins, callbacks.expressOnError);
}

/**
 * Only the job event stream, for hosts that serve it apart from the other
 * routes: `app.use("/v1/api/events", createJobEventsRouter({ trainer, getUserId }))`
 * serves GET /v1/api/events/stream/:jobId. Pass the same path as
 * `eventsBasePath` to createDeepMemoryRouter so its 202 responses point here.
 */
export function createJobEventsRouter(options: JobEventsOptions): Router {
  const origins = new WeakMap<globalThis.Request, Request>();
  const callbacks = expressCallbacks(options, origins);
  const handler = createJobEventsHandler({ ...options, ...callbacks.handler });
  return expressRouter(handler, origins, callbacks.expressOnError);
}
