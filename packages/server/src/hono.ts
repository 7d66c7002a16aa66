import { createDeepMemoryHandler, type DeepMemoryHandler } from "./handler.js";
import { trimSlash, type DeepMemoryHandlerOptions } from "./options.js";

/** The part of a Hono app (or any router with Hono's `all(path, handler)`) the mount uses; hono itself is not imported. */
export interface HonoLikeApp {
  all(path: string, handler: (c: { req: { raw: Request } }, next: () => Promise<void>) => Promise<Response | void>): unknown;
}

/**
 * Mounts the deep-memory API on a Hono app at `basePath`:
 *
 * ```ts
 * const app = new Hono();
 * mountDeepMemory(app, { basePath: "/v1/api/deep-memory", trainer, getUserId: (request) => userFrom(request) });
 * ```
 *
 * Paths under `basePath` the API does not serve fall through to the app's
 * other routes (`next()`).
 */
export function mountDeepMemory(app: HonoLikeApp, options: DeepMemoryHandlerOptions & { basePath: string }): DeepMemoryHandler {
  const handler = createDeepMemoryHandler(options);
  const basePath = trimSlash(options.basePath);
  const serve = async (c: { req: { raw: Request } }, next: () => Promise<void>) => {
    const response = await handler.route(c.req.raw, { basePath });
    if (response) return response;
    await next();
  };
  app.all(`${basePath}/*`, serve);
  return handler;
}
