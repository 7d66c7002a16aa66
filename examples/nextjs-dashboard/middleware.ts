import { deepMemoryRouteHandlers } from "@/lib/server/deep-memory-api";

// Node.js runtime: the trainer (PGlite, ONNX Runtime) cannot run on the edge.
export const config = { matcher: "/api/deep-memory/:path*", runtime: "nodejs" };

const api = deepMemoryRouteHandlers();

/**
 * Next answers a path it cannot percent-decode (`/api/deep-memory/runs/%ZZ`)
 * with its own HTML 400 before any route runs. Middleware still sees such a
 * request, so it goes to the API's handler, which answers it as JSON like
 * every other error; every other request goes on to the route.
 */
export async function middleware(request: Request): Promise<Response | undefined> {
  try {
    decodeURIComponent(new URL(request.url).pathname);
    return undefined;
  } catch {
    return api.GET(request); // every method goes to the same handler
  }
}
