import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalEmbedder } from "@zip/deep-memory-local-embedder";
import {
  decodeJobStreamEvent,
  parseSseStream,
  type GenerateResponse,
  type JobStreamEvent,
  type RunDetailResponse,
  type SettingsResponse,
  type TrainResponse,
} from "@zip/deep-memory/protocol";
import { loadKnowledgeBase } from "@zip/example-knowledge-base";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_USER_ID } from "./auth.js";
import type { ChatResponse } from "./chat.js";
import { startServer, type RunningServer } from "./server.js";

// The example runs the real local embedding model; without its files these tests are skipped, never faked.
function hasLocalModel(): boolean {
  try {
    new LocalEmbedder({ allowRemoteModels: false });
    return true;
  } catch {
    return false;
  }
}
const modelFound = hasLocalModel();
if (!modelFound) {
  console.warn(
    "[express-rag-server] SKIPPING server tests: no all-MiniLM-L6-v2 files found (set DEEP_MEMORY_MODEL_DIR; docs/local-models.md).",
  );
}

const otherUser = "7b0c5d2e-4f1a-4c3b-9d8e-2a1b3c4d5e6f";

describe.skipIf(!modelFound)("the example RAG backend", () => {
  let running: RunningServer;
  let adminDir: string;

  const api = async <T>(path: string, init: RequestInit & { user?: string } = {}): Promise<{ status: number; body: T; headers: Headers }> => {
    const { user, ...rest } = init;
    const headers = new Headers(rest.headers);
    if (rest.body !== undefined) headers.set("content-type", "application/json");
    if (user !== undefined) headers.set("x-user-id", user);
    const response = await fetch(`${running.url}${path}`, { ...rest, headers });
    const text = await response.text();
    return { status: response.status, body: (text && response.headers.get("content-type")?.includes("json") ? JSON.parse(text) : text) as T, headers: response.headers };
  };
  const chat = (message: string) => api<ChatResponse>("/v1/api/chat", { method: "POST", body: JSON.stringify({ message, k: 5 }) });

  /** Every event of a job, read from the plan's event path until the stream ends. */
  async function followJob(eventsUrl: string): Promise<JobStreamEvent[]> {
    const response = await fetch(`${running.url}${eventsUrl}`, { headers: { accept: "text/event-stream" } });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const events: JobStreamEvent[] = [];
    for await (const message of parseSseStream(response.body!)) {
      const event = decodeJobStreamEvent(message);
      if (event) events.push(event);
    }
    return events;
  }

  beforeAll(async () => {
    adminDir = mkdtempSync(join(tmpdir(), "admin-"));
    writeFileSync(join(adminDir, "index.html"), "<!doctype html><title>admin</title><div id=root></div>");
    running = await startServer({ dataDir: "memory://", port: 0, adminDir, corsOrigins: ["http://localhost:5173"] });
  });
  afterAll(async () => {
    await running?.close();
    rmSync(adminDir, { recursive: true, force: true });
  });

  it("answers chat from the knowledge base with plain search while deep memory is off, and says why", async () => {
    const { status, body } = await chat("Why can my stop order fill far below the stop price after an overnight gap?");
    expect(status).toBe(200);
    expect(body.sources).toHaveLength(5);
    expect(body.sources[0]?.id).toMatch(/^stop-loss#/);
    expect(body.answer).toContain('From "Stop-loss orders"');
    expect(body.deep_memory).toEqual({
      used: false,
      model_run_id: null,
      reason: "deep memory is disabled for this user",
      retrieval: "hybrid: RRF k=60, weights dense 1 / lexical 1, top 100 per leg",
    });
  });

  it("refuses to enable deep memory before any training, with the reason", async () => {
    const { status, body } = await api<{ error: { code: string; message: string } }>("/v1/api/deep-memory/settings", {
      method: "PUT",
      body: JSON.stringify({ enabled: true }),
    });
    expect(status).toBe(409);
    expect(body.error.code).toBe("NO_TRAINED_MODEL");
  });

  it("runs the workflow on the plan's paths: generate, follow /v1/api/events, review, train, enable; then chat retrieves through deep memory", async () => {
    const questions = loadKnowledgeBase().flatMap((note) => note.evalQuestions);
    const before = new Map<string, string[]>();
    for (const q of questions.slice(0, 20)) before.set(q, (await chat(q)).body.sources.map((s) => s.id));

    const generated = await api<GenerateResponse>("/v1/api/deep-memory/generate", { method: "POST" });
    expect(generated.status).toBe(202);
    expect(generated.body.total_chunks).toBe(running.backend.passages.length);
    expect(generated.body.events_url).toBe(`/v1/api/events/stream/${generated.body.job_id}`);
    const generationEvents = await followJob(generated.body.events_url);
    expect(generationEvents.at(0)?.type).toBe("started");
    expect(generationEvents.filter((e) => e.type === "progress").length).toBeGreaterThan(1);
    expect(generationEvents.at(-1)?.type).toBe("completed");

    const review = await api<RunDetailResponse>(`/v1/api/deep-memory/runs/${generated.body.training_run_id}`);
    expect(review.body.status).toBe("generated");
    expect(review.body.statistics.pairs_per_chunk.mean).toBeGreaterThanOrEqual(6);
    expect(review.body.sample_pairs.length).toBeGreaterThan(0);

    const trained = await api<TrainResponse>("/v1/api/deep-memory/train", {
      method: "POST",
      body: JSON.stringify({ training_run_id: generated.body.training_run_id }),
    });
    expect(trained.status).toBe(202);
    const trainingEvents = await followJob(trained.body.events_url);
    const done = trainingEvents.at(-1);
    expect(done?.type).toBe("completed");
    const run = await api<RunDetailResponse>(`/v1/api/deep-memory/runs/${generated.body.training_run_id}`);
    expect(run.body.status).toBe("completed");
    // The example's settings (passages, 8 questions each) are chosen so this holds; see exampleTrainerDefaults.
    expect(run.body.metrics?.verdict, run.body.metrics?.reason).toBe("improved");

    const enabled = await api<SettingsResponse>("/v1/api/deep-memory/settings", { method: "PUT", body: JSON.stringify({ enabled: true }) });
    expect(enabled.status).toBe(200);
    expect(enabled.body).toMatchObject({ enabled: true, model_run_id: generated.body.training_run_id, new_chunks_since_last_training: 0 });

    let reordered = 0;
    for (const [q, plain] of before) {
      const { body } = await chat(q);
      // Deep memory on: the transformed query's vector results fused with BM25 results (hybrid search).
      expect(body.deep_memory).toMatchObject({ used: true, model_run_id: generated.body.training_run_id, reason: null, retrieval: expect.stringMatching(/^hybrid: /) });
      if (body.sources.map((s) => s.id).join() !== plain.join()) reordered++;
    }
    expect(reordered).toBeGreaterThan(0);
  });

  it("keeps each user's deep memory to themselves: another x-user-id sees no runs and retrieves without it", async () => {
    const runs = await api<{ runs: unknown[]; total: number }>("/v1/api/deep-memory/runs", { user: otherUser });
    expect(runs.body.total).toBe(0);
    const { body } = await api<ChatResponse>("/v1/api/chat", { method: "POST", user: otherUser, body: JSON.stringify({ message: "What is VWAP?" }) });
    expect(body.deep_memory.used).toBe(false);
    const mine = await api<{ total: number }>("/v1/api/deep-memory/runs", { user: DEMO_USER_ID });
    expect(mine.body.total).toBe(1);
  });

  it("answers 401 for an x-user-id that is not a uuid, on chat and on the deep-memory routes", async () => {
    expect((await api("/v1/api/chat", { method: "POST", user: "mallory", body: JSON.stringify({ message: "hi" }) })).status).toBe(401);
    expect((await api("/v1/api/deep-memory/settings", { user: "mallory" })).status).toBe(401);
  });

  it("answers 400 for a malformed chat request", async () => {
    const empty = await api<{ error: { code: string } }>("/v1/api/chat", { method: "POST", body: JSON.stringify({ message: " " }) });
    expect(empty.status).toBe(400);
    expect(empty.body.error.code).toBe("VALIDATION_FAILED");
    const broken = await api<{ error: { code: string } }>("/v1/api/chat", { method: "POST", body: "{not json" });
    expect(broken.status).toBe(400);
    expect(broken.body.error.code).toBe("INVALID_JSON");
  });

  it("serves the OpenAPI document naming /v1/api/events, a JSON 404 for unknown API paths, and the admin app elsewhere", async () => {
    const openApi = await api<{ paths: Record<string, unknown> }>("/v1/api/deep-memory/openapi.json");
    expect(Object.keys(openApi.body.paths)).toContain("/v1/api/events/stream/{jobId}");
    expect(Object.keys(openApi.body.paths)).toContain("/v1/api/deep-memory/generate");
    const missing = await api<{ error: { code: string } }>("/v1/api/nope");
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe("NOT_FOUND");
    const home = await api<string>("/");
    expect(home.body).toContain("<title>admin</title>");
    // A client-side route (a reload on a deep link) gets the app too.
    expect((await api<string>("/runs/123")).body).toContain("<title>admin</title>");
  });

  it("lets the Vite dev server's origin call the API, with the dev and auth headers, and no other origin", async () => {
    const preflight = (origin: string) =>
      fetch(`${running.url}/v1/api/deep-memory/settings`, {
        method: "OPTIONS",
        headers: { origin, "access-control-request-method": "PUT", "access-control-request-headers": "x-user-id,content-type" },
      });
    const allowed = await preflight("http://localhost:5173");
    expect(allowed.headers.get("access-control-allow-origin")).toBe("http://localhost:5173");
    expect(allowed.headers.get("access-control-allow-headers")).toContain("x-user-id");
    const refused = await preflight("http://evil.example");
    expect(refused.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("fails to start with the port's own error when the port is taken, instead of a server that never listens", async () => {
    // Before: Express 5 passed EADDRINUSE to the listen callback, which took it for success, and startServer then
    // threw "Cannot destructure property 'port' of 'server.address(...)' as it is null".
    const error = await startServer({ dataDir: "memory://", port: running!.port, adminDir }).catch((e: unknown) => e);
    expect((error as { code?: string }).code).toBe("EADDRINUSE");
  });
});
