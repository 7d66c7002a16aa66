import { deepMemoryRouteHandlers } from "@/lib/server/deep-memory-api";

// The trainer lives in this Node process (PGlite, ONNX Runtime): never the edge runtime, never cached.
export const runtime = "nodejs";
export const dynamic = "force-dynamic";

// The whole deep-memory REST + SSE API (@zip/deep-memory-server's fetch handler); the session says who is calling.
export const { GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS } = deepMemoryRouteHandlers();
