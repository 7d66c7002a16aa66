import { existsSync } from "node:fs";
import { join } from "node:path";
import type { DeepMemoryTrainer } from "@zip/deep-memory";
import { createDeepMemoryRouter, createJobEventsRouter, type GetUserId } from "@zip/deep-memory-express";
import cors from "cors";
import express, { type Express } from "express";
import type { Answerer } from "./answer.js";
import { DEV_USER_HEADER } from "./auth.js";
import { createChatRouter } from "./chat.js";

/** Where the plan mounts things; the admin app's defaults say the same. */
export const API_PATHS = {
  chat: "/v1/api/chat",
  deepMemory: "/v1/api/deep-memory",
  events: "/v1/api/events",
} as const;

export interface AppOptions {
  trainer: DeepMemoryTrainer;
  getUserId: GetUserId;
  answerer: Answerer;
  /** A built admin app (index.html and assets) to serve at "/", when the folder exists. */
  adminDir?: string | undefined;
  /** Browser origins allowed to call the API from elsewhere, e.g. the Vite dev server. */
  corsOrigins?: readonly string[];
  /** Shown by GET /v1/api/health. */
  info?: Record<string, unknown>;
}

/**
 * The example RAG backend as an Express app: its chat endpoint, the
 * deep-memory REST API at /v1/api/deep-memory, job events at
 * /v1/api/events/stream/:jobId, and the admin screen at "/".
 */
export function createApp(options: AppOptions): Express {
  const { trainer, getUserId } = options;
  const app = express();
  app.disable("x-powered-by");

  if (options.corsOrigins && options.corsOrigins.length > 0) {
    app.use(
      "/v1/api",
      cors({
        origin: [...options.corsOrigins],
        allowedHeaders: ["content-type", "authorization", "last-event-id", DEV_USER_HEADER],
        maxAge: 600,
      }),
    );
  }

  app.get("/v1/api/health", (_req, res) => {
    res.set("cache-control", "no-store").json({ ok: true, ...options.info });
  });
  app.use("/v1/api", createChatRouter({ trainer, getUserId, answerer: options.answerer }));
  app.use(API_PATHS.deepMemory, createDeepMemoryRouter({ trainer, getUserId, eventsBasePath: API_PATHS.events }));
  app.use(API_PATHS.events, createJobEventsRouter({ trainer, getUserId }));
  app.use("/v1/api", (_req, res) => {
    res.status(404).json({ error: { code: "NOT_FOUND", message: "No such API route" } });
  });

  const adminDir = options.adminDir;
  if (adminDir && existsSync(join(adminDir, "index.html"))) {
    // Hashed asset names never change content, so they may be cached for good; index.html never is.
    app.use("/assets", express.static(join(adminDir, "assets"), { immutable: true, maxAge: "1y", fallthrough: false }));
    app.use(express.static(adminDir, { index: false, maxAge: 0 }));
    app.get(/^\/(?!v1\/).*/, (_req, res) => {
      res.set("cache-control", "no-cache").sendFile(join(adminDir, "index.html"));
    });
  } else {
    app.get("/", (_req, res) => {
      res
        .type("text")
        .send(
          "The API runs at /v1/api. The admin screen is not built: run `pnpm example:server` from the repository root, " +
            "or `pnpm --filter @zip/example-react-admin build` and restart.\n",
        );
    });
  }
  return app;
}
