// @vitest-environment node
/*
 * The client against the real thing: the Express router of
 * @zip/deep-memory-express over a real socket, driving a real
 * DeepMemoryTrainer. What the msw fake cannot prove: the two sides agree on
 * the protocol (bodies, status codes, SSE framing, Last-Event-ID, 204 at the end).
 */
import type { AddressInfo } from "node:net";
import { createServer, type Server } from "node:http";
import {
  DeepMemoryTrainer,
  InMemoryTrainingStore,
  InMemoryVectorStore,
  type DeepMemoryEngine,
  type EngineModel,
  type EngineTrainInput,
  type GenerateQuestionsInput,
  type InMemoryDocument,
  type QueryTransform,
} from "@zip/deep-memory";
import { normalize } from "@zip/deep-memory/evaluation";
import { correlationWeights, linearTransform, mulberry32 } from "@zip/deep-memory/testing";
import { createDeepMemoryRouter, createJobEventsRouter } from "@zip/deep-memory-express";
import type { JobStreamEvent } from "@zip/deep-memory-protocol";
import express from "express";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createDeepMemoryClient, type DeepMemoryClient } from "./client.js";
import type { JobStreamStore } from "./job-stream-store.js";

const DIMS = 12;
const CHUNKS = 24;

function unit(rand: () => number): Float32Array {
  return normalize(Float32Array.from({ length: DIMS }, () => rand() * 2 - 1));
}

/**
 * Questions about a chunk embed to its vector with the axes rotated by one, so
 * plain search ranks them poorly and a linear map learns the way back.
 */
function world() {
  const rand = mulberry32(7);
  const vectors = new Map<string, Float32Array>();
  const documents: InMemoryDocument[] = [];
  for (let i = 0; i < CHUNKS; i++) {
    const id = `chunk-${i}`;
    const embedding = unit(rand);
    vectors.set(id, embedding);
    documents.push({ id, text: `Note ${i}`, embedding, userId: "alice" });
  }
  const embedText = (text: string): Float32Array => {
    const match = /^about (chunk-\d+) #(\d+)$/.exec(text);
    const base = match ? vectors.get(match[1]!) : undefined;
    const noise = mulberry32(text.length * 31 + Number(match?.[2] ?? 0));
    if (!base) return unit(noise);
    return normalize(Float32Array.from({ length: DIMS }, (_, i) => base[(i + 1) % DIMS]! + 0.05 * (noise() * 2 - 1)));
  };
  return { documents, embedText };
}

/** Holds generation until released, so a test can act mid-job. */
class Gate {
  private release: (() => void) | null = null;
  private promise: Promise<void> | null = null;
  close() {
    this.promise = new Promise((resolve) => (this.release = resolve));
  }
  open() {
    this.release?.();
    this.promise = null;
  }
  wait() {
    return this.promise ?? Promise.resolve();
  }
}

class LinearEngine implements DeepMemoryEngine {
  readonly name = "test-linear";
  async train(input: EngineTrainInput): Promise<EngineModel> {
    const w = correlationWeights(input);
    input.onProgress?.({ epoch: 1, epochs: 1, loss: 0.1, validationRecallAt10: 1 });
    return {
      format: "linear/v1",
      dimensions: input.dimensions,
      weights: new Uint8Array(w.buffer),
      report: { engine: this.name, epochs: 1, bestEpoch: 1, trainQueries: input.queries.length, validationQueries: 0, baselineValidationRecallAt10: 0, validationRecallAt10: 1, wallMs: 0 },
    };
  }
  load(model: { dimensions: number; weights: Uint8Array }): QueryTransform {
    return linearTransform(model);
  }
}

interface Running {
  client: DeepMemoryClient;
  gate: Gate;
  streamRequests: { path: string; lastEventId: string | undefined }[];
  close(): Promise<void>;
}

const running: Running[] = [];
afterEach(async () => {
  for (const server of running.splice(0)) await server.close();
});

async function start(): Promise<Running> {
  const { documents, embedText } = world();
  const gate = new Gate();
  const trainer = new DeepMemoryTrainer({
    vectorStore: new InMemoryVectorStore(documents),
    store: new InMemoryTrainingStore(),
    embedder: { model: "test-embedder", embed: async (texts: string[]) => texts.map(embedText) },
    generator: {
      model: "test-generator",
      async generate(input: GenerateQuestionsInput) {
        await gate.wait();
        return Array.from({ length: input.count }, (_, k) => `about ${input.chunk.id} #${k}`);
      },
    },
    engine: new LinearEngine(),
    options: { questionsPerChunk: 4, concurrency: 1, retries: 0, minPairs: 10, heldOutFraction: 0.25 },
  });
  const getUserId = (req: express.Request) => (req.get("authorization") === "Bearer alice-token" ? "alice" : null);
  const streamRequests: Running["streamRequests"] = [];
  const app = express();
  app.use((req, _res, next) => {
    if (req.path.includes("/stream/")) streamRequests.push({ path: req.path, lastEventId: req.get("last-event-id") });
    next();
  });
  app.use("/v1/api/deep-memory", createDeepMemoryRouter({ trainer, getUserId, eventsBasePath: "/v1/api/events", serveEvents: false, heartbeatMs: 50, retryMs: 20 }));
  app.use("/v1/api/events", createJobEventsRouter({ trainer, getUserId, heartbeatMs: 50, retryMs: 20 }));
  const server: Server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = createDeepMemoryClient({
    baseUrl: `${origin}/v1/api/deep-memory`,
    eventsUrl: `${origin}/v1/api/events/stream`,
    headers: async () => ({ authorization: "Bearer alice-token" }),
  });
  const handle: Running = {
    client,
    gate,
    streamRequests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
  running.push(handle);
  return handle;
}

function follow(store: JobStreamStore) {
  const events: JobStreamEvent[] = [];
  const stopEvents = store.onEvent((event) => events.push(event));
  const unsubscribe = store.subscribe(() => {});
  return {
    events,
    stop() {
      stopEvents();
      unsubscribe();
    },
  };
}

describe("client against the real Express router", () => {
  it("runs the whole workflow: generate, follow, review, train, follow, enable, search", async () => {
    const { client, streamRequests } = await start();

    const before = await client.getSettings();
    expect(before).toMatchObject({ enabled: false, can_enable: false, new_chunks_since_last_training: CHUNKS });
    await expect(client.updateSettings({ enabled: true })).rejects.toMatchObject({ status: 409, code: "NO_TRAINED_MODEL" });

    const started = await client.generate();
    expect(started.total_chunks).toBe(CHUNKS);
    const generation = follow(client.jobStream(started.job_id));
    const generationStore = client.jobStream(started.job_id);
    await vi.waitFor(() => expect(generationStore.getSnapshot().done).toBe(true), { timeout: 10_000 });
    generation.stop();
    expect(generationStore.getSnapshot()).toMatchObject({ status: "completed", runStatus: "generated", pairCount: CHUNKS * 4, percent: 100, streamError: null });
    const seqs = generation.events.map((event) => ("seq" in event ? event.seq : 0));
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    expect(streamRequests[0]?.path).toBe(`/v1/api/events/stream/${started.job_id}`);
    // The client's event URL is where the server says the job's events are.
    expect(client.jobEventsUrl(started.job_id).endsWith(started.events_url)).toBe(true);

    const run = await client.getRun(started.training_run_id);
    expect(run).toMatchObject({ status: "generated", pair_count: CHUNKS * 4, statistics: { pair_count: CHUNKS * 4 } });
    expect(run.sample_pairs.length).toBeGreaterThan(0);

    const training = await client.train({ training_run_id: started.training_run_id });
    const trainStore = client.jobStream(training.job_id);
    const trainFollow = follow(trainStore);
    await vi.waitFor(() => expect(trainStore.getSnapshot().done).toBe(true), { timeout: 10_000 });
    trainFollow.stop();
    expect(trainStore.getSnapshot()).toMatchObject({ status: "completed", runStatus: "completed", metrics: { verdict: "improved" } });

    const after = await client.getSettings();
    expect(after).toMatchObject({ can_enable: true, last_training_run_id: started.training_run_id });
    expect(await client.updateSettings({ enabled: true })).toMatchObject({ enabled: true });

    const search = await client.search({ query: "about chunk-3 #1", k: 3 });
    expect(search.deep_memory_applied).toBe(true);
    expect(search.with_deep_memory[0]?.id).toBe("chunk-3");

    const runs = await client.listRuns();
    expect(runs.runs.map((r) => r.id)).toEqual([started.training_run_id]);
    expect(runs.runs[0]?.status).toBe("completed");
  });

  it("resumes with Last-Event-ID after the client left mid-job, and the server releases the stream", async () => {
    const { client, gate, streamRequests } = await start();
    gate.close();
    const started = await client.generate();
    const store = client.jobStream(started.job_id);
    const first = follow(store);
    await vi.waitFor(() => expect(store.getSnapshot().lastEventId).not.toBeNull());
    first.stop();
    await vi.waitFor(() => expect(store.getSnapshot().connection).toBe("idle"));
    const seenBefore = first.events.length;

    gate.open();
    const second = follow(store);
    await vi.waitFor(() => expect(store.getSnapshot().done).toBe(true), { timeout: 10_000 });
    second.stop();
    const all = [...first.events, ...second.events].map((event) => ("seq" in event ? event.seq : 0));
    expect(all).toEqual(all.map((_, i) => i + 1));
    expect(seenBefore).toBeGreaterThan(0);
    expect(streamRequests.map((r) => r.lastEventId)).toEqual([undefined, String(seenBefore)]);
    expect(store.getSnapshot()).toMatchObject({ status: "completed", pairCount: CHUNKS * 4 });
  });

  it("agrees with the real server on Idempotency-Key, joined jobs, NOTHING_TO_GENERATE and Retry-After", async () => {
    const { client, gate } = await start();
    gate.close();
    const first = await client.generate({}, { idempotencyKey: "click-1" });
    expect(await client.generate({}, { idempotencyKey: "click-1" })).toEqual(first);
    expect(await client.generate()).toMatchObject({ job_id: first.job_id, joined: true });
    await expect(client.generate({ questions_per_chunk: 2 }, { idempotencyKey: "click-1" })).rejects.toMatchObject({ status: 422, code: "IDEMPOTENCY_KEY_REUSED" });
    const busy = await client.importPairs({ pairs: [{ question: "about chunk-1 #9", chunk_id: "chunk-1" }] }).catch((e: unknown) => e);
    expect(busy).toMatchObject({ status: 409, code: "RUN_ALREADY_ACTIVE" });
    expect((busy as { retryAfterMs: number }).retryAfterMs).toBeGreaterThan(0);
    gate.open();
    const stream = follow(client.jobStream(first.job_id));
    await vi.waitFor(() => expect(client.jobStream(first.job_id).getSnapshot().done).toBe(true));
    stream.stop();
    await expect(client.generate()).rejects.toMatchObject({ status: 409, code: "NOTHING_TO_GENERATE", details: { training_run_id: first.training_run_id, status: "generated" } });
  });

  it("gets typed errors from the real server: 401, 404 on a stream, 400 with field issues", async () => {
    const { client } = await start();
    const anonymous = createDeepMemoryClient({ baseUrl: client.baseUrl });
    await expect(anonymous.getSettings()).rejects.toMatchObject({ status: 401, code: "UNAUTHORIZED" });
    const unknown = "0b9f3a9e-2c4d-4f6e-8a1b-3c5d7e9f1a2b";
    await expect(client.getRun(unknown)).rejects.toMatchObject({ status: 404, code: "NOT_FOUND" });
    await expect(client.train({ training_run_id: unknown })).rejects.toMatchObject({ status: 404, code: "NOT_FOUND" });
    await expect(client.getRun("no-such-run")).rejects.toMatchObject({ status: 400, code: "VALIDATION_FAILED" });

    const missing = client.jobStream(unknown);
    const stop = missing.subscribe(() => {});
    await vi.waitFor(() => expect(missing.getSnapshot().done).toBe(true));
    expect(missing.getSnapshot().streamError).toMatchObject({ status: 404, code: "NOT_FOUND" });
    stop();

    // Bypassing the client's own validation, to see the server's 400.
    const response = await fetch(`${client.baseUrl}/search`, {
      method: "POST",
      headers: { authorization: "Bearer alice-token", "content-type": "application/json" },
      body: JSON.stringify({ query: "x", k: 1001 }),
    });
    const { errorFromResponse } = await import("./errors.js");
    const error = await errorFromResponse(response);
    expect(error).toMatchObject({ status: 400, code: "VALIDATION_FAILED" });
    expect(error.issues.map((issue) => issue.path)).toContain("k");
  });
});
