import { afterAll, afterEach, describe, expect, it } from "vitest";
import { AbortedError, GenerationOutputError, UpstreamError, ValidationError } from "../../errors/errors.js";
import {
  chatCompletion,
  chunkTextFrom,
  OPENAI_BASE_URL,
  openAIError,
  questionsReply,
  refusalReply,
  setupOpenAIMock,
  withDelay,
} from "../../test-utils/openai-server.js";
import { questionPromptPresets } from "../../question-prompts/question-prompt.js";
import { OpenAIQuestionGenerator } from "./openai-question-generator.js";

const PROXY_URL = "https://llm-proxy.internal.example/v1";
const openai = setupOpenAIMock({ baseURL: [OPENAI_BASE_URL, PROXY_URL], afterEach, afterAll });

const chunk = {
  id: "c1",
  text: "An iron condor sells an out-of-the-money call spread and put spread on SPY. It profits when implied volatility falls and the price stays in range.",
};
const goodQuestions = [
  "What is an iron condor on SPY?",
  "Why does an iron condor profit when implied volatility falls?",
  "Which spreads make up an iron condor?",
];

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected the promise to reject");
}

const generator = (options: ConstructorParameters<typeof OpenAIQuestionGenerator>[0] = {}) =>
  new OpenAIQuestionGenerator({ apiKey: "sk-test", ...options });

describe("OpenAIQuestionGenerator", () => {
  it("asks once, in JSON mode, with the domain in the system prompt and the chunk in the user prompt", async () => {
    openai.chat.respondWith(questionsReply(goodQuestions));
    const questions = await generator().generate({ chunk, count: 3 });

    expect(questions).toEqual(goodQuestions);
    expect(openai.chat.requests).toHaveLength(1);
    const [request] = openai.chat.requests;
    expect(request!.body).toMatchObject({ model: "gpt-4o", response_format: { type: "json_object" }, temperature: 0.7 });
    const [system, user] = request!.body.messages;
    expect(system).toMatchObject({ role: "system" });
    expect(system!.content).toContain("You are a training data generator for a knowledge base search system.");
    expect(user).toMatchObject({ role: "user" });
    expect(user!.content).not.toMatch(/financial|ticker/);
    expect(chunkTextFrom(request!)).toBe(chunk.text);
  });

  it("takes a preset for a kind of corpus: its domain and instruction lines go into the prompt", async () => {
    openai.chat.respondWith(questionsReply(goodQuestions));
    await generator({ ...questionPromptPresets.finance }).generate({ chunk, count: 3 });
    const [system, user] = openai.chat.requests[0]!.body.messages;
    expect(system!.content).toContain("training data generator for a financial/trading knowledge base search system");
    expect(user!.content).toMatch(/ticker symbols, strategy names or financial terms, use them verbatim/);
  });

  it("uses the configured domain, model and temperature, and a per-call model override", async () => {
    openai.chat.respondWith(questionsReply(goodQuestions));
    const custom = generator({ domain: "a clinical guidelines library", model: "gpt-4o-mini", temperature: null });
    expect(custom.model).toBe("gpt-4o-mini");

    await custom.generate({ chunk, count: 3 });
    await custom.generate({ chunk, count: 3, model: "gpt-4.1" });

    const [first, second] = openai.chat.requests;
    expect(first!.body.model).toBe("gpt-4o-mini");
    expect(first!.body).not.toHaveProperty("temperature");
    expect(first!.body.messages[0]!.content).toContain("training data generator for a clinical guidelines library search system");
    expect(second!.body.model).toBe("gpt-4.1");
  });

  it("sends requests to a custom baseURL", async () => {
    openai.chat.respondWith(questionsReply(goodQuestions));
    await generator({ baseURL: PROXY_URL }).generate({ chunk, count: 3 });
    expect(openai.chat.requests[0]!.url.href).toBe(`${PROXY_URL}/chat/completions`);
  });

  it("trims questions and drops exact duplicates", async () => {
    openai.chat.respondWith(questionsReply(["  What is an iron condor?  ", "What is an iron condor?", "How is SPY used here?"]));
    await expect(generator().generate({ chunk, count: 3 })).resolves.toEqual(["What is an iron condor?", "How is SPY used here?"]);
  });

  it("accepts JSON wrapped in a markdown code fence", async () => {
    openai.chat.respondWith("```json\n" + questionsReply(goodQuestions) + "\n```");
    await expect(generator().generate({ chunk, count: 3 })).resolves.toEqual(goodQuestions);
  });

  describe("throws GenerationOutputError for unusable output", () => {
    it.each([
      ["malformed JSON", '{"questions": ["What is an iron condor?"', /not valid JSON/],
      ["the wrong shape", '{"items": ["What is an iron condor?"]}', /expected \{"questions"/],
      ["questions that are not strings", '{"questions": [1, 2]}', /expected \{"questions"/],
      ["an empty list", '{"questions": []}', /list is empty/],
      ["an empty answer", "", /answer is empty/],
      ["a refusal as text", "I'm sorry, but I can't help with that.", /model refused/],
      ["refusals as questions", questionsReply(["I'm sorry, I cannot generate questions for this."]), /1 a refusal/],
      ["only empty or tiny questions", questionsReply(["", "  ", "SPY?"]), /no usable question among 3 \(3 shorter than 8/],
      ["only overlong questions", questionsReply([`What is ${"an iron condor ".repeat(30)}?`]), /longer than 300/],
      ["only questions about the passage", questionsReply(["What does the passage say about SPY?"]), /refers to "the passage"/],
      [
        "off-topic questions",
        questionsReply(["What is the capital of France?", "Who painted the Mona Lisa?"]),
        /no question mentions anything from the chunk/,
      ],
    ])("%s", async (_label, content, message) => {
      openai.chat.respondWith(content);
      const error = await rejection(generator().generate({ chunk, count: 3 }));
      expect(error).toBeInstanceOf(GenerationOutputError);
      expect(error.message).toMatch(/^Unusable questions for chunk c1: /);
      expect(error.message).toMatch(message);
    });

    it("a refusal reported in message.refusal", async () => {
      openai.chat.respondWith(refusalReply("I'm sorry, I can't assist with that."));
      const error = await rejection(generator().generate({ chunk, count: 3 }));
      expect(error).toBeInstanceOf(GenerationOutputError);
      expect(error.message).toMatch(/model refused: "I'm sorry, I can't assist with that."/);
    });

    it("an answer cut off at the token limit", async () => {
      openai.chat.respondWith({ body: chatCompletion('{"questions": ["What is', { finishReason: "length" }) });
      await expect(generator().generate({ chunk, count: 3 })).rejects.toThrow(/cut off at the token limit/);
    });

    it("a chunk with no text, without calling the API", async () => {
      await expect(generator().generate({ chunk: { id: "blank", text: "  \n" }, count: 3 })).rejects.toBeInstanceOf(
        GenerationOutputError,
      );
      expect(openai.chat.requests).toHaveLength(0);
    });
  });

  it("keeps good questions when some in the same answer are unusable", async () => {
    openai.chat.respondWith(questionsReply(["", "What does the text say?", goodQuestions[0]!, "x".repeat(301)]));
    await expect(generator().generate({ chunk, count: 3 })).resolves.toEqual([goodQuestions[0]]);
  });

  it("keeps a paraphrase with no shared word when another question is on topic", async () => {
    const paraphrase = "How can a trader gain when markets are calm?";
    openai.chat.respondWith(questionsReply([paraphrase, "What is an iron condor?"]));
    await expect(generator().generate({ chunk, count: 2 })).resolves.toEqual([paraphrase, "What is an iron condor?"]);
  });

  describe("maps provider errors, making exactly one request", () => {
    it("429 with Retry-After -> retryable UpstreamError with retryAfterMs", async () => {
      openai.chat.respondWith(openAIError(429, { headers: { "retry-after-ms": "1500" } }));
      const error = await rejection(generator().generate({ chunk, count: 3 }));
      expect(error).toBeInstanceOf(UpstreamError);
      expect(error).toMatchObject({ status: 429, retryable: true, retryAfterMs: 1500, code: "RATE_LIMITED" });
      expect(openai.chat.requests).toHaveLength(1);
    });

    it("500 -> retryable", async () => {
      openai.chat.respondWith(openAIError(500));
      const error = await rejection(generator().generate({ chunk, count: 3 }));
      expect(error).toMatchObject({ status: 500, retryable: true });
      expect(openai.chat.requests).toHaveLength(1);
    });

    it("401 -> not retryable, with a message that says what to check", async () => {
      openai.chat.respondWith(openAIError(401));
      const error = await rejection(generator().generate({ chunk, count: 3 }));
      expect(error).toMatchObject({ status: 401, retryable: false });
      expect(error.message).toMatch(/OpenAI rejected the API key \(401\)/);
    });

    it("a request slower than timeoutMs -> retryable UpstreamError", async () => {
      openai.chat.respondWith(withDelay(questionsReply(goodQuestions), 2_000));
      const error = await rejection(generator({ timeoutMs: 50 }).generate({ chunk, count: 3 }));
      expect(error).toBeInstanceOf(UpstreamError);
      expect(error).toMatchObject({ retryable: true, status: undefined });
      expect(openai.chat.requests).toHaveLength(1);
    });
  });

  it("stops when the signal aborts and throws AbortedError", async () => {
    openai.chat.respondWith(withDelay(questionsReply(goodQuestions), 2_000));
    const controller = new AbortController();
    const promise = generator().generate({ chunk, count: 3, signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    await expect(promise).rejects.toBeInstanceOf(AbortedError);
  });

  it("rejects a count outside 1..50", async () => {
    await expect(generator().generate({ chunk, count: 0 })).rejects.toBeInstanceOf(ValidationError);
  });
});
