import { createNextRouteHandlers, type NextRouteHandlers } from "@zip/deep-memory-server/next";
import { getBackend } from "./backend";
import { requestUserId } from "./session";

/**
 * The route handlers of app/api/deep-memory/[...path]/route.ts. The trainer
 * opens asynchronously (PGlite, the embedding model), so the handlers are made
 * on the first request rather than when the module loads: `next build`
 * imports route modules and must not start a trainer.
 */
export function deepMemoryRouteHandlers(): NextRouteHandlers {
  let handlers: Promise<NextRouteHandlers> | undefined;
  const ready = () =>
    (handlers ??= getBackend().then(
      ({ trainer }) => createNextRouteHandlers({ trainer, getUserId: requestUserId, basePath: "/api/deep-memory" }),
      (error: unknown) => {
        handlers = undefined; // the next request tries again
        throw error;
      },
    ));
  const forward = (method: keyof NextRouteHandlers) => async (request: Request) => (await ready())[method](request);
  return {
    GET: forward("GET"),
    HEAD: forward("HEAD"),
    POST: forward("POST"),
    PUT: forward("PUT"),
    PATCH: forward("PATCH"),
    DELETE: forward("DELETE"),
    OPTIONS: forward("OPTIONS"),
  };
}
