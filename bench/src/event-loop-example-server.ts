/**
 * The example server's /v1/api/health latency while it trains deep memory:
 * the measurement behind issue 13 item 6, from outside the server. Starts
 * examples/express-rag-server (tsx, PGlite in a fresh temp folder, the local
 * embedder, offline question generation) from a repository checkout, runs
 * generate, then polls /health every 20 ms (one request at a time) from this
 * process while the run trains, and reports the latencies.
 *
 *   node scripts/with-model.mjs tsx --conditions=@zip/source bench/src/event-loop-example-server.ts [--repo <checkout>] [--runs 2] [--port 3917]
 *
 * --repo runs another checkout's server (e.g. the code before a change) with
 * the same script, so before and after differ only in the server's code.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { parseSseStream } from "@zip/deep-memory/protocol";

const { values } = parseArgs({
  options: {
    repo: { type: "string", default: "." },
    runs: { type: "string", default: "2" },
    port: { type: "string", default: "3917" },
  },
});
const repo = resolve(values.repo);
const base = `http://127.0.0.1:${values.port}`;

async function startServer(dataDir: string): Promise<ChildProcess> {
  const child = spawn(join(repo, "node_modules/.bin/tsx"), ["--conditions=@zip/source", "examples/express-rag-server/src/main.ts"], {
    cwd: repo,
    env: { ...process.env, PORT: values.port, DEEP_MEMORY_DATA_DIR: dataDir, ADMIN_DIR: join(dataDir, "no-admin"), OPENAI_API_KEY: "", NODE_ENV: "production" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  await new Promise<void>((resolveReady, reject) => {
    const onData = (chunk: Buffer) => {
      log += chunk.toString();
      if (log.includes("ready in")) resolveReady();
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("exit", (code) => reject(new Error(`server exited with ${code}:\n${log}`)));
  });
  return child;
}

async function api<T>(path: string, init: RequestInit = {}): Promise<T> {
  const response = await fetch(`${base}${path}`, { ...init, headers: { "content-type": "application/json", ...init.headers } });
  const text = await response.text();
  if (!response.ok) throw new Error(`${init.method ?? "GET"} ${path}: ${response.status} ${text}`);
  return (text ? JSON.parse(text) : null) as T;
}

async function waitForStatus(runId: string, wanted: string[], onTick?: () => Promise<void>): Promise<string> {
  for (;;) {
    const run = await api<{ status: string }>(`/v1/api/deep-memory/runs/${runId}`);
    if (wanted.includes(run.status)) return run.status;
    if (run.status === "failed") throw new Error(`run ${runId} failed`);
    await (onTick ? onTick() : new Promise((r) => setTimeout(r, 200)));
  }
}

/** Calls onEvent with each event of a job's SSE stream (data as JSON) until the stream ends. */
async function followEvents(path: string, onEvent: (event: { type: string; phase?: string }) => void): Promise<void> {
  const response = await fetch(`${base}${path}`, { headers: { accept: "text/event-stream" } });
  for await (const message of parseSseStream(response.body!)) {
    if (!message.data) continue;
    try {
      onEvent(JSON.parse(message.data) as { type: string; phase?: string });
    } catch {
      // Not an event (data that is not JSON).
    }
  }
}

function summary(latencies: number[]) {
  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (p: number) => +(sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0).toFixed(1);
  return { requests: sorted.length, p50: at(0.5), p95: at(0.95), p99: at(0.99), max: +(sorted.at(-1) ?? 0).toFixed(1), over50ms: sorted.filter((v) => v > 50).length };
}

async function main() {
  const results: { run: number; trainSeconds: number; health: ReturnType<typeof summary>; slowByPhase: Record<string, number[]> }[] = [];
  for (let run = 1; run <= Number(values.runs); run++) {
    const dataDir = await mkdtemp(join(tmpdir(), "dm-example-"));
    const server = await startServer(dataDir);
    try {
      const generated = await api<{ training_run_id: string }>("/v1/api/deep-memory/generate", { method: "POST" });
      await waitForStatus(generated.training_run_id, ["generated"]);
      const latencies: number[] = [];
      const started = performance.now();
      const trained = await api<{ events_url: string }>("/v1/api/deep-memory/train", { method: "POST", body: JSON.stringify({ training_run_id: generated.training_run_id }) });
      // The job's events (SSE) name the phase each slow request fell in.
      let phase = "starting";
      const slowByPhase = new Map<string, number[]>();
      void followEvents(trained.events_url, (event) => (phase = event.phase ? `${event.type} ${event.phase}` : event.type));
      let lastStatus = performance.now();
      // /health every 20 ms, one request at a time; the run's status every 250 ms between them.
      const pollHealth = async () => {
        const s = performance.now();
        const before = phase;
        await api("/v1/api/health");
        const ms = performance.now() - s;
        latencies.push(ms);
        if (ms > 50) {
          const key = before === phase ? phase : `${before} -> ${phase}`;
          slowByPhase.set(key, [...(slowByPhase.get(key) ?? []), +ms.toFixed(0)]);
        }
        const wait = 20 - (performance.now() - s);
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      };
      for (;;) {
        await pollHealth();
        if (performance.now() - lastStatus < 250) continue;
        lastStatus = performance.now();
        const { status } = await api<{ status: string }>(`/v1/api/deep-memory/runs/${generated.training_run_id}`);
        if (status === "completed") break;
        if (status === "failed") throw new Error("training failed");
      }
      results.push({ run, trainSeconds: +((performance.now() - started) / 1000).toFixed(2), health: summary(latencies), slowByPhase: Object.fromEntries(slowByPhase) });
      console.log(`run ${run}: ${JSON.stringify(results.at(-1))}`);
    } finally {
      server.kill("SIGTERM");
      await new Promise((r) => server.once("exit", r));
      await rm(dataDir, { recursive: true, force: true });
    }
  }
  console.log(`\nExample server (${repo}): GET /v1/api/health while a run trains`);
  console.log("run | train s | requests | p50 / p95 / p99 / max ms | over 50 ms");
  for (const r of results) console.log(`${r.run} | ${r.trainSeconds} | ${r.health.requests} | ${r.health.p50} / ${r.health.p95} / ${r.health.p99} / ${r.health.max} | ${r.health.over50ms}`);
  console.log("requests over 50 ms (ms), by the job's phase when they were sent (-> when answered):");
  for (const r of results) for (const [phase, ms] of Object.entries(r.slowByPhase)) console.log(`  run ${r.run}, ${phase}: ${ms.join(", ")}`);
}

main().catch((error) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
