/**
 * The example server as the crash tests run it in a child process, to kill
 * it with SIGKILL mid-job: startServer with offline providers (no model
 * files, instant start) and knobs that make each stage last long enough to be
 * caught in the middle. Prints one JSON line `{"url", "inspectUrl"}` once it
 * listens; GET <inspectUrl>/pairs/<userId>/<runId> answers the run's stored
 * pairs, so a test reads the database through the process that holds it.
 *
 * Environment: DATA_DIR or DATABASE_URL, INSTANCE_ID, GENERATION_DELAY_MS
 * (gap between generator calls), EMBED_DELAY_MS (per embedder call, as a
 * remote API), WRITE_DELAY_MS (before each chunk write), LEASE_MS.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { PGliteTrainingStore } from "@zip/deep-memory/pglite";
import { PostgresTrainingStore } from "@zip/deep-memory/postgres";
import type { ClosableTrainingStore } from "../backend.js";
import { startServer } from "../server.js";
import { offlineProviders } from "./offline-providers.js";

const env = process.env;
const number = (name: string, fallback: number) => (env[name] ? Number(env[name]) : fallback);

const store: ClosableTrainingStore = env.DATABASE_URL
  ? await PostgresTrainingStore.connect({ connectionString: env.DATABASE_URL })
  : await PGliteTrainingStore.open({ dataDir: env.DATA_DIR ?? "memory://" });
const writeDelayMs = number("WRITE_DELAY_MS", 0);
if (writeDelayMs > 0) {
  const record = store.recordChunk.bind(store);
  store.recordChunk = async (...args) => {
    await new Promise((resolve) => setTimeout(resolve, writeDelayMs));
    return record(...args);
  };
}

const running = await startServer({
  port: 0,
  store,
  // The PGlite folder names the server by default (backend.defaultInstanceId).
  ...(env.DATA_DIR ? { dataDir: env.DATA_DIR } : {}),
  ...(env.INSTANCE_ID ? { instanceId: env.INSTANCE_ID } : {}),
  providers: offlineProviders({ embedDelayMs: number("EMBED_DELAY_MS", 0) }),
  trainerOptions: { delayMs: number("GENERATION_DELAY_MS", 0), leaseMs: number("LEASE_MS", 30_000), embedBatchSize: 16 },
});
const inspect = createServer((req, res) => {
  const [, what, userId, runId] = (req.url ?? "").split("/");
  if (what !== "pairs" || !userId || !runId) return void res.writeHead(404).end();
  store.listPairs(decodeURIComponent(userId), [decodeURIComponent(runId)]).then(
    (pairs) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(pairs)),
    (error: unknown) => res.writeHead(500).end(String(error)),
  );
});
await new Promise<void>((resolve) => inspect.listen(0, "127.0.0.1", resolve));
const inspectUrl = `http://127.0.0.1:${(inspect.address() as AddressInfo).port}`;
process.stdout.write(`${JSON.stringify({ url: running.url, inspectUrl, instanceId: running.backend.instanceId ?? null })}\n`);
process.on("SIGTERM", () => {
  inspect.close();
  void running.close().then(() => process.exit(0));
});
