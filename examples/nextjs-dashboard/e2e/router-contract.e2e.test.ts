import { existsSync, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { createJobEventsHandler } from "@zip/deep-memory-server";
import { createNextRouteHandlers } from "@zip/deep-memory-server/next";
import next from "next";
import { afterAll, describe } from "vitest";
// The contract suite is not published: examples import it by path (packages/server/src/test-support).
import { BASE, EVENTS_BASE, routerContract, type Mount } from "../../../packages/server/src/test-support/index";
import { appRoot, nextBuild } from "./support";

/*
 * The router contract suite (packages/server) against Next.js route handlers
 * made by createNextRouteHandlers, served by Next's production server (what
 * `next start` runs, here in this process so each test can install its own
 * trainer): e2e/contract-app is a route-handler-only app whose catch-all
 * routes under /v1/api forward to the handlers the current test installed.
 */
const contractApp = join(appRoot, "e2e", "contract-app");
const MOUNT_KEY = Symbol.for("@zip/example-nextjs-dashboard/contract-mount");

async function buildContractApp(): Promise<void> {
  const buildId = join(contractApp, ".next", "BUILD_ID");
  const sources = ["mounted.js", "middleware.js", "next.config.mjs", "app/health/route.js", "app/v1/api/deep-memory/[...path]/route.js", "app/v1/api/deep-memory/health/route.js", "app/v1/api/events/[...path]/route.js"];
  const newest = Math.max(...sources.map((p) => statSync(join(contractApp, p)).mtimeMs));
  if (existsSync(buildId) && statSync(buildId).mtimeMs > newest) return;
  await nextBuild(contractApp, "next build of the contract app");
}

let serving: Promise<{ url: string; server: Server }> | undefined;

/** Next's production server for the contract app on a free port, started once for the file. */
function nextServer() {
  serving ??= (async () => {
    await buildContractApp();
    const app = next({ dev: false, dir: contractApp, quiet: true });
    await app.prepare();
    const handle = app.getRequestHandler();
    const server = createServer((req, res) => void handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
  })();
  return serving;
}

const nextRouteHandlers: Mount = async (input) => {
  const { trainer, options, scenario } = input;
  const { getUserId, ...rest } = options;
  const common = { trainer, getUserId: getUserId ?? ((request: Request) => input.userFrom(request.headers)), ...rest };
  const split = scenario === "split-events";
  (globalThis as Record<symbol, unknown>)[MOUNT_KEY] = {
    api: createNextRouteHandlers({ ...common, basePath: BASE, ...(split ? { serveEvents: false, eventsBasePath: EVENTS_BASE } : {}) }),
    events: split ? createJobEventsHandler({ ...common, basePath: EVENTS_BASE }) : null,
    hostRoutes: scenario === "host-routes",
  };
  const { url } = await nextServer();
  return {
    url,
    close: async () => {
      delete (globalThis as Record<symbol, unknown>)[MOUNT_KEY];
    },
  };
};

afterAll(async () => {
  const running = await serving;
  if (!running) return;
  running.server.closeAllConnections();
  await new Promise((resolve) => running.server.close(resolve));
});

describe("createNextRouteHandlers under Next's production server", () => routerContract(nextRouteHandlers));
