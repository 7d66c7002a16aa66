/**
 * Property-based probing of the router from outside: random bodies, headers,
 * ids, query strings and encodings against every route of the protocol's
 * route table. Whatever arrives, the answer is JSON with a code (or an event
 * stream), never a 5xx, never a hang, and a rejected request changes nothing.
 */
import { deepMemoryRoutes } from "@zip/deep-memory-protocol";
import express from "express";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDeepMemoryRouter } from "./index.js";
import { chunkId, createTrainer, listen, questionFor, type RunningServer, type TestSetup } from "@zip/deep-memory-server/test-support";
import { fuzzRunOptions, requestArbitrary, responseViolations, segmentArbitrary, sendRaw, type FuzzTarget, type RawRequest } from "./test-utils/http-fuzz.js";

const BASE = "/v1/api/deep-memory";
const BODY_LIMIT = 4096;
const userHeader = "x-test-user";
/** alice has a trained run covering every chunk; carol has no chunks at all: no valid request starts background work. */
const users = ["alice", "carol"] as const;

const bodyFields: Record<string, readonly string[]> = {
  generate: ["questions_per_chunk", "max_pairs"],
  train: ["training_run_id"],
  importPairs: ["pairs", "source"],
  updateSettings: ["enabled"],
  search: ["query", "k"],
};

let setup: TestSetup;
let server: RunningServer;
let runId: string;
let jobIds: string[];

function validBodies(name: string): string[] {
  const chunk = chunkId("alice", 3);
  switch (name) {
    case "generate":
      return ["{}", '{"questions_per_chunk":2}', '{"max_pairs":10}'];
    case "train":
      return [JSON.stringify({ training_run_id: runId })];
    case "importPairs":
      return [JSON.stringify({ pairs: [{ question: questionFor(chunk, 1), chunk_id: chunk }], source: "fuzz" })];
    case "updateSettings":
      return ['{"enabled":false}', '{"enabled":true}'];
    case "search":
      return ['{"query":"strategy","k":3}', JSON.stringify({ query: questionFor(chunk, 0) })];
    default:
      return ["{}"];
  }
}

/** Everything a request could change, for every user the fuzz speaks as. */
async function storeState(): Promise<string> {
  const parts: unknown[] = [];
  for (const user of [...users, "", "x".repeat(300)]) {
    const { runs, total } = await setup.store.listRuns(user, { limit: 100, offset: 0 });
    const pairs = await setup.store.listPairs(
      user,
      runs.map((r) => r.id),
    );
    parts.push({ user, total, runs: runs.map(({ leaseExpiresAt: _l, ...r }) => r), pairs: pairs.length, settings: await setup.store.getSettings(user) });
  }
  return JSON.stringify(parts);
}

function requests(): fc.Arbitrary<{ target: FuzzTarget; req: RawRequest }> {
  const targets = Object.entries(deepMemoryRoutes).map(([name, route]) => ({
    name,
    method: route.method.toUpperCase(),
    path: `${BASE}${route.path.replace(/\{\w+\}/, "{id}")}`,
    fields: bodyFields[name] ?? [],
    valid: validBodies(name),
  }));
  return requestArbitrary({
    targets,
    segment: segmentArbitrary([runId, ...jobIds]),
    users: ["alice", "alice", "carol", null, "", "x".repeat(300)],
    userHeader,
    bodyLimit: BODY_LIMIT,
    // Mostly the route's own method; sometimes another one.
    ownMethodWeight: 6,
    otherMethods: ["HEAD", "DELETE", "PATCH", "OPTIONS", "GET", "POST", "PUT"],
  });
}

describe("the router under random requests", () => {
  beforeAll(async () => {
    setup = createTrainer({ users: ["alice"] });
    const gen = await setup.trainer.generate({ userId: "alice" });
    await setup.trainer.waitForJob({ userId: "alice", jobId: gen.jobId });
    const train = await setup.trainer.train({ userId: "alice", runId: gen.runId });
    await setup.trainer.waitForJob({ userId: "alice", jobId: train.jobId });
    runId = gen.runId;
    jobIds = [gen.jobId, train.jobId];
    const app = express();
    app.use(
      BASE,
      createDeepMemoryRouter({ trainer: setup.trainer, getUserId: (req) => req.get(userHeader) ?? null, bodyLimit: BODY_LIMIT, onError: () => {} }),
    );
    server = await listen(app);
  });

  afterAll(async () => {
    await server?.close();
    await setup?.trainer.close();
  });

  it("answers every request with JSON and a code, never 5xx, never hangs, and a rejected request changes nothing", async () => {
    await fc.assert(
      fc.asyncProperty(requests(), async ({ target, req }) => {
        const before = await storeState();
        const res = await sendRaw(server.url, req);
        const violations = responseViolations(req, res, { eventStreamAllowed: target.name === "jobEvents" });
        if (res.status >= 400) {
          const after = await storeState();
          if (after !== before) violations.push("the store changed");
        }
        expect(violations, `${req.method} ${req.path} ${JSON.stringify(req.headers)} ${req.body?.toString("utf8").slice(0, 200)} -> ${res.status} ${res.text.slice(0, 300)}`).toEqual([]);
      }),
      fuzzRunOptions(300),
    );
  }, 120_000);

  // FUZZ_REPORT=1: the same requests tallied instead of asserted (how the before/after figures of issue 13 were measured).
  it.runIf(process.env.FUZZ_REPORT === "1")("tallies what a sample of random requests got", async () => {
    const tally = new Map<string, number>();
    const samples = fc.sample(requests(), { numRuns: Number(process.env.FUZZ_RUNS ?? 300), seed: 13 });
    for (const { target, req } of samples) {
      const before = await storeState();
      const res = await sendRaw(server.url, req);
      const kinds = responseViolations(req, res, { eventStreamAllowed: target.name === "jobEvents" }).map((v) => v.replace(/\(.*$/, "").replace(/\d{3}/, "5xx"));
      if (res.status >= 400 && (await storeState()) !== before) kinds.push("the store changed");
      if (/^text\/html/.test(String(res.headers["content-type"] ?? ""))) {
        kinds.push("HTML");
        if (process.env.FUZZ_DEBUG) console.log("HTML", res.status, req.method, req.path, res.text.slice(0, 100).replace(/\s+/g, " "));
      }
      for (const kind of new Set(kinds)) tally.set(kind, (tally.get(kind) ?? 0) + 1);
      tally.set("requests", (tally.get("requests") ?? 0) + 1);
    }
    console.log("[router fuzz tally]", JSON.stringify(Object.fromEntries(tally)));
  }, 300_000);
});
