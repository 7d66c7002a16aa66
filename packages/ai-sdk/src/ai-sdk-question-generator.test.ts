import { createOpenAI } from "@ai-sdk/openai";
import type { LanguageModelV3GenerateResult } from "@ai-sdk/provider";
import {
  DeepMemoryTrainer,
  GenerationOutputError,
  InMemoryTrainingStore,
  InMemoryVectorStore,
  LocalDeepMemory,
  type Embedder,
} from "@zip/deep-memory";
import { APICallError } from "ai";
import { MockLanguageModelV3 } from "ai/test";
import { describe, expect, it } from "vitest";
import { AiSdkQuestionGenerator } from "./ai-sdk-question-generator.js";
import { chatCompletionBody, openAIError, responsesBody, setupOpenAIHttp } from "./openai-http.test-support.js";
import { deepMemoryRejection } from "@zip/deep-memory/testing";

const chunk = { id: "vwap", text: "VWAP is the volume-weighted average price of a stock over the trading day; execution desks benchmark fills against it." };
const goodQuestions = ["How is VWAP computed over a trading day?", "Why do execution desks benchmark fills against VWAP?", "What does volume-weighted average price mean?"];

function answer(text: string, finish: "stop" | "length" | "content-filter" = "stop"): LanguageModelV3GenerateResult {
  return {
    content: [{ type: "text", text }],
    finishReason: { unified: finish, raw: finish },
    usage: { inputTokens: { total: 200, noCache: 200, cacheRead: 0, cacheWrite: 0 }, outputTokens: { total: 40, text: 40, reasoning: 0 } },
    warnings: [],
  };
}

describe("AiSdkQuestionGenerator with the AI SDK's mock model", () => {
  it("asks for structured output once and returns the cleaned questions", async () => {
    const model = new MockLanguageModelV3({ modelId: "mock-llm", doGenerate: answer(JSON.stringify({ questions: [...goodQuestions, "Short?", goodQuestions[0]] })) });
    const generator = new AiSdkQuestionGenerator({ model, temperature: 0.3, domain: "a trading desk's knowledge base" });
    expect(generator.model).toBe("mock-llm");

    expect(await generator.generate({ chunk, count: 3 })).toEqual(goodQuestions);
    expect(model.doGenerateCalls).toHaveLength(1);
    const call = model.doGenerateCalls[0]!;
    expect(call.temperature).toBe(0.3);
    expect(call.responseFormat).toMatchObject({ type: "json", name: "questions", schema: { type: "object", properties: { questions: { type: "array", items: { type: "string" } } } } });
    const text = JSON.stringify(call.prompt);
    expect(text).toContain("a trading desk's knowledge base");
    expect(text).toContain("Write 3 diverse questions");
    expect(text).toContain(chunk.text);
  });

  it("reports unusable output as GenerationOutputError, so the trainer asks again and then skips the chunk", async () => {
    const cases: [string, LanguageModelV3GenerateResult, RegExp][] = [
      ["not JSON", answer("Sure! Here are some questions: ..."), /unusable output.*could not parse/],
      ["the wrong shape", answer(JSON.stringify({ items: goodQuestions })), /did not match schema/],
      ["cut off at the token limit", answer('{"questions": ["How is VWAP', "length"), /finish reason: length/],
      ["nothing about the chunk", answer(JSON.stringify({ questions: ["What is the capital of France today?"] })), /off-topic/],
      ["only meta questions", answer(JSON.stringify({ questions: ["What does the passage say about prices?"] })), /refers to "the passage"/],
    ];
    for (const [what, reply, message] of cases) {
      const error = await deepMemoryRejection(new AiSdkQuestionGenerator({ model: new MockLanguageModelV3({ doGenerate: reply }) }).generate({ chunk, count: 3 }));
      expect(error, what).toBeInstanceOf(GenerationOutputError);
      expect(error.message, what).toMatch(message);
    }
    expect(await deepMemoryRejection(new AiSdkQuestionGenerator({ model: new MockLanguageModelV3() }).generate({ chunk: { id: "e", text: "  " }, count: 3 }))).toBeInstanceOf(GenerationOutputError);
  });

  it("reports provider failures as UpstreamError with the Retry-After to honour, and never retries them itself", async () => {
    const limited = new APICallError({
      message: "Rate limit reached",
      url: "https://api.example/v1/chat",
      requestBodyValues: {},
      statusCode: 429,
      responseHeaders: { "retry-after": "2" },
      isRetryable: true,
    });
    const model = new MockLanguageModelV3({
      provider: "example.chat",
      doGenerate: async () => {
        throw limited;
      },
    });
    const error = await deepMemoryRejection(new AiSdkQuestionGenerator({ model }).generate({ chunk, count: 3 }));
    expect(error).toMatchObject({ code: "RATE_LIMITED", status: 429, retryable: true, retryAfterMs: 2000, provider: "example.chat" });
    expect(model.doGenerateCalls).toHaveLength(1);
  });

  it("switches models per run only through resolveModel", async () => {
    const base = new MockLanguageModelV3({ modelId: "small", doGenerate: answer(JSON.stringify({ questions: goodQuestions })) });
    const big = new MockLanguageModelV3({ modelId: "big", doGenerate: answer(JSON.stringify({ questions: goodQuestions })) });
    expect(await deepMemoryRejection(new AiSdkQuestionGenerator({ model: base }).generate({ chunk, count: 3, model: "big" }))).toMatchObject({
      code: "VALIDATION_FAILED",
      message: expect.stringMatching(/pass resolveModel/),
    });
    await new AiSdkQuestionGenerator({ model: base, resolveModel: (id) => (id === "big" ? big : base) }).generate({ chunk, count: 3, model: "big" });
    expect([base.doGenerateCalls.length, big.doGenerateCalls.length]).toEqual([0, 1]);
  });

  it("drives a trainer's generation: a rate-limited call is retried and every chunk gets its questions", async () => {
    const texts = ["Momentum strategies buy recent winners and sell recent losers.", "A stop-loss order sells once the price falls to a set level.", "Sharpe ratio divides excess return by volatility."];
    let calls = 0;
    const model = new MockLanguageModelV3({
      doGenerate: async ({ prompt }) => {
        calls++;
        if (calls === 1) {
          throw new APICallError({ message: "Rate limit", url: "u", requestBodyValues: {}, statusCode: 429, responseHeaders: { "retry-after-ms": "30" }, isRetryable: true });
        }
        const source = texts.find((t) => JSON.stringify(prompt).includes(t))!;
        const words = source.split(" ");
        return answer(JSON.stringify({ questions: [`What does ${words[0]} ${words[1]} mean in trading?`, `How does ${words[0]} ${words[1]} work for a desk?`] }));
      },
    });
    const dims = 4;
    const embedder: Embedder = { model: "fixed", embed: async (list) => list.map((_, i) => Float32Array.from({ length: dims }, (_, j) => (i === j ? 1 : 0.1))) };
    const trainer = new DeepMemoryTrainer({
      vectorStore: new InMemoryVectorStore(texts.map((text, i) => ({ id: `c${i}`, text, embedding: Float32Array.from({ length: dims }, (_, j) => (i === j ? 1 : 0)) }))),
      store: new InMemoryTrainingStore(),
      embedder,
      generator: new AiSdkQuestionGenerator({ model }),
      engine: new LocalDeepMemory(),
      options: { questionsPerChunk: 2, concurrency: 1, retryMinDelayMs: 1, retryMaxDelayMs: 5 },
    });
    const { jobId } = await trainer.generate({ userId: "u" });
    const done = await trainer.waitForJob({ userId: "u", jobId });
    expect(done).toMatchObject({ type: "completed", pairCount: 6, processedChunks: 3 });
    expect(calls).toBe(4);
    await trainer.close();
  });
});

describe("AiSdkQuestionGenerator over @ai-sdk/openai against OpenAI's HTTP shapes", () => {
  const api = setupOpenAIHttp();
  const openai = () => createOpenAI({ apiKey: "sk-test" });

  it("uses Chat Completions structured outputs (response_format json_schema) with openai.chat()", async () => {
    api.chat.queue({ body: chatCompletionBody(JSON.stringify({ questions: goodQuestions })) });
    const generator = new AiSdkQuestionGenerator({ model: openai().chat("gpt-4o") });
    expect(await generator.generate({ chunk, count: 3 })).toEqual(goodQuestions);
    const body = api.chat.requests[0]!;
    expect(body).toMatchObject({ model: "gpt-4o", temperature: 0.7, response_format: { type: "json_schema", json_schema: { name: "questions" } } });
    expect(JSON.stringify(body.messages)).toContain(chunk.text);
  });

  it("uses the Responses API's text.format json_schema with openai()", async () => {
    api.responses.queue({ body: responsesBody(JSON.stringify({ questions: goodQuestions })) });
    expect(await new AiSdkQuestionGenerator({ model: openai()("gpt-4o") }).generate({ chunk, count: 3 })).toEqual(goodQuestions);
    expect(api.responses.requests[0]).toMatchObject({ model: "gpt-4o", text: { format: { type: "json_schema", name: "questions" } } });
  });

  it("maps OpenAI's error answers to retryable or final errors like the OpenAI adapter", async () => {
    const generator = new AiSdkQuestionGenerator({ model: openai().chat("gpt-4o") });
    api.chat.queue(
      openAIError(429, "rate_limit_exceeded", { "retry-after-ms": "1500" }),
      openAIError(429, "insufficient_quota"),
      openAIError(503, "server_error"),
      openAIError(400, "invalid_request_error"),
      openAIError(500, "server_error", { "x-should-retry": "false" }),
    );
    expect(await deepMemoryRejection(generator.generate({ chunk, count: 3 }))).toMatchObject({ code: "RATE_LIMITED", retryable: true, retryAfterMs: 1500 });
    expect(await deepMemoryRejection(generator.generate({ chunk, count: 3 }))).toMatchObject({ code: "RATE_LIMITED", retryable: false });
    expect(await deepMemoryRejection(generator.generate({ chunk, count: 3 }))).toMatchObject({ code: "UPSTREAM_FAILED", status: 503, retryable: true });
    expect(await deepMemoryRejection(generator.generate({ chunk, count: 3 }))).toMatchObject({ code: "UPSTREAM_FAILED", status: 400, retryable: false });
    expect(await deepMemoryRejection(generator.generate({ chunk, count: 3 }))).toMatchObject({ code: "UPSTREAM_FAILED", status: 500, retryable: false });
    expect(api.chat.requests).toHaveLength(5);
  });

  it("times out a slow answer as a retryable error, and a caller's abort as ABORTED", async () => {
    api.chat.respondWith({ body: chatCompletionBody(JSON.stringify({ questions: goodQuestions })), delayMs: 2000 });
    const generator = new AiSdkQuestionGenerator({ model: openai().chat("gpt-4o"), timeoutMs: 50 });
    expect(await deepMemoryRejection(generator.generate({ chunk, count: 3 }))).toMatchObject({ code: "UPSTREAM_FAILED", retryable: true, message: expect.stringMatching(/within 50 ms/) });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 20);
    expect(await deepMemoryRejection(new AiSdkQuestionGenerator({ model: openai().chat("gpt-4o") }).generate({ chunk, count: 3, signal: controller.signal }))).toMatchObject({ code: "ABORTED" });
  });
});
