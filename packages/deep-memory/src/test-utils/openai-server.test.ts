import OpenAI, { APIConnectionError, BadRequestError, RateLimitError } from "openai";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import {
  chunkTextFrom,
  fakeEmbedding,
  networkError,
  openAIError,
  questionsReply,
  refusalReply,
  setupOpenAIMock,
} from "./openai-server.js";
import { buildQuestionPrompt } from "../question-prompts/question-prompt.js";

const openai = setupOpenAIMock({ afterEach, afterAll });
// The real SDK, so the shapes are checked by the code that consumes them in production.
const client = new OpenAI({ apiKey: "sk-test", maxRetries: 0 });

const ask = (content = "hi") => client.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content }] });

describe("createOpenAIMock", () => {
  it("answers queued replies first, in order, then the default, and records every request", async () => {
    openai.chat.respondWith("default");
    openai.chat.queue("first", (req) => `second to ${req.body.messages[0]!.content as string}`);
    expect(openai.chat.pending).toBe(2);

    const answers = [];
    for (const content of ["a", "b", "c"]) answers.push((await ask(content)).choices[0]!.message.content);

    expect(answers).toEqual(["first", "second to b", "default"]);
    expect(openai.chat.requests.map((r) => r.index)).toEqual([0, 1, 2]);
    expect(openai.requests).toHaveLength(3);
    expect(openai.chat.pending).toBe(0);
  });

  it("returns completions in OpenAI's shape, echoing the requested model", async () => {
    openai.chat.respondWith(questionsReply(["What is VWAP?"]));
    const completion = await ask();
    expect(completion).toMatchObject({
      object: "chat.completion",
      model: "gpt-4o",
      choices: [{ index: 0, finish_reason: "stop", logprobs: null, message: { role: "assistant", refusal: null } }],
      usage: { prompt_tokens: expect.any(Number), total_tokens: expect.any(Number) },
    });
    expect(JSON.parse(completion.choices[0]!.message.content!)).toEqual({ questions: ["What is VWAP?"] });
  });

  it("reports refusals the way the API does", async () => {
    openai.chat.respondWith(refusalReply());
    const { message } = (await ask()).choices[0]!;
    expect(message.content).toBeNull();
    expect(message.refusal).toMatch(/I'm sorry/);
  });

  it("sends errors with OpenAI's body and the given headers, which the SDK turns into its error classes", async () => {
    openai.chat.queue(openAIError(429, { headers: { "retry-after": "7" } }));
    const error = await ask().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitError);
    expect((error as RateLimitError).headers.get("retry-after")).toBe("7");
    expect((error as RateLimitError).code).toBe("rate_limit_exceeded");

    openai.chat.queue(networkError());
    await expect(ask()).rejects.toBeInstanceOf(APIConnectionError);
  });

  it("fails loudly when a test forgets to script a chat reply", async () => {
    await expect(ask()).rejects.toSatisfy(
      (e) => e instanceof BadRequestError && /no chat completion reply scripted/.test(e.message),
    );
  });

  it("answers embeddings with deterministic vectors by default, as floats or as the SDK's default base64", async () => {
    const asFloats = await client.embeddings.create({ model: "text-embedding-3-small", input: ["a", "b"], encoding_format: "float", dimensions: 3 });
    expect(asFloats.data.map((d) => d.embedding)).toEqual([fakeEmbedding("a", 3), fakeEmbedding("b", 3)]);

    const decoded = await client.embeddings.create({ model: "text-embedding-3-small", input: "a", dimensions: 3 });
    expect(Array.from(decoded.data[0]!.embedding)).toEqual(Array.from(Float32Array.from(fakeEmbedding("a", 3))));
    expect(openai.embeddings.requests[1]!.body.encoding_format).toBe("base64");
  });

  it("reads the chunk back out of a question-generation prompt", async () => {
    openai.chat.respondWith((req) => questionsReply([`About ${chunkTextFrom(req)}?`]));
    const prompt = buildQuestionPrompt({ domain: "a test corpus", chunkText: "line one\nline two", count: 2 });
    const completion = await client.chat.completions.create({
      model: "gpt-4o",
      messages: [
        { role: "system", content: prompt.system },
        { role: "user", content: prompt.user },
      ],
    });
    expect(JSON.parse(completion.choices[0]!.message.content!)).toEqual({ questions: ["About line one\nline two?"] });
  });
});
