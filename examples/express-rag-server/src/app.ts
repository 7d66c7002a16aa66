import { existsSync } from "node:fs";
import { join } from "node:path";
import type { DeepMemoryTrainer } from "@zip/deep-memory";
import { createDeepMemoryRouter, createJobEventsRouter, jsonErrorHandler, jsonNotFound, type GetUserId } from "@zip/deep-memory-express";
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
 * /v1/api/events/stream/:jobId, and the admin screen at "/". Every answer
 * that is not the admin app itself is JSON with a code, errors included,
 * whatever NODE_ENV says.
 */
export function createApp(options: AppOptions): Express {
  const { trainer, getUserId } = options;
  const app = express();
  app.disable("x-powered-by");
  // Production settings whatever NODE_ENV is: Express's own last-resort handler then never prints a stack.
  app.set("env", "production");

  if (options.corsOrigins && options.corsOrigins.length > 0) {
    app.use(
      "/v1/api",
      cors({
        origin: [...options.corsOrigins],
        allowedHeaders: ["content-type", "authorization", "last-event-id", "idempotency-key", DEV_USER_HEADER],
        // Readable by the admin app on another origin: when to retry a 409/429, and whether an answer was replayed.
        exposedHeaders: ["retry-after", "idempotent-replayed"],
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
  app.use("/v1/api", jsonNotFound());

  const adminDir = options.adminDir;
  if (adminDir && existsSync(join(adminDir, "index.html"))) {
    // Hashed asset names never change content, so they may be cached for good; index.html never is.
    const assets = express.static(join(adminDir, "assets"), { immutable: true, maxAge: "1y", fallthrough: false });
    // Files are read with GET and HEAD only; any other method falls through to the JSON 404.
    app.use("/assets", (req, res, next) => (req.method === "GET" || req.method === "HEAD" ? assets(req, res, next) : next()));
    // No directory redirects (an HTML page): a folder path falls through to the app's index.html.
    app.use(express.static(adminDir, { index: false, maxAge: 0, redirect: false }));
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
  // Anything else (another method, a missing asset, a path outside the assets folder) and every error: JSON.
  app.use(jsonNotFound());
  app.use(jsonErrorHandler({ onError: (error) => console.error("[example-server]", error) }));
  return app;
}
