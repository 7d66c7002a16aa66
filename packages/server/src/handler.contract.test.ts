import { getRequestListener } from "@hono/node-server";
import { Hono } from "hono";
import { describe } from "vitest";
import { mountDeepMemory } from "./hono.js";
import { createDeepMemoryHandler, createJobEventsHandler } from "./index.js";
import { BASE, EVENTS_BASE, listen as listenNode, routerContract, type Mount, type MountInput } from "./test-support/index.js";

/** Serves a fetch function on node:http through @hono/node-server's adapter. */
function listen(fetch: (request: Request) => Response | Promise<Response>) {
  const listener = getRequestListener(fetch);
  return listenNode((req: Parameters<typeof listener>[0], res: Parameters<typeof listener>[1]) => void listener(req, res));
}

function handlerOptions({ trainer, userFrom, options }: MountInput) {
  const { getUserId, ...rest } = options;
  return { trainer, getUserId: getUserId ?? ((request: Request) => userFrom(request.headers)), ...rest };
}

const health = () => Response.json({ ok: true });

/** The raw fetch handler on a node:http socket (the adapter of @hono/node-server, no Hono app). */
const rawFetch: Mount = async (input) => {
  const options = handlerOptions(input);
  if (input.scenario === "split-events") {
    const api = createDeepMemoryHandler({ ...options, basePath: BASE, serveEvents: false, eventsBasePath: EVENTS_BASE });
    const events = createJobEventsHandler({ ...options, basePath: EVENTS_BASE });
    return listen(async (request) => (await events.route(request)) ?? api(request));
  }
  const api = createDeepMemoryHandler({ ...options, basePath: BASE });
  if (input.scenario === "host-routes") {
    // route() answers null for paths the API does not serve: the host's turn.
    return listen(async (request) => (await api.route(request)) ?? health());
  }
  return listen((request) => api(request));
};

/** A Hono app with the API mounted by mountDeepMemory, served by @hono/node-server. */
const hono: Mount = async (input) => {
  const options = handlerOptions(input);
  const app = new Hono();
  if (input.scenario === "split-events") {
    mountDeepMemory(app, { ...options, basePath: BASE, serveEvents: false, eventsBasePath: EVENTS_BASE });
    const events = createJobEventsHandler({ ...options, basePath: EVENTS_BASE });
    app.all(`${EVENTS_BASE}/*`, (c) => events(c.req.raw));
  } else mountDeepMemory(app, { ...options, basePath: BASE });
  if (input.scenario === "host-routes") {
    app.get("/health", (c) => c.json({ ok: true }));
    app.get(`${BASE}/health`, (c) => c.json({ ok: true }));
  }
  return listen((request) => app.fetch(request));
};

describe("createDeepMemoryHandler, the raw fetch handler on node:http", () => routerContract(rawFetch));
describe("mountDeepMemory on Hono", () => routerContract(hono));
