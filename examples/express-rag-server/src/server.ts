import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { GetUserId } from "@zip/deep-memory-express";
import { createApp } from "./app.js";
import { authFromEnv } from "./auth.js";
import { defaultInstanceId, openBackend, type Backend, type BackendOptions } from "./backend.js";

export interface StartOptions extends BackendOptions {
  /** 0 picks a free port. Default 3000. */
  port?: number;
  /** Default "127.0.0.1"; "0.0.0.0" to accept other machines. */
  host?: string;
  adminDir?: string | undefined;
  corsOrigins?: readonly string[];
  /** Defaults to authFromEnv(): Supabase tokens when configured, else the dev `x-user-id` scheme. */
  getUserId?: GetUserId;
  authLabel?: string;
}

export interface RunningServer {
  /** e.g. "http://127.0.0.1:3000" */
  url: string;
  port: number;
  backend: Backend;
  server: Server;
  /** Stops accepting requests, ends open event streams, stops jobs, closes the database. */
  close(): Promise<void>;
}

/** Opens the backend and listens. Used by main.ts, the tests and the admin app's browser tests. */
export async function startServer(options: StartOptions): Promise<RunningServer> {
  const instanceId = options.instanceId ?? defaultInstanceId({ ...options, port: options.port ?? 3000 });
  const backend = await openBackend({ ...options, ...(instanceId ? { instanceId } : {}) });
  const auth = options.getUserId ? { kind: options.authLabel ?? "custom", getUserId: options.getUserId } : authFromEnv();
  const app = createApp({
    trainer: backend.trainer,
    getUserId: auth.getUserId,
    answerer: backend.providers.answerer,
    adminDir: options.adminDir,
    corsOrigins: options.corsOrigins ?? [],
    info: { passages: backend.passages.length, providers: backend.providers.label, auth: auth.kind },
  });
  let server: Server;
  try {
    server = await new Promise<Server>((resolve, reject) => {
      // Express 5 hands a listen error (e.g. the port in use) to this callback instead of throwing.
      const s = app.listen(options.port ?? 3000, options.host ?? "127.0.0.1", (error?: Error) => (error ? reject(error) : resolve(s)));
    });
  } catch (error) {
    await backend.close();
    throw error;
  }
  const { port } = server.address() as AddressInfo;
  const host = options.host === undefined || options.host === "0.0.0.0" ? "127.0.0.1" : options.host;
  let closing: Promise<void> | null = null;
  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
    port,
    backend,
    server,
    close() {
      closing ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        // Event streams stay open until their job ends; a shutdown ends them (clients resume elsewhere with Last-Event-ID).
        server.closeIdleConnections();
        server.closeAllConnections();
        await stopped;
        await backend.close();
      })();
      return closing;
    },
  };
}
