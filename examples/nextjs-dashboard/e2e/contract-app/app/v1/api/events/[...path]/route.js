import { forwardAll } from "../../../../../mounted.js";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

// Job events apart from the API ("split-events"); otherwise the API answers (a JSON 404).
export const { GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS } = forwardAll((mount, method) => mount.events ?? mount.api[method]);
