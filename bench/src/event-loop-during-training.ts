/**
 * How long the event loop of the process that trains is blocked while deep
 * memory trains: what a server's cheap routes (health checks, status polls,
 * SSE) feel. Two probes run during each training:
 *   - perf_hooks.monitorEventLoopDelay (10 ms resolution): delay percentiles;
 *   - an HTTP server in this process with a /health route, polled by a child
 *     process every 20 ms (one request at a time): the route's latency as a
 *     client sees it.
 * Paths: "engine" (LocalDeepMemory.train alone) and "trainer" (importPairs ->
 * train -> evaluation through DeepMemoryTrainer with in-memory stores, the
 * example server's path). Data: the synthetic speed task (5,000 pairs over
 * 5,000 chunks, several questions per chunk so a question memory is tried),
 * seeded, so before/after runs train the same model.
 *
 *   tsx --conditions=@zip/source bench/src/event-loop-during-training.ts [--paths engine,trainer] [--dims 384]
 *       [--per-chunk 4] [--runs 3] [--engine-options '{}'] [--out results]
 */
import { spawn } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { parseArgs } from "node:util";
import {
  DeepMemoryTrainer,
  InMemoryTrainingStore,
  InMemoryVectorStore,
  LocalDeepMemory,
  type Embedder,
  type LocalDeepMemoryOptions,
} from "@zip/deep-memory";
import { referenceSpeed, syntheticTask } from "./engine-speed.js";

const { values } = parseArgs({
  options: {
    paths: { type: "string", default: "engine,trainer" },
    dims: { type: "string", default: "384" },
    "per-chunk": { type: "string", default: "4" },
    runs: { type: "string", default: "3" },
    seed: { type: "string", default: "42" },
    "engine-options": { type: "string", default: "{}" },
    out: { type: "string", default: "results" },
  },
});
const engineOptions = JSON.parse(values["engine-options"]) as LocalDeepMemoryOptions;
const d = Number(values.dims);
const seed = Number(values.seed);

/**
 * Polls GET url every intervalMs, one request at a time, until its stdin
 * closes. Writes "ready" once a first request was answered (that one loads
 * fetch and opens the connection: not counted), then the latencies (ms) of
 * the rest as JSON.
 */
const probeSource = `
const url = process.argv[1], interval = Number(process.argv[2]);
const latencies = [];
let stop = false, first = true;
process.stdin.on("data", () => {}).on("end", () => (stop = true));
(async () => {
  while (!stop) {
    const s = performance.now();
    try { await (await fetch(url)).text(); if (!first) latencies.push(performance.now() - s); } catch { latencies.push(-1); }
    if (first) { first = false; process.stdout.write("ready\\n"); }
    const wait = interval - (performance.now() - s);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  process.stdout.write(JSON.stringify(latencies));
})();
`;

interface Probe {
  /** Resolves once the child has had a first answer. */
  started: Promise<void>;
  stop(): Promise<number[]>;
}

function startProbe(url: string, intervalMs: number): Probe {
  const child = spawn(process.execPath, ["-e", probeSource, url, String(intervalMs)], { stdio: ["pipe", "pipe", "inherit"] });
  let output = "";
  let ready: () => void = () => {};
  const started = new Promise<void>((resolve) => (ready = resolve));
  child.stdout.on("data", (chunk: Buffer) => {
    output += chunk.toString();
    if (output.startsWith("ready\n")) ready();
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return {
    started,
    async stop() {
      child.stdin.end();
      await exited;
      return JSON.parse(output.slice("ready\n".length) || "[]") as number[];
    },
  };
}

function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

interface Measurement {
  path: string;
  run: number;
  trainSeconds: number;
  loopDelayMs: { p50: number; p95: number; p99: number; max: number };
  health: { requests: number; p50: number; p95: number; max: number; over50ms: number };
  engineThread?: string;
}

async function measure(path: string, run: number, train: () => Promise<void>, url: string): Promise<Measurement> {
  const probe = startProbe(url, 20);
  await probe.started;
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  const s = performance.now();
  await train();
  const trainSeconds = (performance.now() - s) / 1000;
  histogram.disable();
  const latencies = (await probe.stop()).filter((v) => v >= 0).sort((a, b) => a - b);
  const ms = (ns: number) => +(ns / 1e6).toFixed(1);
  return {
    path,
    run,
    trainSeconds: +trainSeconds.toFixed(2),
    loopDelayMs: { p50: ms(histogram.percentile(50)), p95: ms(histogram.percentile(95)), p99: ms(histogram.percentile(99)), max: ms(histogram.max) },
    health: {
      requests: latencies.length,
      p50: +percentile(latencies, 50).toFixed(1),
      p95: +percentile(latencies, 95).toFixed(1),
      max: +(latencies.at(-1) ?? 0).toFixed(1),
      over50ms: latencies.filter((v) => v > 50).length,
    },
  };
}

async function main() {
  const reference = referenceSpeed();
  const task = syntheticTask(d, seed, Number(values["per-chunk"]));
  const server = createServer((_, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end('{"ok":true}');
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/health`;
  const results: Measurement[] = [];
  const paths = values.paths.split(",").map((p) => p.trim());
  for (let run = 1; run <= Number(values.runs); run++) {
    if (paths.includes("engine")) {
      results.push(
        await measure("engine", run, async () => {
          await new LocalDeepMemory(engineOptions).train({ dimensions: d, ...task, seed });
        }, url),
      );
    }
    if (paths.includes("trainer")) {
      const vectors = new Map<string, Float32Array>();
      task.queries.forEach((q, i) => vectors.set(`question ${i}`, q));
      // Answers from the table after a macrotask, as a real embedder (HTTP, or ONNX on its thread pool) does.
      const embedder: Embedder = {
        model: "synthetic",
        embed: (texts) => new Promise((resolve) => setImmediate(() => resolve(texts.map((t) => vectors.get(t) ?? task.corpus[0]!)))),
      };
      const trainer = new DeepMemoryTrainer({
        vectorStore: new InMemoryVectorStore(task.corpus.map((embedding, i) => ({ id: `chunk-${i}`, text: `chunk ${i}`, embedding }))),
        store: new InMemoryTrainingStore(),
        embedder,
        engine: new LocalDeepMemory(engineOptions),
        options: { seed },
      });
      const userId = "event-loop";
      const { runId } = await trainer.importPairs({ userId, pairs: task.queries.map((_, i) => ({ question: `question ${i}`, chunkId: `chunk-${task.positives[i]![0]}` })) });
      results.push(
        await measure("trainer", run, async () => {
          const { jobId } = await trainer.train({ userId, runId });
          const done = await trainer.waitForJob({ userId, jobId });
          if (done.type !== "completed") throw new Error(`training failed: ${JSON.stringify(done)}`);
        }, url),
      );
      await trainer.close();
    }
  }
  server.close();

  console.log(`\nEvent loop while training (d=${d}, 5,000 pairs, ${values["per-chunk"]} questions per chunk; engine options ${values["engine-options"]})`);
  console.log("path    | run | train s | loop delay p50 / p95 / p99 / max ms | /health requests | p50 / p95 / max ms | over 50 ms");
  for (const r of results) {
    const loop = `${r.loopDelayMs.p50} / ${r.loopDelayMs.p95} / ${r.loopDelayMs.p99} / ${r.loopDelayMs.max}`;
    const health = `${r.health.p50} / ${r.health.p95} / ${r.health.max}`;
    console.log(`${r.path.padEnd(7)} | ${String(r.run).padStart(3)} | ${r.trainSeconds.toFixed(2).padStart(7)} | ${loop.padStart(35)} | ${String(r.health.requests).padStart(16)} | ${health.padStart(18)} | ${String(r.health.over50ms).padStart(10)}`);
  }
  console.log(`machine reference (JS dot loop, multiply-adds per ns): ${reference.join(", ")}`);
  await mkdir(values.out, { recursive: true });
  const file = join(values.out, `event-loop-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
  await writeFile(file, `${JSON.stringify({ dimensions: d, perChunk: Number(values["per-chunk"]), engineOptions, reference, results }, null, 2)}\n`);
  console.log(`wrote ${file}`);
}

main().catch((error) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
