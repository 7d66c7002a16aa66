import express from "express";
import { BASE, EVENTS_BASE, listen, type Mount } from "@zip/deep-memory-server/test-support";
import { createDeepMemoryRouter, createJobEventsRouter } from "../index.js";

/** The contract suite's mount for the Express router (whichever Express the test file gives "express"). */
export const expressMount: Mount = async ({ trainer, userFrom, options, scenario }) => {
  const { getUserId, ...rest } = options;
  const common = { trainer, getUserId: getUserId ?? ((req: express.Request) => userFrom({ get: (name) => req.get(name) })), ...rest };
  const app = express();
  if (scenario === "split-events") {
    app.use(BASE, createDeepMemoryRouter({ ...common, eventsBasePath: EVENTS_BASE, serveEvents: false }));
    app.use(EVENTS_BASE, createJobEventsRouter(common));
  } else app.use(BASE, createDeepMemoryRouter(common));
  if (scenario === "host-routes") {
    app.get("/health", (_req, res) => void res.json({ ok: true }));
    app.get(`${BASE}/health`, (_req, res) => void res.json({ ok: true }));
  }
  return listen(app);
};
