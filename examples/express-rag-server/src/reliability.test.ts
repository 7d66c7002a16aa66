/**
 * What a new user (or a probe) does to the example server, on PGlite and on a
 * real PostgreSQL: text no store can keep, double clicks and repeated
 * generates, a job followed from another server process.
 */
import { randomUUID } from "node:crypto";
import type { GenerateQuestionsInput, QuestionGenerator } from "@zip/deep-memory";
import { PGliteTrainingStore } from "@zip/deep-memory/pglite";
import { PostgresTrainingStore } from "@zip/deep-memory/postgres";
import { chunkNotes, type KnowledgeBaseDocument } from "@zip/example-knowledge-base";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { ClosableTrainingStore } from "./backend.js";
import { startServer, type RunningServer, type StartOptions } from "./server.js";
import { offlineProviders } from "./test-utils/offline-providers.js";
import { createTestDatabase, describeEachStore, until, type TestDatabase } from "./test-utils/stores.js";

/** An LLM that quotes its chunk: whatever the chunk holds, NUL and broken surrogates included, ends up in a question. */
class QuotingGenerator implements QuestionGenerator {
  readonly model = "quoting-llm";
  async generate(input: GenerateQuestionsInput): Promise<string[]> {
    const sentences = input.chunk.text.split(/(?<=\.)\s+/);
    return sentences.slice(0, input.count).map((s, i) => `Question ${i}: what does "${s}" mean?`);
  }
}

const nasty: KnowledgeBaseDocument[] = [
  { id: "gaps", title: "Gaps \u0000 overnight", text: "Stop orders can gap.\u0000 A gap opens below the stop overnight. Fills happen at the open.", evalQuestions: [] },
  { id: "limits", title: "Limit \ud800 orders", text: "Limit orders rest on the book.\udc00 They fill at the limit or better. Queue position matters.", evalQuestions: [] },
  { id: "bad\u0000id", title: "Unstorable id", text: "This note's id cannot be stored. It is skipped with a reason. Nothing else fails.", evalQuestions: [] },
  { id: "vwap", title: "VWAP", text: "VWAP is the volume weighted average price. Traders benchmark fills against it. It resets daily.", evalQuestions: [] },
];

interface Answer {
  status: number;
  headers: Headers;
  json: Record<string, any>;
}

function client(server: RunningServer, user: string) {
  return async (method: string, path: string, body?: unknown): Promise<Answer> => {
    const response = await fetch(`${server.url}${path.startsWith("/v1/") ? path : `/v1/api/deep-memory${path}`}`, {
      method,
      headers: { "x-user-id": user, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, json: text ? (JSON.parse(text) as Record<string, any>) : {} };
  };
}

describeEachStore("the example server", (kind) => {
  let database: TestDatabase | undefined;
  let store: ClosableTrainingStore;
  const servers: RunningServer[] = [];

  /** A server over the shared store (each stands for a server process; closing one leaves the store open). */
  async function serve(options: Partial<StartOptions> = {}): Promise<RunningServer> {
    const shared = new Proxy(store, {
      get: (target, name) => {
        if (name === "close") return async () => {};
        const value = Reflect.get(target, name, target) as unknown;
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const server = await startServer({ port: 0, store: shared, providers: offlineProviders(), ...options });
    servers.push(server);
    return server;
  }

  beforeAll(async () => {
    if (kind === "postgres") {
      database = await createTestDatabase();
      store = await PostgresTrainingStore.connect({ connectionString: database.url });
    } else store = await PGliteTrainingStore.open({ dataDir: "memory://" });
  });

  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
    await store?.close();
    await database?.drop();
  });

  it("never answers 500 for NUL or a broken surrogate in a note's text, title or id: chat answers, generation stores the questions made storable, training runs", async () => {
    const server = await serve({ documents: nasty, providers: { ...offlineProviders(), generator: new QuotingGenerator() }, trainerOptions: { minPairs: 2 } });
    const api = client(server, randomUUID());
    const chat = await api("POST", "/v1/api/chat", { message: "Why did my stop order gap?" });
    expect(chat.status).toBe(200);
    expect(chat.json.sources[0].title).toBe("Gaps \u0000 overnight");

    const gen = await api("POST", "/generate");
    expect(gen.status).toBe(202);
    const done = await until(() => api("GET", `/status/${gen.json.job_id}`), (s) => !s.json.active, "generation to finish");
    expect(done.json).toMatchObject({ status: "generated", error: null });
    const run = await api("GET", `/runs/${gen.json.training_run_id}`);
    // The passages of the note whose id holds a NUL are skipped (reported on the event stream), not fatal.
    const storable = chunkNotes(nasty).filter((p) => !p.id.includes("\u0000")).length;
    expect(storable).toBeLessThan(chunkNotes(nasty).length);
    expect(run.json).toMatchObject({ total_chunks: storable, processed_chunks: storable });
    expect(run.json.statistics).toMatchObject({ chunks_with_pairs: storable });
    const questions: string[] = run.json.sample_pairs.map((p: { question: string }) => p.question);
    expect(questions.some((q) => q.includes("Stop orders can gap."))).toBe(true);
    expect(questions.join("")).not.toContain("\u0000");
    expect(questions.join("")).not.toMatch(/[\ud800-\udfff]/u);

    const train = await api("POST", "/train", { training_run_id: gen.json.training_run_id });
    expect(train.status).toBe(202);
    expect((await until(() => api("GET", `/status/${train.json.job_id}`), (s) => !s.json.active, "training to finish")).json.status).toBe("completed");
  });

  it("answers 400 for an import holding NUL or a lone surrogate, changes nothing, and the next import goes through at once", async () => {
    const api = client(await serve(), randomUUID());
    for (const raw of [
      '{"pairs":[{"question":"What\\u0000?","chunk_id":"vwap#0"}]}',
      '{"pairs":[{"question":"What?","chunk_id":"vwap#0"}],"source":"chat\\u0000"}',
      '{"pairs":[{"question":"What \\ud83d?","chunk_id":"vwap#0"}]}',
    ]) {
      const refused = await api("POST", "/import", raw);
      expect(refused.status, raw).toBe(400);
      expect(refused.json.error.code).toBe("VALIDATION_FAILED");
    }
    expect((await api("GET", "/runs")).json.total).toBe(0);
    const imported = await api("POST", "/import", { pairs: [{ question: "How is VWAP computed?", chunk_id: "vwap#0" }], source: "chat-feedback" });
    expect(imported.status).toBe(201);
  });

  it("20 generates in a row make one run: clicks while it runs join it, later ones say there is nothing new, and no empty run is left", async () => {
    const api = client(await serve({ trainerOptions: { delayMs: 40 } }), randomUUID());
    const answers: Answer[] = [];
    for (let i = 0; i < 20; i++) {
      answers.push(await api("POST", "/generate"));
      if (i === 9) await until(() => api("GET", `/status/${answers[0]!.json.job_id}`), (s) => !s.json.active, "the first run to finish");
    }
    expect(answers[0]!.json).toMatchObject({ joined: false, total_chunks: 85 });
    for (const a of answers.slice(1, 10)) expect(a.json).toMatchObject({ job_id: answers[0]!.json.job_id, joined: true });
    for (const a of answers.slice(10)) {
      expect(a.status).toBe(409);
      expect(a.json.error).toMatchObject({ code: "NOTHING_TO_GENERATE", details: { training_run_id: answers[0]!.json.training_run_id, status: "generated" } });
    }
    expect((await api("GET", "/runs")).json.total).toBe(1);
  });

  it("reports a job that another server process runs: percent from the run's own counters, and 404s that say what was not found", async () => {
    const worker = await serve({ instanceId: "worker", trainerOptions: { delayMs: 20 } });
    const web = await serve({ instanceId: "web" });
    const user = randomUUID();
    const gen = await client(worker, user)("POST", "/generate");
    const api = client(web, user);
    const midway = await until(() => api("GET", `/status/${gen.json.job_id}`), (s) => s.json.processed_chunks >= 10, "chunks to be processed");
    expect(midway.json).toMatchObject({ active: true, kind: "generate", status: "generating", phase: "generating", total_chunks: 85 });
    expect(midway.json.percent).toBeCloseTo((midway.json.processed_chunks / 85) * 100, 6);
    const byRun = await api("GET", `/status/${gen.json.training_run_id}`);
    expect(byRun.json.percent).toBeGreaterThanOrEqual(midway.json.percent);
    // The web server's history shows the same counters as its status.
    const listed = (await api("GET", "/runs")).json.runs[0];
    expect(listed.pair_count).toBeGreaterThanOrEqual(midway.json.pair_count);

    const unknown = randomUUID();
    expect((await api("GET", `/status/${unknown}`)).json.error).toMatchObject({ code: "NOT_FOUND", message: `No run or job with id "${unknown}"` });
    const stream = await fetch(`${web.url}/v1/api/events/stream/${unknown}`, { headers: { "x-user-id": user } });
    expect(stream.status).toBe(404);
    expect(((await stream.json()) as { error: { message: string } }).error.message).toBe(`No job with id "${unknown}"`);
    await until(() => api("GET", `/status/${gen.json.job_id}`), (s) => !s.json.active, "generation to finish");
  });
});
