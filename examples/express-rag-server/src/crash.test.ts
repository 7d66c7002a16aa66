/**
 * kill -9 of the example server in the middle of each stage (generation,
 * training, import), on PGlite and on a real PostgreSQL: a restart under the
 * same instance id recovers within seconds, and nothing is lost or stored twice.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { InMemoryTrainingStore, type TrainingPair } from "@zip/deep-memory";
import { afterAll, beforeAll, expect, it } from "vitest";
import { DEMO_USER_ID } from "./auth.js";
import { openBackend } from "./backend.js";
import { startServer } from "./server.js";
import { offlineProviders } from "./test-utils/offline-providers.js";
import { createTestDatabase, describeEachStore, until, type TestDatabase } from "./test-utils/stores.js";

// tsx as a loader of this very process (its CLI would run the script in a grandchild that SIGKILL does not reach).
const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
const childScript = fileURLToPath(new URL("./test-utils/crash-child.ts", import.meta.url));

/** Every child still running, killed after the tests whatever happened. */
const children = new Set<ChildProcess>();
afterAll(() => {
  for (const child of children) child.kill("SIGKILL");
});

interface Child {
  url: string;
  /** The instance id the server's leases carry. */
  instanceId: string | null;
  /** The run's stored pairs, read through the server's own database connection. */
  pairs(runId: string): Promise<TrainingPair[]>;
  /** SIGKILL: no cleanup, leases left behind. */
  kill(): Promise<void>;
  /** SIGTERM: a graceful stop that closes the database. */
  stop(): Promise<void>;
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once("exit", () => resolve()));
}

/** This process's environment without the child's own settings: a DATABASE_URL exported for the test run must not send the PGlite case to PostgreSQL. */
function inheritedEnv(): NodeJS.ProcessEnv {
  const own = new Set(["DATABASE_URL", "DATA_DIR", "INSTANCE_ID", "GENERATION_DELAY_MS", "EMBED_DELAY_MS", "WRITE_DELAY_MS", "LEASE_MS"]);
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !own.has(name)));
}

/** Starts the example server in a child process and waits until it listens. */
async function spawnServer(env: Record<string, string>): Promise<Child> {
  const child = spawn(process.execPath, ["--import", tsxLoader, "--conditions=@zip/source", childScript], {
    env: { ...inheritedEnv(), ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
  child.once("exit", () => children.delete(child));
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const spawned = performance.now();
  const started = await new Promise<{ url: string; inspectUrl: string; instanceId: string | null }>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`the server did not start in 60 s: ${stderr}`)), 60_000);
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const line = out.split("\n").find((l) => l.startsWith("{"));
      if (line) {
        clearTimeout(timer);
        resolve(JSON.parse(line) as { url: string; inspectUrl: string; instanceId: string | null });
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the server exited (${code}) before listening: ${stderr}`));
    });
  });
  if (process.env.CRASH_DEBUG) console.log(`[crash] server up in ${Math.round(performance.now() - spawned)} ms`);
  return {
    url: started.url,
    instanceId: started.instanceId,
    pairs: async (runId) => (await (await fetch(`${started.inspectUrl}/pairs/${DEMO_USER_ID}/${runId}`)).json()) as TrainingPair[],
    kill: async () => {
      child.kill("SIGKILL");
      await exited(child);
    },
    stop: async () => {
      child.kill("SIGTERM");
      await exited(child);
    },
  };
}

interface Answer {
  status: number;
  headers: Headers;
  json: Record<string, any>;
}

async function api(url: string, method: string, path: string, body?: unknown): Promise<Answer> {
  const response = await fetch(`${url}/v1/api/deep-memory${path}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, headers: response.headers, json: (await response.json()) as Record<string, any> };
}

function byChunk(pairs: readonly TrainingPair[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const p of pairs) (out[p.chunkId] ??= []).push(p.question);
  return out;
}

let uninterrupted: Promise<Record<string, string[]>> | undefined;

/** What an uninterrupted generation stores, per chunk (the offline generator is deterministic), computed once. */
function uninterruptedGeneration(): Promise<Record<string, string[]>> {
  uninterrupted ??= (async () => {
    const store = Object.assign(new InMemoryTrainingStore(), { close: async () => {} });
    const backend = await openBackend({ store, providers: offlineProviders() });
    const gen = await backend.trainer.generate({ userId: DEMO_USER_ID });
    await backend.trainer.waitForJob({ userId: DEMO_USER_ID, jobId: gen.jobId });
    const pairs = byChunk(await store.listPairs(DEMO_USER_ID, [gen.runId]));
    await backend.close();
    return pairs;
  })();
  return uninterrupted;
}

describeEachStore("kill -9 of the example server", (kind) => {
  let database: TestDatabase | undefined;
  let dataDir: string;
  let target: Record<string, string>;
  let reference: Record<string, string[]>;
  let runId: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "crash-"));
    if (kind === "postgres") database = await createTestDatabase();
    // Against PostgreSQL, replicas name themselves (DEEP_MEMORY_INSTANCE_ID in main.ts); a PGlite folder names its one server by default.
    target = database ? { DATABASE_URL: database.url, INSTANCE_ID: "api-1" } : { DATA_DIR: join(dataDir, "pglite") };
    reference = await uninterruptedGeneration();
  });

  afterAll(async () => {
    await database?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("during generation: another instance is told when to retry; a restart under the same id resumes at once, every chunk's pairs stored once", { timeout: 180_000 }, async () => {
    const a = await spawnServer({ ...target, GENERATION_DELAY_MS: "25" });
    const gen = await api(a.url, "POST", "/generate");
    expect(gen.status).toBe(202);
    runId = gen.json.training_run_id;
    await until(() => api(a.url, "GET", `/status/${gen.json.job_id}`), (s) => s.json.processed_chunks >= 8, "chunks to be recorded");
    await a.kill();

    if (database) {
      // Another replica cannot tell a dead holder from a slow one: it is told when to try again (the lease is 30 s).
      const other = await startServer({ databaseUrl: database.url, port: 0, instanceId: "api-2", providers: offlineProviders() });
      try {
        const refused = await fetch(`${other.url}/v1/api/deep-memory/import`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ pairs: [{ question: "What is VWAP?", chunk_id: Object.keys(reference)[0] }] }),
        });
        expect(refused.status).toBe(409);
        const retryAfter = Number(refused.headers.get("retry-after"));
        expect(retryAfter).toBeGreaterThan(0);
        expect(retryAfter).toBeLessThanOrEqual(30);
      } finally {
        await other.close();
      }
    } else expect(a.instanceId).toContain(target.DATA_DIR);

    const b = await spawnServer(target);
    const started = performance.now();
    const resumed = await api(b.url, "POST", "/generate");
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(resumed.status).toBe(202);
    expect(resumed.json).toMatchObject({ training_run_id: runId, resumed: true, joined: false });
    const done = await until(() => api(b.url, "GET", `/status/${resumed.json.job_id}`), (s) => !s.json.active, "generation to finish");
    expect(done.json).toMatchObject({ status: "generated", processed_chunks: 85, total_chunks: 85, percent: 100 });
    expect(byChunk(await b.pairs(runId))).toEqual(reference);
    await b.stop();
  });

  it("during training: after a restart the run says it was interrupted and trains again at once", { timeout: 180_000 }, async () => {
    const a = await spawnServer({ ...target, EMBED_DELAY_MS: "40" });
    const train = await api(a.url, "POST", "/train", { training_run_id: runId });
    expect(train.status).toBe(202);
    await until(() => api(a.url, "GET", `/status/${train.json.job_id}`), (s) => s.json.phase === "embedding" && s.json.percent > 0, "training to start embedding");
    await a.kill();

    const b = await spawnServer(target);
    const interrupted = await api(b.url, "GET", `/runs/${runId}`);
    expect(interrupted.json).toMatchObject({ status: "failed", failed_phase: "training", error: expect.stringContaining("interrupted") });
    const again = await api(b.url, "POST", "/train", { training_run_id: runId });
    expect(again.status).toBe(202);
    const done = await until(() => api(b.url, "GET", `/status/${again.json.job_id}`), (s) => !s.json.active, "training to finish", 60_000);
    expect(done.json).toMatchObject({ status: "completed", percent: 100 });
    expect(done.json.metrics).not.toBeNull();
    expect(byChunk(await b.pairs(runId))).toEqual(reference);
    await b.stop();
  });

  it("during an import: importing the same pairs again after a restart finishes that run, every pair once", { timeout: 180_000 }, async () => {
    const pairs = Object.keys(reference).flatMap((chunkId) => [0, 1, 2].map((k) => ({ question: `Imported question ${k} about ${chunkId}?`, chunk_id: chunkId })));
    const a = await spawnServer({ ...target, WRITE_DELAY_MS: "20" });
    const lost = api(a.url, "POST", "/import", { pairs, source: "chat-feedback" }).catch(() => null);
    const pending = await until(
      () => api(a.url, "GET", "/runs?limit=1"),
      (r) => r.json.runs[0]?.generation.model === "import:chat-feedback" && r.json.runs[0].processed_chunks >= 10,
      "the import to write chunks",
    );
    await a.kill();
    expect(await lost).toBeNull();

    const b = await spawnServer(target);
    const started = performance.now();
    const imported = await api(b.url, "POST", "/import", { pairs, source: "chat-feedback" });
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(imported.status).toBe(201);
    expect(imported.json).toMatchObject({ training_run_id: pending.json.runs[0].id, resumed: true, imported: pairs.length });
    const stored = byChunk(await b.pairs(imported.json.training_run_id));
    await b.stop();
    expect(Object.keys(stored)).toHaveLength(Object.keys(reference).length);
    for (const [chunkId, questions] of Object.entries(stored)) expect(questions.sort(), chunkId).toEqual([0, 1, 2].map((k) => `Imported question ${k} about ${chunkId}?`));
  });
});
