/**
 * The example app probed from outside with random requests: every route of
 * the protocol's table at the plan's paths, the chat and health routes, the
 * admin app's files, paths that exist nowhere, with random methods, headers,
 * bodies and encodings. Apart from the admin app's own files (HTML and
 * assets, 200), every answer is JSON with a code: never HTML, never a stack,
 * never a 5xx or a hang, whatever NODE_ENV is; a rejected request changes nothing.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deepMemoryRoutes } from "@zip/deep-memory/protocol";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// The same request generators and checks as the router's own fuzz test (workspace-internal test code).
import { fuzzRunOptions, requestArbitrary, responseViolations, segmentArbitrary, sendRaw, type FuzzTarget, type RawRequest, type RawResponse } from "../../../packages/express/src/test-utils/http-fuzz.js";
import { API_PATHS } from "./app.js";
import { DEMO_USER_ID } from "./auth.js";
import { startServer, type RunningServer } from "./server.js";
import { offlineProviders } from "./test-utils/offline-providers.js";

const BODY_LIMIT = 1024 * 1024;

let running: RunningServer;
let adminDir: string;
let runId: string;
let jobIds: string[];

function targets(): FuzzTarget[] {
  const dm = Object.entries(deepMemoryRoutes).map(([name, route]) => ({
    name,
    method: route.method.toUpperCase(),
    path: (name === "jobEvents" ? `${API_PATHS.events}${route.path.replace(/^\/events/, "")}` : `${API_PATHS.deepMemory}${route.path}`).replace(/\{\w+\}/, "{id}"),
    fields: ["questions_per_chunk", "max_pairs", "training_run_id", "pairs", "source", "enabled", "query", "k"],
    valid: ["{}", '{"enabled":false}', '{"query":"What is VWAP?","k":3}', JSON.stringify({ training_run_id: runId })],
  }));
  const other = (name: string, method: string, path: string, fields: string[] = [], valid = ["{}"]) => ({ name, method, path, fields, valid });
  return [
    ...dm,
    other("chat", "POST", "/v1/api/chat", ["message", "k"], ['{"message":"What is VWAP?"}', '{"message":"stop loss","k":2}']),
    other("health", "GET", "/v1/api/health"),
    other("unknown api", "GET", "/v1/api/{id}"),
    other("unknown deep-memory", "GET", `${API_PATHS.deepMemory}/{id}/x`),
    other("admin", "GET", "/"),
    other("admin route", "GET", "/runs/{id}"),
    other("asset", "GET", "/assets/{id}"),
    other("asset up", "GET", "/assets/../{id}"),
    other("asset encoded up", "GET", "/assets/%2e%2e/%2e%2e/{id}"),
    other("top level", "GET", "/{id}"),
  ];
}

function requests(): fc.Arbitrary<{ target: FuzzTarget; req: RawRequest }> {
  return requestArbitrary({
    targets: targets(),
    segment: fc.oneof(segmentArbitrary([runId, ...jobIds]), fc.constantFrom("app.js", "index.html", "missing.js", "..", "%2e%2e", "etc%2Fpasswd")),
    // The demo user (no header) has a trained run covering everything, so no valid request starts background work.
    users: [null, null, null, "mallory", "", DEMO_USER_ID.toUpperCase()],
    userHeader: "x-user-id",
    bodyLimit: BODY_LIMIT,
    ownMethodWeight: 5,
    otherMethods: ["HEAD", "DELETE", "PATCH", "OPTIONS", "GET", "POST", "PUT", "PROPFIND"],
  });
}

/** The admin app's own files may be HTML or JavaScript: a 200 for GET/HEAD outside /v1/. */
function isAdminFile(req: RawRequest, res: RawResponse): boolean {
  return res.status === 200 && (req.method === "GET" || req.method === "HEAD") && !req.path.startsWith("/v1/");
}

/** The demo user's runs (with their pair counts) and settings: what any request could change. */
async function storeState(): Promise<string> {
  const { store } = running.backend;
  const { runs, total } = await store.listRuns(DEMO_USER_ID, { limit: 100, offset: 0 });
  return JSON.stringify({ total, runs: runs.map(({ leaseExpiresAt: _l, ...r }) => r), settings: await store.getSettings(DEMO_USER_ID) });
}

function violationsOf(target: FuzzTarget, req: RawRequest, res: RawResponse): string[] {
  if (isAdminFile(req, res)) return [];
  return responseViolations(req, res, { eventStreamAllowed: target.name === "jobEvents" });
}

describe("the example app under random requests", () => {
  beforeAll(async () => {
    adminDir = mkdtempSync(join(tmpdir(), "admin-fuzz-"));
    mkdirSync(join(adminDir, "assets"));
    writeFileSync(join(adminDir, "index.html"), "<!doctype html><title>admin</title><div id=root></div>");
    writeFileSync(join(adminDir, "assets", "app.js"), "console.log('admin');");
    // Vitest runs with NODE_ENV=test: the app must not print stacks there either.
    running = await startServer({ dataDir: "memory://", port: 0, adminDir, providers: offlineProviders() });
    const { trainer } = running.backend;
    const gen = await trainer.generate({ userId: DEMO_USER_ID });
    await trainer.waitForJob({ userId: DEMO_USER_ID, jobId: gen.jobId });
    const train = await trainer.train({ userId: DEMO_USER_ID, runId: gen.runId });
    await trainer.waitForJob({ userId: DEMO_USER_ID, jobId: train.jobId });
    runId = gen.runId;
    jobIds = [gen.jobId, train.jobId];
  });

  afterAll(async () => {
    await running?.close();
    if (adminDir) rmSync(adminDir, { recursive: true, force: true });
  });

  it("answers JSON with a code everywhere but the admin app's own files: no HTML error page, no stack, no 5xx, no hang", async () => {
    await fc.assert(
      fc.asyncProperty(requests(), async ({ target, req }) => {
        const before = await storeState();
        const res = await sendRaw(running.url, req);
        const violations = violationsOf(target, req, res);
        if (res.status >= 400 && (await storeState()) !== before) violations.push("the store changed");
        expect(violations, `-> ${res.status} ${res.text.slice(0, 300)}`).toEqual([]);
      }),
      fuzzRunOptions(200),
    );
  }, 120_000);

  it("answers the issue's probes as JSON: a malformed id, latin1 JSON, a broken gzip body, /assets/.. paths, unknown routes", async () => {
    const probes: [RawRequest, number, string][] = [
      [{ method: "GET", path: `${API_PATHS.deepMemory}/runs/%ZZ`, headers: {} }, 400, "VALIDATION_FAILED"],
      [{ method: "GET", path: `${API_PATHS.events}/stream/%E0%A4%A`, headers: {} }, 400, "VALIDATION_FAILED"],
      [{ method: "PUT", path: `${API_PATHS.deepMemory}/settings`, headers: { "content-type": "application/json; charset=latin1" }, body: Buffer.from('{"enabled":true}') }, 415, "UNSUPPORTED_MEDIA_TYPE"],
      [{ method: "POST", path: "/v1/api/chat", headers: { "content-type": "application/json; charset=latin1" }, body: Buffer.from('{"message":"hi"}') }, 415, "UNSUPPORTED_MEDIA_TYPE"],
      [{ method: "POST", path: "/v1/api/chat", headers: { "content-type": "application/json", "content-encoding": "gzip" }, body: Buffer.from('{"message":"hi"}') }, 400, "INVALID_JSON"],
      [{ method: "POST", path: "/v1/api/chat", headers: { "content-type": "application/json", "content-encoding": "x-zip" }, body: Buffer.from('{"message":"hi"}') }, 415, "UNSUPPORTED_MEDIA_TYPE"],
      [{ method: "GET", path: "/assets/..", headers: {} }, 404, "NOT_FOUND"],
      [{ method: "GET", path: "/assets/%2e%2e/%2e%2e/etc/passwd", headers: {} }, 404, "NOT_FOUND"],
      [{ method: "GET", path: "/assets/%ZZ", headers: {} }, 400, "VALIDATION_FAILED"],
      [{ method: "GET", path: "/assets/missing.js", headers: {} }, 404, "NOT_FOUND"],
      [{ method: "GET", path: "/v1/api/nope", headers: {} }, 404, "NOT_FOUND"],
      [{ method: "DELETE", path: "/", headers: {} }, 404, "NOT_FOUND"],
      [{ method: "POST", path: "/v1/api/health", headers: {} }, 404, "NOT_FOUND"],
    ];
    for (const [req, status, code] of probes) {
      const res = await sendRaw(running.url, req);
      expect(responseViolations(req, res), `${req.method} ${req.path}`).toEqual([]);
      expect([res.status, JSON.parse(res.text).error.code], `${req.method} ${req.path}`).toEqual([status, code]);
    }
  });

  // FUZZ_REPORT=1: the same requests tallied instead of asserted (the before/after figures of issue 13).
  it.runIf(process.env.FUZZ_REPORT === "1")("tallies what a sample of random requests got", async () => {
    const tally = new Map<string, number>();
    const count = (kind: string) => tally.set(kind, (tally.get(kind) ?? 0) + 1);
    for (const { target, req } of fc.sample(requests(), { numRuns: Number(process.env.FUZZ_RUNS ?? 1000), seed: 13 })) {
      const res = await sendRaw(running.url, req);
      count("requests");
      const html = /^text\/html/.test(String(res.headers["content-type"] ?? ""));
      if (html && !isAdminFile(req, res)) {
        count("HTML error pages");
        if (/ at |node_modules|Error:/.test(res.text)) count("with a stack trace");
      }
      const violations = violationsOf(target, req, res);
      if (violations.length > 0 && process.env.FUZZ_DEBUG) console.log("VIOLATION", res.status, req.method, req.path, violations.join("; "), res.text.slice(0, 80));
      for (const v of violations) count(v.replace(/ \(.*$/, "").replace(/status 5\d\d/, "5xx"));
    }
    console.log("[example app fuzz tally]", JSON.stringify(Object.fromEntries(tally)));
  }, 300_000);
});
