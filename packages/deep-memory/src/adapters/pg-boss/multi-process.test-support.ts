/**
 * One process of the multi-process test (multi-process.test.ts), started as a
 * child: `DEEP_MEMORY_TEST_CHILD=1 node --import tsx --conditions=@zip/source <this file> <role> <database url>`.
 *
 * - role "api": a trainer that only enqueues, behind a small HTTP server
 *   (POST /generate, /train, /cancel, GET /events/<jobId> as Server-Sent Events
 *   from trainer.jobEvents, with Last-Event-ID). Prints "READY <port>".
 * - role "worker": the same trainer configuration run as a worker
 *   (runWorker). Prints "READY", and "TRAINING <pid>" when it starts training.
 *
 * Every process builds the same synthetic corpus, so they agree on the chunks.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { LocalDeepMemory } from "@zip/deep-memory-engine";
import type { DeepMemoryEngine } from "../../ports/deep-memory-engine.js";
import type { QuestionGenerator } from "../../ports/question-generator.js";
import { syntheticCorpus } from "../../test-utils/synthetic.js";
import { syntheticTrainer } from "../../test-utils/synthetic-trainer.js";
import { DeepMemoryTrainer } from "../../trainer/deep-memory-trainer.js";
import { runWorker } from "../../trainer/run-worker.js";
import { PostgresTrainingStore } from "../postgres/postgres-training-store.js";
import { PgBossJobRunner } from "./pg-boss-job-runner.js";

export const CHUNKS = 600;
export const QUESTIONS_PER_CHUNK = 2;
/** Each generator call takes this long, so a generation lasts long enough to kill a worker in the middle. */
const LATENCY_MS = 40;

/** The pg-boss settings every process of the test uses: short expiry and maintenance, so a dead worker's task returns in seconds. */
export function testJobRunner(url: string): PgBossJobRunner {
  return new PgBossJobRunner({
    connectionString: url,
    bossOptions: { max: 3, maintenanceIntervalSeconds: 1 },
    pollingIntervalSeconds: 0.5,
    batchConcurrency: 2,
    generateBatch: { expireInSeconds: 8, retryLimit: 5, retryDelay: 0 },
    train: { expireInSeconds: 30, retryLimit: 3, retryDelay: 0 },
  });
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      reject(signal.reason instanceof Error ? signal.reason : new Error("aborted"));
    }, { once: true });
  });
}

async function main(): Promise<void> {
  const [role, url] = process.argv.slice(2);
  if ((role !== "api" && role !== "worker") || !url) throw new Error("usage: <api|worker> <database url>");
  const corpus = syntheticCorpus({ chunks: CHUNKS, dims: 16, seed: 21 });
  const store = new PostgresTrainingStore({ connectionString: url, max: 4 });
  const generator: QuestionGenerator = {
    model: "slow-scripted",
    async generate({ chunk, count, signal }) {
      await sleep(LATENCY_MS, signal);
      return Array.from({ length: count }, (_, k) => corpus.questionFor(chunk.id, k));
    },
  };
  const local = new LocalDeepMemory();
  // Says when training starts (so the test can kill this process mid-training), then holds it a moment longer.
  const engine: DeepMemoryEngine = {
    name: local.name,
    train: async (input) => {
      process.stdout.write(`TRAINING ${process.pid}\n`);
      await sleep(1500, input.signal);
      return local.train(input);
    },
    load: (model) => local.load(model),
  };
  const trainer = syntheticTrainer(corpus, {
    store,
    generator,
    engine,
    jobRunner: testJobRunner(url),
    events: store.jobEventLog({ pollMs: 500 }),
    instanceId: `${role}-${process.pid}`,
    options: { questionsPerChunk: QUESTIONS_PER_CHUNK, concurrency: 2, batchSize: 20, retries: 0, leaseMs: 10_000, progressIntervalMs: 200 },
  });
  if (role === "worker") {
    await runWorker({ trainer });
    process.stdout.write("READY\n");
    return;
  }
  const server = createServer((req, res) => {
    handle(trainer, req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead((error as { code?: string }).code === "NOT_FOUND" ? 404 : 500, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: String((error as Error).message) }));
    });
  });
  server.listen(0, "127.0.0.1", () => {
    const address = server.address();
    process.stdout.write(`READY ${typeof address === "object" && address ? address.port : 0}\n`);
  });
}

async function body(req: IncomingMessage): Promise<Record<string, unknown>> {
  let text = "";
  for await (const chunk of req) text += String(chunk);
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

async function handle(trainer: DeepMemoryTrainer, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? "/", "http://localhost");
  const json = (value: unknown) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(value));
  };
  if (req.method === "POST" && url.pathname === "/generate") return json(await trainer.generate((await body(req)) as { userId: string }));
  if (req.method === "POST" && url.pathname === "/cancel") return json(await trainer.cancel((await body(req)) as { userId: string; jobId: string }));
  if (req.method === "POST" && url.pathname === "/train") return json(await trainer.train((await body(req)) as { userId: string; runId: string }));
  const events = /^\/events\/([\w-]+)$/.exec(url.pathname);
  if (req.method === "GET" && events) {
    const userId = url.searchParams.get("userId") ?? "";
    const after = Number(req.headers["last-event-id"] ?? 0);
    const controller = new AbortController();
    res.on("close", () => controller.abort());
    const iterator = trainer.jobEvents({ userId, jobId: events[1]!, after, signal: controller.signal });
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    for await (const event of iterator) res.write(`id: ${event.seq}\ndata: ${JSON.stringify(event)}\n\n`);
    res.end();
    return;
  }
  res.writeHead(404).end();
}

// The test imports this file for its settings; only a child started by the test runs it.
if (process.env.DEEP_MEMORY_TEST_CHILD === "1") {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
