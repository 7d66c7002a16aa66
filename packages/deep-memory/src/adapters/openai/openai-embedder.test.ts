import OpenAI from "openai";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { AbortedError, UpstreamError, ValidationError } from "../../errors/errors.js";
import {
  embeddingsResponse,
  fakeEmbedding,
  networkError,
  OPENAI_BASE_URL,
  openAIError,
  setupOpenAIMock,
  withDelay,
} from "../../test-utils/openai-server.js";
import { OpenAIEmbedder } from "./openai-embedder.js";

const LOCAL_URL = "http://localhost:11434/v1";
const openai = setupOpenAIMock({ baseURL: [OPENAI_BASE_URL, LOCAL_URL], afterEach, afterAll });

const fast = { apiKey: "sk-test", minRetryDelayMs: 1, maxRetryDelayMs: 5 };

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected the promise to reject");
}

describe("OpenAIEmbedder", () => {
  it("splits inputs into batches and returns one vector per text, in input order", async () => {
    // OpenAI does not promise data in index order: answer each batch reversed.
    openai.embeddings.respondWith((req) => {
      const inputs = req.body.input as string[];
      const body = embeddingsResponse(inputs.map((t) => fakeEmbedding(t, 4)));
      return { body: { ...body, data: [...body.data].reverse() } };
    });
    const embedder = new OpenAIEmbedder({ ...fast, batchSize: 2 });
    const texts = ["alpha", "beta", "gamma", "delta", "epsilon"];

    const vectors = await embedder.embed(texts);

    expect(openai.embeddings.requests.map((r) => r.body.input)).toEqual([["alpha", "beta"], ["gamma", "delta"], ["epsilon"]]);
    expect(vectors).toHaveLength(5);
    vectors.forEach((v, i) => {
      expect(v).toBeInstanceOf(Float32Array);
      expect(Array.from(v)).toEqual(Array.from(Float32Array.from(fakeEmbedding(texts[i]!, 4))));
    });
  });

  it("also splits batches that would exceed OpenAI's per-request token budget", async () => {
    const embedder = new OpenAIEmbedder({ ...fast, batchSize: 256 });
    const long = "x".repeat(200_000);
    await embedder.embed([long, long, "short"]);
    expect(openai.embeddings.requests.map((r) => (r.body.input as string[]).length)).toEqual([1, 2]);
  });

  it("sends model, encoding_format float and dimensions, and returns vectors of that size", async () => {
    const embedder = new OpenAIEmbedder({ ...fast, model: "text-embedding-3-large", dimensions: 256 });
    const [vector] = await embedder.embed(["hello"]);
    expect(openai.embeddings.requests[0]!.body).toMatchObject({
      model: "text-embedding-3-large",
      encoding_format: "float",
      dimensions: 256,
      input: ["hello"],
    });
    expect(vector).toHaveLength(256);
    expect(embedder.model).toBe("text-embedding-3-large");
  });

  it("omits dimensions when not configured", async () => {
    await new OpenAIEmbedder(fast).embed(["hello"]);
    expect(openai.embeddings.requests[0]!.body).not.toHaveProperty("dimensions");
    expect(openai.embeddings.requests[0]!.body.model).toBe("text-embedding-3-small");
  });

  it("returns [] for no texts without calling the API", async () => {
    await expect(new OpenAIEmbedder(fast).embed([])).resolves.toEqual([]);
    expect(openai.requests).toHaveLength(0);
  });

  it("sends a space for an empty text, which OpenAI would reject, and keeps its place", async () => {
    const vectors = await new OpenAIEmbedder(fast).embed(["a", "", "b"]);
    expect(openai.embeddings.requests[0]!.body.input).toEqual(["a", " ", "b"]);
    expect(vectors).toHaveLength(3);
  });

  it("sends requests to a custom baseURL with the API key", async () => {
    await new OpenAIEmbedder({ ...fast, baseURL: LOCAL_URL, apiKey: "local-key" }).embed(["hi"]);
    const [request] = openai.embeddings.requests;
    expect(request!.url.origin).toBe("http://localhost:11434");
    expect(request!.url.pathname).toBe("/v1/embeddings");
    expect(request!.headers.get("authorization")).toBe("Bearer local-key");
  });

  it("uses a client passed in, without that client's own retries", async () => {
    const client = new OpenAI({ apiKey: "sk-client", maxRetries: 5 });
    openai.embeddings.respondWith(openAIError(500));
    const error = await rejection(new OpenAIEmbedder({ client, maxRetries: 0 }).embed(["x"]));
    expect(error).toBeInstanceOf(UpstreamError);
    expect(openai.embeddings.requests).toHaveLength(1);
    expect(openai.embeddings.requests[0]!.headers.get("authorization")).toBe("Bearer sk-client");
  });

  it("maps a 429 with Retry-After to a retryable UpstreamError carrying retryAfterMs", async () => {
    openai.embeddings.respondWith(openAIError(429, { headers: { "retry-after": "2" } }));
    const error = await rejection(new OpenAIEmbedder({ ...fast, maxRetries: 0 }).embed(["x"]));
    expect(error).toBeInstanceOf(UpstreamError);
    expect(error).toMatchObject({ status: 429, retryable: true, retryAfterMs: 2000, code: "RATE_LIMITED", provider: "openai" });
    expect((error as Error).message).toMatch(/rate limit/i);
  });

  it("waits for Retry-After, then retries and succeeds", async () => {
    openai.embeddings.queue(openAIError(429, { headers: { "retry-after-ms": "120" } }));
    const started = performance.now();
    const vectors = await new OpenAIEmbedder({ ...fast, maxRetries: 2 }).embed(["x"]);
    const elapsed = performance.now() - started;
    expect(vectors).toHaveLength(1);
    expect(openai.embeddings.requests).toHaveLength(2);
    // The backoff alone is at most 5 ms; only the header explains the wait.
    expect(elapsed).toBeGreaterThanOrEqual(115);
  });

  it("retries 5xx up to maxRetries, then reports the attempts", async () => {
    openai.embeddings.respondWith(openAIError(500));
    const error = await rejection(new OpenAIEmbedder({ ...fast, maxRetries: 2 }).embed(["x"]));
    expect(error).toMatchObject({ status: 500, retryable: true, code: "UPSTREAM_FAILED" });
    expect((error as Error).message).toMatch(/server error \(500\).*gave up after 3 attempts/);
    expect(openai.embeddings.requests).toHaveLength(3);
  });

  it("does not retry a rejected API key", async () => {
    openai.embeddings.respondWith(openAIError(401));
    const error = await rejection(new OpenAIEmbedder({ ...fast, maxRetries: 4 }).embed(["x"]));
    expect(error).toMatchObject({ status: 401, retryable: false });
    expect((error as Error).message).toMatch(/OpenAI rejected the API key \(401\).*Incorrect API key provided/);
    expect(openai.embeddings.requests).toHaveLength(1);
  });

  it("turns a request slower than timeoutMs into a retryable UpstreamError", async () => {
    openai.embeddings.respondWith(withDelay([[1, 0]], 2_000));
    const error = await rejection(new OpenAIEmbedder({ ...fast, timeoutMs: 50, maxRetries: 0 }).embed(["x"]));
    expect(error).toBeInstanceOf(UpstreamError);
    expect(error).toMatchObject({ retryable: true, status: undefined });
    expect((error as Error).message).toMatch(/within 50 ms \(timed out\)/);
  });

  it("treats a dropped connection as retryable and recovers", async () => {
    openai.embeddings.queue(networkError());
    const vectors = await new OpenAIEmbedder({ ...fast, maxRetries: 1 }).embed(["x"]);
    expect(vectors).toHaveLength(1);
    expect(openai.embeddings.requests).toHaveLength(2);
  });

  it("throws AbortedError when the signal aborts mid-request", async () => {
    openai.embeddings.respondWith(withDelay([[1, 0]], 2_000));
    const controller = new AbortController();
    const promise = new OpenAIEmbedder(fast).embed(["x"], { signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    await expect(promise).rejects.toBeInstanceOf(AbortedError);
    expect(openai.embeddings.requests).toHaveLength(1);
  });

  it("rejects a response with fewer embeddings than inputs", async () => {
    openai.embeddings.respondWith([[1, 0]]);
    const error = await rejection(new OpenAIEmbedder(fast).embed(["a", "b"]));
    expect(error).toMatchObject({ retryable: false });
    expect((error as Error).message).toMatch(/returned 1 embeddings .* for 2 inputs/);
  });

  it("validates its options", () => {
    expect(() => new OpenAIEmbedder({ ...fast, batchSize: 5_000 })).toThrow(ValidationError);
    expect(() => new OpenAIEmbedder({ ...fast, baseURL: "not a url" })).toThrow(/baseURL/);
    const client = new OpenAI({ apiKey: "sk-client" });
    expect(() => new OpenAIEmbedder({ client, apiKey: "sk-other" })).toThrow(/either client or apiKey/);
  });

  it("explains a missing API key", () => {
    vi.stubEnv("OPENAI_API_KEY", "");
    try {
      expect(() => new OpenAIEmbedder()).toThrow(/needs an OpenAI API key/);
    } finally {
      vi.unstubAllEnvs();
    }
  });
});
