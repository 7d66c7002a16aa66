import { createOpenAI } from "@ai-sdk/openai";
import { UpstreamError } from "@zip/deep-memory";
import { APICallError } from "ai";
import { MockEmbeddingModelV3 } from "ai/test";
import { describe, expect, it } from "vitest";
import { AiSdkEmbedder } from "./ai-sdk-embedder.js";
import { embeddingsBody, openAIError, setupOpenAIHttp, vectorFor } from "./openai-http.test-support.js";
import { deepMemoryRejection } from "@zip/deep-memory/testing";

const fast = { minRetryDelayMs: 1, maxRetryDelayMs: 5 };

/** A mock model embedding each text as [its length, its position in the call]. */
function mockModel(options: { maxEmbeddingsPerCall?: number; fail?: unknown[] } = {}) {
  const failures = [...(options.fail ?? [])];
  return new MockEmbeddingModelV3({
    provider: "mock.embedding",
    modelId: "mock-embed-1",
    maxEmbeddingsPerCall: options.maxEmbeddingsPerCall ?? 100,
    doEmbed: async ({ values }) => {
      if (failures.length > 0) throw failures.shift();
      return { embeddings: values.map((v, i) => [v.length, i + 1]), warnings: [] };
    },
  });
}

describe("AiSdkEmbedder with the AI SDK's mock model", () => {
  it("embeds in batches no larger than the model allows, one vector per text in order, named by the model id", async () => {
    const model = mockModel({ maxEmbeddingsPerCall: 2 });
    const embedder = new AiSdkEmbedder({ model, batchSize: 3 });
    expect(embedder.model).toBe("mock-embed-1");
    const vectors = await embedder.embed(["a", "bb", "ccc", "dddd", ""]);
    expect(model.doEmbedCalls.map((c) => c.values)).toEqual([["a", "bb"], ["ccc", "dddd"], [" "]]);
    expect(vectors.map((v) => Array.from(v))).toEqual([[1, 1], [2, 2], [3, 1], [4, 2], [1, 1]]);
    expect(vectors[0]).toBeInstanceOf(Float32Array);
    expect(new AiSdkEmbedder({ model, modelName: "my-name" }).model).toBe("my-name");
  });

  it("passes provider options per kind of text, for models that embed queries and documents differently", async () => {
    const model = mockModel();
    const embedder = new AiSdkEmbedder({ model, providerOptions: (kind) => ({ cohere: { inputType: kind === "query" ? "search_query" : "search_document" } }) });
    await embedder.embed(["q"], { kind: "query" });
    await embedder.embed(["d"], { kind: "document" });
    expect(model.doEmbedCalls.map((c) => c.providerOptions)).toEqual([{ cohere: { inputType: "search_query" } }, { cohere: { inputType: "search_document" } }]);
  });

  it("retries retryable provider errors itself (the AI SDK's retries are off) and gives up on the rest at once", async () => {
    const unavailable = new APICallError({ message: "Service Unavailable", url: "https://x/embeddings", requestBodyValues: {}, statusCode: 503, isRetryable: true });
    const model = mockModel({ fail: [unavailable, unavailable] });
    expect((await new AiSdkEmbedder({ model, ...fast }).embed(["x"])).length).toBe(1);
    expect(model.doEmbedCalls).toHaveLength(3);

    const invalid = new APICallError({ message: "Bad Request", url: "https://x/embeddings", requestBodyValues: {}, statusCode: 400, isRetryable: false });
    const refusing = mockModel({ fail: [invalid, invalid] });
    expect(await deepMemoryRejection(new AiSdkEmbedder({ model: refusing, ...fast }).embed(["x"]))).toMatchObject({ code: "UPSTREAM_FAILED", status: 400, retryable: false });
    expect(refusing.doEmbedCalls).toHaveLength(1);
  });

  it("refuses an answer with the wrong number of vectors", async () => {
    const model = new MockEmbeddingModelV3({ modelId: "short", maxEmbeddingsPerCall: 10, doEmbed: async () => ({ embeddings: [[1, 2]], warnings: [] }) });
    const error = await deepMemoryRejection(new AiSdkEmbedder({ model, ...fast }).embed(["a", "b"]));
    expect(error).toBeInstanceOf(UpstreamError);
    expect(error.message).toMatch(/returned 1 embeddings .* for 2 inputs/);
  });

  it("rejects options that are not an embedding model", () => {
    expect(() => new AiSdkEmbedder({ model: {} as never })).toThrow(/expected an AI SDK embedding model/);
    expect(() => new AiSdkEmbedder({ model: mockModel(), batchSize: 0 })).toThrow(/batchSize/);
  });
});

describe("AiSdkEmbedder over @ai-sdk/openai against OpenAI's HTTP shapes", () => {
  const api = setupOpenAIHttp();
  const openai = () => createOpenAI({ apiKey: "sk-test" });

  it("sends the model, the inputs and provider options, and returns the answer's vectors in input order", async () => {
    const embedder = new AiSdkEmbedder({ model: openai().embedding("text-embedding-3-small"), providerOptions: { openai: { dimensions: 8 } } });
    const vectors = await embedder.embed(["alpha", "beta", "gamma"]);
    expect(api.embeddings.requests[0]).toMatchObject({ model: "text-embedding-3-small", input: ["alpha", "beta", "gamma"], encoding_format: "float", dimensions: 8 });
    expect(vectors.map((v) => Array.from(v))).toEqual(["alpha", "beta", "gamma"].map((t) => Array.from(Float32Array.from(vectorFor(t)))));
    expect(embedder.model).toBe("text-embedding-3-small");
  });

  it("waits as long as a 429's retry-after-ms asks before trying again", async () => {
    api.embeddings.queue(openAIError(429, "rate_limit_exceeded", { "retry-after-ms": "250" }));
    const embedder = new AiSdkEmbedder({ model: openai().embedding("text-embedding-3-small"), ...fast });
    const started = performance.now();
    await embedder.embed(["x"]);
    expect(performance.now() - started).toBeGreaterThanOrEqual(240);
    expect(api.embeddings.requests).toHaveLength(2);
  });

  it("does not retry an exhausted quota, a bad key or a bad request", async () => {
    const embedder = new AiSdkEmbedder({ model: openai().embedding("text-embedding-3-small"), ...fast });
    api.embeddings.respondWith(openAIError(429, "insufficient_quota", {}, "You exceeded your current quota"));
    expect(await deepMemoryRejection(embedder.embed(["x"]))).toMatchObject({ code: "RATE_LIMITED", retryable: false, message: expect.stringMatching(/no quota left/) });
    api.embeddings.respondWith(openAIError(401, "invalid_api_key", {}, "Incorrect API key provided"));
    expect(await deepMemoryRejection(embedder.embed(["x"]))).toMatchObject({ code: "UPSTREAM_FAILED", status: 401, message: expect.stringMatching(/rejected the API key/) });
    expect(api.embeddings.requests).toHaveLength(2);
  });

  it("retries 5xx and dropped connections, then says how many attempts it made", async () => {
    const embedder = new AiSdkEmbedder({ model: openai().embedding("text-embedding-3-small"), maxRetries: 2, ...fast });
    api.embeddings.queue(openAIError(500, "server_error"), "network-error");
    expect((await embedder.embed(["x"])).length).toBe(1);
    api.embeddings.respondWith("network-error");
    const error = await deepMemoryRejection(embedder.embed(["x"]));
    expect(error).toMatchObject({ code: "UPSTREAM_FAILED", retryable: true, message: expect.stringMatching(/Could not reach openai\.embedding.*gave up after 3 attempts/) });
    expect(api.embeddings.requests).toHaveLength(6);
  });

  it("retries a request that outlives timeoutMs, and stops at once when the caller aborts", async () => {
    const embedder = new AiSdkEmbedder({ model: openai().embedding("text-embedding-3-small"), timeoutMs: 50, maxRetries: 1, ...fast });
    api.embeddings.respondWith({ body: embeddingsBody([vectorFor("x")]), delayMs: 2000 });
    expect(await deepMemoryRejection(embedder.embed(["x"]))).toMatchObject({ code: "UPSTREAM_FAILED", message: expect.stringMatching(/within 50 ms \(timed out\).*gave up after 2 attempts/) });

    const patient = new AiSdkEmbedder({ model: openai().embedding("text-embedding-3-small"), ...fast });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 30);
    expect(await deepMemoryRejection(patient.embed(["x"], { signal: controller.signal }))).toMatchObject({ code: "ABORTED" });
    expect(api.embeddings.requests).toHaveLength(3);
  });
});
