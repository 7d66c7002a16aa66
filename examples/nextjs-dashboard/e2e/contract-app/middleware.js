import { mounted } from "./mounted.js";

// Node.js runtime: the middleware runs in this process, beside the contract test's handlers.
export const config = { matcher: "/v1/api/:path*", runtime: "nodejs" };

/**
 * Next answers a path it cannot percent-decode with its own HTML 400 before
 * any route runs; middleware still sees it, so such requests go to the API's
 * handler, which answers them as JSON like every other error.
 */
export function middleware(request) {
  const { pathname } = new URL(request.url);
  try {
    decodeURIComponent(pathname);
    return undefined;
  } catch {
    const mount = mounted();
    if (mount.events && pathname.startsWith("/v1/api/events/")) return mount.events(request);
    return mount.api[request.method]?.(request) ?? mount.api.GET(request);
  }
}
