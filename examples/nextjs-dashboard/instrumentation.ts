/** Runs once when the server starts: embed the knowledge base and open the store now, not on the first request. */
export async function register(): Promise<void> {
  // A constant condition (not an early return), so the edge build `next dev` also makes drops the Node-only import.
  if (process.env.NEXT_RUNTIME === "nodejs") {
    const { getBackend } = await import("./lib/server/backend");
    getBackend().then(
      (backend) => console.log(`[deep-memory] ready: ${backend.passageCount} passages; ${backend.label}`),
      (error: unknown) => console.error("[deep-memory] could not start (the first request retries):", error),
    );
  }
}
