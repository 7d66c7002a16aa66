/**
 * A router on a real socket for the contract suites: `start` mounts one over a
 * trainer and returns helpers to call it; everything started is stopped after
 * each test.
 */
import express from "express";
import { afterEach } from "vitest";
import { createDeepMemoryRouter, type DeepMemoryRouterOptions } from "../index.js";
import { createTrainer, listen, openStream, type OpenedStream, type RunningServer, type TestSetup } from "./fixtures.js";

export const BASE = "/v1/api/deep-memory";
export const userHeader = "x-test-user";

export interface CallInit {
  /** The x-test-user header; null sends none. Default "alice". */
  user?: string | null;
  body?: unknown;
  raw?: string;
  headers?: Record<string, string>;
}

export interface CallResult {
  status: number;
  headers: Headers;
  json: Record<string, any> | null;
}

export type Started = TestSetup & {
  server: RunningServer;
  call(method: string, path: string, init?: CallInit): Promise<CallResult>;
  stream(jobId: string, headers?: Record<string, string>, user?: string, query?: string): Promise<OpenedStream>;
};

export interface ContractHarness {
  start(
    setup?: TestSetup,
    options?: Partial<DeepMemoryRouterOptions>,
    mount?: (app: express.Express, router: express.Router) => void,
  ): Promise<Started>;
  track(setup: TestSetup): void;
}

export function contractHarness(): ContractHarness {
  const servers: RunningServer[] = [];
  const setups: TestSetup[] = [];

  afterEach(async () => {
    for (const s of setups.splice(0)) {
      s.generator.gate.open();
      s.engine.gate.open();
      await s.trainer.close();
    }
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  async function start(
    setup: TestSetup = createTrainer(),
    options: Partial<DeepMemoryRouterOptions> = {},
    mount: (app: express.Express, router: express.Router) => void = (app, router) => app.use(BASE, router),
  ): Promise<Started> {
    track(setup);
    const app = express();
    const router = createDeepMemoryRouter({
      trainer: setup.trainer,
      getUserId: (req) => req.get(userHeader) ?? null,
      onError: () => {},
      ...options,
    });
    mount(app, router);
    const server = await listen(app);
    servers.push(server);
    const call = async (method: string, path: string, init: CallInit = {}): Promise<CallResult> => {
      const headers: Record<string, string> = { ...init.headers };
      if (init.user !== null) headers[userHeader] = init.user ?? "alice";
      let body: string | undefined;
      if (init.raw !== undefined) body = init.raw;
      else if (init.body !== undefined) {
        body = JSON.stringify(init.body);
        headers["content-type"] ??= "application/json";
      }
      const response = await fetch(`${server.url}${path.startsWith("/") ? path : `${BASE}/${path}`}`, { method, headers, body });
      const text = await response.text();
      let json: Record<string, any> | null = null;
      try {
        json = text ? (JSON.parse(text) as Record<string, any>) : null;
      } catch {
        // Not JSON (e.g. Express's own HTML 404 for a path the router does not serve).
      }
      return { status: response.status, headers: response.headers, json };
    };
    const stream = (jobId: string, headers: Record<string, string> = {}, user = "alice", query = "") =>
      openStream(`${server.url}${BASE}/events/stream/${jobId}${query}`, { [userHeader]: user, ...headers });
    return { ...setup, server, call, stream };
  }

  /** Stops a trainer made outside `start` after the test too. */
  function track(setup: TestSetup): void {
    setups.push(setup);
  }

  return { start, track };
}

export type StartRouter = ContractHarness["start"];
