import { handleDeepMemory } from "@/lib/server/deep-memory-api";

// The trainer lives in this Node process (PGlite, ONNX Runtime): never the edge runtime, never cached.
export const runtime = "nodejs";
export const dynamic = "force-dynamic";

export const GET = handleDeepMemory;
export const POST = handleDeepMemory;
export const PUT = handleDeepMemory;
export const PATCH = handleDeepMemory;
export const DELETE = handleDeepMemory;
export const HEAD = handleDeepMemory;
export const OPTIONS = handleDeepMemory;
