/**
 * A mount of the deep-memory API on a real socket for the contract suites:
 * `start` serves one over a trainer and returns helpers to call it;
 * everything started is stopped after each test. The suites run unchanged
 * against every mount (Express, the raw fetch handler, Hono, Next.js route
 * handlers): a `Mount` says how to serve the API on one of them.
 */
import { afterEach } from "vitest";
import type { DeepMemoryTrainerApi } from "../options.js";
import { createTrainer, openStream, type OpenedStream, type TestSetup } from "./fixtures.js";

export const BASE = "/v1/api/deep-memory";
/** Where the "split-events" scenario serves job events. */
export const EVENTS_BASE = "/v1/api/events";
export const userHeader = "x-test-user";

/** Options the suites vary; every mount passes them on to its handler or router. */
export interface ContractOptions {
  bodyLimit?: number;
  heartbeatMs?: number;
  retryMs?: number;
  onError?: (error: unknown) => void;
  /** Replaces reading the user from the x-test-user header. */
  getUserId?: () => string | null | Promise<string | null>;
}

/**
 * How the API is laid out for a test:
 * - "default": everything under BASE.
 * - "split-events": REST under BASE with `serveEvents: false` and `eventsBasePath: EVENTS_BASE`,
 *   and the job events handler alone under EVENTS_BASE.
 * - "host-routes": the API under BASE beside host routes GET /health and GET BASE/health, both
 *   answering `{ "ok": true }` (the API must leave paths it does not serve to the host).
 */
export type Scenario = "default" | "split-events" | "host-routes";

export interface MountInput {
  trainer: DeepMemoryTrainerApi;
  /** The user id from the x-test-user header of a request, for mounts to call with their request's headers. */
  userFrom: (headers: { get(name: string): string | null | undefined }) => string | null;
  options: ContractOptions;
  scenario: Scenario;
}

export interface MountedServer {
  /** Origin, e.g. http://127.0.0.1:1234 */
  url: string;
  close: () => Promise<void>;
}

export type Mount = (input: MountInput) => Promise<MountedServer>;

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
  server: MountedServer;
  call: (method: string, path: string, init?: CallInit) => Promise<CallResult>;
  stream: (jobId: string, headers?: Record<string, string>, user?: string, query?: string) => Promise<OpenedStream>;
};

export interface ContractHarness {
  start: (setup?: TestSetup, options?: ContractOptions, scenario?: Scenario) => Promise<Started>;
  track: (setup: TestSetup) => void;
}

export function contractHarness(mount: Mount): ContractHarness {
  const servers: MountedServer[] = [];
  const setups: TestSetup[] = [];

  afterEach(async () => {
    for (const s of setups.splice(0)) {
      s.generator.gate.open();
      s.engine.gate.open();
      await s.trainer.close();
    }
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  async function start(setup: TestSetup = createTrainer(), options: ContractOptions = {}, scenario: Scenario = "default"): Promise<Started> {
    track(setup);
    const server = await mount({
      trainer: setup.trainer,
      userFrom: (headers) => headers.get(userHeader) ?? null,
      options: { onError: () => {}, ...options },
      scenario,
    });
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
        // Not JSON (e.g. a framework's own HTML 404 for a path the API does not serve).
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
