import { forwardAll } from "../../../../../mounted.js";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

// The API, as the dashboard mounts it: the route handlers createNextRouteHandlers made.
export const { GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS } = forwardAll((mount, method) => mount.api[method]);
