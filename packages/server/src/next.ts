import { createDeepMemoryHandler, type DeepMemoryHandler } from "./handler.js";
import type { DeepMemoryHandlerOptions } from "./options.js";

type RouteHandler = (request: Request) => Promise<Response>;

export interface NextRouteHandlers {
  GET: RouteHandler;
  HEAD: RouteHandler;
  POST: RouteHandler;
  PUT: RouteHandler;
  PATCH: RouteHandler;
  DELETE: RouteHandler;
  OPTIONS: RouteHandler;
}

/**
 * Route handlers for a Next.js App Router catch-all route,
 * `app/api/deep-memory/[...path]/route.ts`:
 *
 * ```ts
 * export const runtime = "nodejs";
 * export const dynamic = "force-dynamic";
 * export const { GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS } = createNextRouteHandlers({ trainer, getUserId });
 * ```
 *
 * `basePath` defaults to "/api/deep-memory" (the folder of the route). Every
 * method goes to the same handler, so wrong methods answer 405 as JSON.
 */
export function createNextRouteHandlers(options: Omit<DeepMemoryHandlerOptions, "basePath"> & { basePath?: string }): NextRouteHandlers & { handler: DeepMemoryHandler } {
  const handler = createDeepMemoryHandler({ ...options, basePath: options.basePath ?? "/api/deep-memory" });
  // Next passes (request, { params }); the handler routes on the URL alone.
  const route: RouteHandler = (request) => handler(request);
  return { GET: route, HEAD: route, POST: route, PUT: route, PATCH: route, DELETE: route, OPTIONS: route, handler };
}
