/**
 * The whole workflow through the real OpenAI adapters and the real `openai`
 * SDK, with the OpenAI API answered by msw in its real shapes: HTTP faults
 * (429 + Retry-After, 500, timeouts, malformed JSON) must be survived exactly
 * as the trainer promises.
 */
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { LocalDeepMemory } from "@zip/deep-memory-engine";
import { OpenAIEmbedder } from "../adapters/openai/openai-embedder.js";
import { OpenAIQuestionGenerator } from "../adapters/openai/openai-question-generator.js";
import { InMemoryTrainingStore } from "../adapters/training-store/in-memory-training-store.js";
import { InMemoryVectorStore } from "../adapters/vector-store/in-memory-vector-store.js";
import {
  chatCompletion,
  chunkTextFrom,
  fakeEmbedding,
  openAIError,
  questionsReply,
  setupOpenAIMock,
  withDelay,
} from "../test-utils/openai-server.js";
import { DeepMemoryTrainer } from "./deep-memory-trainer.js";

const openai = setupOpenAIMock({ afterEach, afterAll });
const userId = "user-a";
const dims = 16;

const chunks = [
  "VWAP is the volume-weighted average price of a session.",
  "A trailing stop follows the highest price by a fixed percentage.",
  "An iron condor sells a put spread and a call spread on SPX.",
  "The VIX index measures 30-day implied volatility of S&P 500 options.",
  "Covered calls on KO trade upside for premium income.",
  "Duration measures a bond's sensitivity to interest rates.",
];

function setup(options: ConstructorParameters<typeof DeepMemoryTrainer>[0]["options"] = {}) {
  const vectorStore = new InMemoryVectorStore(
    chunks.map((text, i) => ({ id: `c${i}`, text, embedding: fakeEmbedding(text, dims) })),
  );
  const store = new InMemoryTrainingStore();
  const trainer = new DeepMemoryTrainer({
    vectorStore,
    store,
    embedder: new OpenAIEmbedder({ apiKey: "sk-test", dimensions: dims }),
    generator: new OpenAIQuestionGenerator({ apiKey: "sk-test" }),
    engine: new LocalDeepMemory(),
    options: { concurrency: 1, retryMinDelayMs: 1, retryMaxDelayMs: 20, minPairs: 5, ...options },
  });
  return { trainer, store };
}

/** Four on-topic questions built from the chunk's own words. */
function questionsFor(chunkText: string): string {
  const words = chunkText.replace(/[.,']/g, "").split(" ").filter((w) => w.length > 3);
  return questionsReply(words.slice(0, 4).map((w) => `What does the note on ${words[0]} say about ${w}?`));
}

describe("workflow through the OpenAI adapters", () => {
  it("survives 429 with Retry-After, 500, a timeout and malformed JSON, then trains and searches", async () => {
    const { trainer, store } = setup({ requestTimeoutMs: 300 });
    openai.chat.queue(
      openAIError(429, { headers: { "retry-after": "1" } }),
      openAIError(500),
      withDelay(questionsReply(["too slow?"]), 2000),
      "{ this is not json",
    );
    openai.chat.respondWith((req) => questionsFor(chunkTextFrom(req)));

    const t0 = Date.now();
    const { jobId, runId } = await trainer.generate({ userId });
    expect(await trainer.waitForJob({ userId, jobId })).toMatchObject({ type: "completed", pairCount: 24 });
    // Retry-After: 1 second was honoured before the second attempt.
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);
    expect(await store.getRun(userId, runId)).toMatchObject({ status: "generated", processedChunks: 6, skippedChunks: 0 });
    expect(openai.chat.requests.length).toBe(6 + 4);
    const body = openai.chat.requests[0]!.body;
    expect(body.model).toBe("gpt-4o");
    expect(body.response_format).toEqual({ type: "json_object" });

    const trained = await trainer.train({ userId, runId });
    expect(await trainer.waitForJob({ userId, jobId: trained.jobId })).toMatchObject({ type: "completed" });
    expect(openai.embeddings.requests.every((r) => r.body.model === "text-embedding-3-small" && r.body.dimensions === dims)).toBe(true);

    const result = await trainer.search({ userId, query: "What is VWAP?", k: 3 });
    expect(result.hits).toHaveLength(3);
  });

  it("fails the run with OpenAI's message past the retries, and a later generate resumes it", async () => {
    const { trainer, store } = setup({ retries: 1 });
    openai.chat.respondWith((req) => questionsFor(chunkTextFrom(req)));
    openai.chat.queue(questionsFor(chunks[0]!), questionsFor(chunks[1]!), openAIError(503), openAIError(503));
    const first = await trainer.generate({ userId });
    const failed = await trainer.waitForJob({ userId, jobId: first.jobId });
    expect(failed).toMatchObject({ type: "failed", error: { code: "UPSTREAM_FAILED" } });
    expect(await store.getRun(userId, first.runId)).toMatchObject({ status: "failed", pairCount: 8, processedChunks: 2 });

    const resumed = await trainer.generate({ userId });
    expect(resumed).toMatchObject({ runId: first.runId, resumed: true });
    await trainer.waitForJob({ userId, jobId: resumed.jobId });
    const pairs = await store.listPairs(userId, [first.runId]);
    expect(pairs).toHaveLength(24);
    expect(new Set(pairs.map((p) => p.question + p.chunkId)).size).toBe(24);
  });

  it("fails at once, without retrying, when OpenAI rejects the API key", async () => {
    const { trainer } = setup();
    openai.chat.respondWith(openAIError(401));
    const { jobId } = await trainer.generate({ userId });
    const failed = await trainer.waitForJob({ userId, jobId });
    expect(failed).toMatchObject({ type: "failed", error: { message: expect.stringContaining("401") } });
    expect(openai.chat.requests).toHaveLength(1);
  });

  it("skips a chunk whose answers stay unusable, with the reason", async () => {
    const { trainer, store } = setup({ chunkAttempts: 2 });
    openai.chat.respondWith((req) =>
      chunkTextFrom(req).startsWith("Duration")
        ? { status: 200, body: chatCompletion('{"questions": []}') }
        : questionsFor(chunkTextFrom(req)),
    );
    const { jobId, runId } = await trainer.generate({ userId });
    await trainer.waitForJob({ userId, jobId });
    const run = await store.getRun(userId, runId);
    expect(run).toMatchObject({ status: "generated", skippedChunks: 1, pairCount: 20 });
  });
});
