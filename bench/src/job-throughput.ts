/**
 * Job throughput (issue 17.5): question generation with 1, 2 and 4 worker
 * processes (pg-boss queue, job event log, all on one PostgreSQL) against a
 * fake OpenAI-compatible LLM served over HTTP with a fixed latency per call
 * and a fixed rate limit shared by every caller (429 + retry-after-ms beyond
 * it, as OpenAI answers); the in-process default for comparison; and the cost
 * of each job event in the database event log.
 *
 *   pnpm bench:jobs [--chunks 800] [--latency-ms 250] [--rate 100] [--workers 1,2,4] [--out results]
 *
 * Needs PostgreSQL (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/postgres); it works
 * in a database of its own and drops it. Prints a table and writes <out>/job-throughput.json.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { cpus } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import pg from "pg";
import type { NewJob } from "@zip/deep-memory";
import { PostgresTrainingStore } from "@zip/deep-memory/postgres";
import { chatCompletion, questionsReply } from "@zip/deep-memory/testing";
import { BATCH_CONCURRENCY, CONCURRENCY, createBenchTrainer } from "./job-throughput-setup.js";

const { values } = parseArgs({
  options: {
    chunks: { type: "string", default: "800" },
    "latency-ms": { type: "string", default: "250" },
    rate: { type: "string", default: "100" },
    workers: { type: "string", default: "1,2,4" },
    appends: { type: "string", default: "2000" },
    out: { type: "string", default: "results" },
  },
});
const chunks = Number(values.chunks);
const latencyMs = Number(values["latency-ms"]);
const rate = Number(values.rate);
const workerCounts = values.workers.split(",").map(Number);
const appendCount = Number(values.appends);
const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, "../..");
const log = (m: string) => console.error(`[jobs ${new Date().toISOString().slice(11, 19)}] ${m}`);

/** The fake LLM: every call answers after `latencyMs`; beyond `rate` calls per second (shared by all callers) it answers 429. */
function fakeLlm(): Promise<{ server: Server; url: string; stats: { calls: number; limited: number } }> {
  const stats = { calls: 0, limited: 0 };
  let tokens = rate;
  let refilledAt = performance.now();
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      const now = performance.now();
      tokens = Math.min(rate, tokens + ((now - refilledAt) / 1000) * rate);
      refilledAt = now;
      if (tokens < 1) {
        stats.limited++;
        const waitMs = Math.ceil(((1 - tokens) / rate) * 1000);
        res.writeHead(429, { "content-type": "application/json", "retry-after-ms": String(waitMs) });
        res.end(JSON.stringify({ error: { message: "Rate limit reached", type: "requests", param: null, code: "rate_limit_exceeded" } }));
        return;
      }
      tokens -= 1;
      stats.calls++;
      const parsed = JSON.parse(body) as { messages: { content: string }[] };
      const text = parsed.messages.map((m) => m.content).join(" ");
      const tag = /Chunk (\d+)/.exec(text)?.[1] ?? randomUUID();
      setTimeout(() => {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify(chatCompletion(questionsReply([1, 2, 3].map((k) => `What does chunk ${tag} say about point ${k}?`)))));
      }, latencyMs);
    });
  });
  return new Promise((ok) => server.listen(0, "127.0.0.1", () => ok({ server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}/v1`, stats })));
}

async function withAdmin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres" });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

function startWorker(url: string, llm: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", "--conditions=@zip/source", join(here, "job-throughput-worker.ts"), url, llm, String(chunks)], {
    cwd: repoRoot,
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((ok, fail) => {
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes("READY")) ok(child);
    });
    child.once("exit", (code) => fail(new Error(`worker exited (${code}) before it was ready`)));
  });
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((ok) => {
    if (child.exitCode !== null) return ok();
    child.once("exit", () => ok());
    child.kill("SIGTERM");
  });
}

interface Row {
  mode: string;
  workers: number;
  seconds: number;
  chunksPerSecond: number;
  llmCalls: number;
  rateLimited: number;
  /** Events the job emitted (one progress per chunk, plus facts) against what reached the database. */
  eventsEmitted: number;
  eventAppends: number | null;
  eventRows: number | null;
}

async function main(): Promise<void> {
  const dbName = `dm_bench_jobs_${randomBytes(4).toString("hex")}`;
  await withAdmin((c) => c.query(`create database ${dbName}`));
  const base = new URL(process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres");
  base.pathname = `/${dbName}`;
  const url = base.toString();
  const llm = await fakeLlm();
  const rows: Row[] = [];
  const store = await PostgresTrainingStore.connect({ connectionString: url, max: 3 });
  try {
    const eventsOf = async (jobId: string) => {
      const job = await store.pool.query<{ last_seq: number }>("select last_seq from public.deep_memory_jobs where id = $1", [jobId]);
      const stored = await store.pool.query<{ n: number }>("select count(*)::int as n from public.deep_memory_job_events where job_id = $1", [jobId]);
      return { appends: job.rows[0]?.last_seq ?? null, rows: stored.rows[0]?.n ?? null };
    };
    const measure = async (mode: string, workers: number, trainer: ReturnType<typeof createBenchTrainer>["trainer"], logged: boolean) => {
      const userId = `bench-${mode}-${workers}`;
      const before = { ...llm.stats };
      const started = performance.now();
      const { jobId } = await trainer.generate({ userId });
      const done = await trainer.waitForJob({ userId, jobId });
      const seconds = (performance.now() - started) / 1000;
      if (done.type !== "completed" || done.processedChunks !== chunks) throw new Error(`${mode} x${workers} ended ${JSON.stringify(done)}`);
      const events = logged ? await eventsOf(jobId) : { appends: null, rows: null };
      const row: Row = {
        mode,
        workers,
        seconds,
        chunksPerSecond: chunks / seconds,
        llmCalls: llm.stats.calls - before.calls,
        rateLimited: llm.stats.limited - before.limited,
        eventsEmitted: chunks + 2,
        eventAppends: events.appends,
        eventRows: events.rows,
      };
      rows.push(row);
      log(`${mode} x${workers}: ${seconds.toFixed(1)} s, ${row.chunksPerSecond.toFixed(1)} chunks/s, ${row.rateLimited} answers 429`);
    };

    // The default: one process, jobs in-process, events in memory; then the same with the database event log.
    for (const eventLog of [false, true]) {
      const own = createBenchTrainer({ url, llm: llm.url, chunks, queue: false, eventLog });
      await measure(eventLog ? "in-process + DB event log" : "in-process (default)", 1, own.trainer, eventLog);
      await own.trainer.close();
      await own.store.close();
    }

    // The queue: an API trainer that only enqueues, and N worker processes.
    log("starting the queue runs");
    const api = createBenchTrainer({ url, llm: llm.url, chunks, queue: true });
    for (const n of workerCounts) {
      const workers = await Promise.all(Array.from({ length: n }, () => startWorker(url, llm.url)));
      log(`${n} worker(s) ready`);
      await measure("pg-boss workers", n, api.trainer, true);
      await Promise.all(workers.map(stop));
    }
    await api.trainer.close();
    await api.store.close();

    const appends = await appendCost(store);
    const result = {
      machine: { cpus: cpus().length, model: cpus()[0]?.model ?? "unknown" },
      settings: { chunks, latencyMs, ratePerSecond: rate, questionsPerChunk: 3, callsInFlightPerWorker: CONCURRENCY * BATCH_CONCURRENCY, batchSize: 25 },
      throughput: rows,
      eventLog: appends,
    };
    printTable(result.throughput, appends);
    await mkdir(values.out, { recursive: true });
    await writeFile(join(values.out, "job-throughput.json"), JSON.stringify(result, null, 2));
    log(`wrote ${join(values.out, "job-throughput.json")}`);
  } finally {
    await store.close();
    llm.server.close();
    await withAdmin((c) => c.query(`drop database if exists ${dbName} with (force)`));
  }
}

/**
 * What one event costs in the database log: appends one after another on
 * one connection (each a round trip and a row lock), for facts (a new row
 * each) and for progress (replacing the trailing progress row).
 */
async function appendCost(store: PostgresTrainingStore) {
  const eventLog = store.jobEventLog();
  const userId = "bench-append";
  const run = await store.createRun(
    {
      id: randomUUID(),
      userId,
      status: "generating",
      totalChunks: appendCount,
      existingChunks: 0,
      generation: { questionsPerChunk: 3, maxPairs: 1000, model: "bench" },
      generateJobId: null,
      leaseOwner: null,
      leaseExpiresAt: null,
    },
    new Date(),
  );
  const job: NewJob = { jobId: randomUUID(), runId: run.id, userId, kind: "generate" };
  await eventLog.createJob(job, new Date());
  const time = async (make: (i: number) => Parameters<typeof eventLog.append>[1]) => {
    const started = performance.now();
    for (let i = 0; i < appendCount; i++) await eventLog.append(job, make(i), new Date());
    return (performance.now() - started) / appendCount;
  };
  const factMs = await time((i) => ({ type: "chunk_skipped", chunkId: `c-${i}`, reason: "empty text" }));
  const progressMs = await time((i) => ({ type: "progress", phase: "generating", processed: i, total: appendCount, percent: (100 * i) / appendCount, pairCount: 3 * i, skippedChunks: 0 }));
  const readStarted = performance.now();
  const read = await eventLog.read(userId, job.jobId, 0, 10_000);
  const readMs = performance.now() - readStarted;
  const stored = await store.pool.query<{ n: number }>("select count(*)::int as n from public.deep_memory_job_events where job_id = $1", [job.jobId]);
  await eventLog.close();
  return { appends: appendCount, factAppendMs: factMs, progressAppendMs: progressMs, rowsAfter: stored.rows[0]!.n, readAllMs: readMs, readEvents: read.length };
}

function printTable(rows: Row[], appends: Awaited<ReturnType<typeof appendCost>>): void {
  const lines = [
    `Generation of ${chunks} chunks; fake LLM: ${latencyMs} ms per call, ${rate} calls/s shared; ${CONCURRENCY * BATCH_CONCURRENCY} calls in flight per process`,
    "",
    "| mode | workers | seconds | chunks/s | LLM calls | 429 answers | events emitted | event appends | event rows |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ...rows.map(
      (r) =>
        `| ${r.mode} | ${r.workers} | ${r.seconds.toFixed(1)} | ${r.chunksPerSecond.toFixed(1)} | ${r.llmCalls} | ${r.rateLimited} | ${r.eventsEmitted} | ${r.eventAppends ?? "-"} | ${r.eventRows ?? "-"} |`,
    ),
    "",
    `Event log on PostgreSQL, ${appends.appends} appends one after another: a fact ${appends.factAppendMs.toFixed(2)} ms, a progress event ${appends.progressAppendMs.toFixed(2)} ms (${appends.rowsAfter} rows kept for ${2 * appends.appends} appends); reading all ${appends.readEvents} events back ${appends.readAllMs.toFixed(1)} ms`,
  ];
  console.log(lines.join("\n"));
}

await main();
