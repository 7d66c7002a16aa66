// The route handlers the router contract test (../router-contract.e2e.test.ts) installed in this
// process for the test that runs now; this app's routes forward to them. Plain JavaScript, so
// this fixture app needs no TypeScript setup of its own.
export const MOUNT_KEY = Symbol.for("@zip/example-nextjs-dashboard/contract-mount");

/** @returns {{ api: import("@zip/deep-memory-server/next").NextRouteHandlers, events: ((request: Request) => Promise<Response>) | null, hostRoutes: boolean }} */
export function mounted() {
  const current = globalThis[MOUNT_KEY];
  if (!current) throw new Error("no contract mount installed");
  return current;
}

const methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

/** Route handlers for every method, each calling `pick(mounted(), method)`. */
export function forwardAll(pick) {
  return Object.fromEntries(methods.map((method) => [method, (request) => pick(mounted(), method)(request)]));
}
