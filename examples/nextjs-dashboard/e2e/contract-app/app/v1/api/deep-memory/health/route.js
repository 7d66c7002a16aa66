import { forwardAll } from "../../../../../mounted.js";

export const dynamic = "force-dynamic";

// A host route beside the API ("host-routes"); otherwise the path is the API's to answer.
export const { GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS } = forwardAll((mount, method) =>
  mount.hostRoutes && method === "GET" ? () => Response.json({ ok: true }) : mount.api[method],
);
