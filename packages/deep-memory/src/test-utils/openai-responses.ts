/** The OpenAI mock's replies in the real response and error shapes, and helpers to build them. */
import { delay } from "msw";
import type OpenAI from "openai";
import { fnv1a, mulberry32 } from "../shared/random.js";
import type { ChatReply, ChatRequest, EmbeddingsReply, MockResponse, NetworkFailure } from "./openai-server.js";

let sequence = 0;

/** A chat completion body exactly as OpenAI returns it (non-streaming). */
export function chatCompletion(
  content: string | null,
  options: { model?: string; finishReason?: OpenAI.ChatCompletion.Choice["finish_reason"]; refusal?: string | null } = {},
): OpenAI.ChatCompletion {
  sequence += 1;
  const completionTokens = content ? wordCount(content) : 0;
  return {
    id: `chatcmpl-mock${sequence.toString().padStart(6, "0")}`,
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model: options.model ?? "gpt-4o-2024-08-06",
    choices: [
      {
        index: 0,
        message: { role: "assistant", content, refusal: options.refusal ?? null, annotations: [] },
        logprobs: null,
        finish_reason: options.finishReason ?? "stop",
      },
    ],
    usage: {
      prompt_tokens: 100,
      completion_tokens: completionTokens,
      total_tokens: 100 + completionTokens,
      prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
      completion_tokens_details: {
        reasoning_tokens: 0,
        audio_tokens: 0,
        accepted_prediction_tokens: 0,
        rejected_prediction_tokens: 0,
      },
    },
    service_tier: "default",
    system_fingerprint: "fp_mock",
  };
}

/** The assistant content a question generator expects: `{"questions": [...]}`. */
export function questionsReply(questions: string[]): string {
  return JSON.stringify({ questions });
}

/** A model refusal as the API reports it: `content: null` and the text in `message.refusal`. */
export function refusalReply(text = "I'm sorry, but I can't help with that request."): MockResponse {
  return { body: chatCompletion(null, { refusal: text }) };
}

/**
 * An embeddings body exactly as OpenAI returns it. With `encoding: "base64"`
 * each vector is little-endian float32 bytes in base64, which is what the SDK
 * asks for (and decodes) when the caller sets no `encoding_format`.
 */
export function embeddingsResponse(
  vectors: number[][],
  options: { model?: string; inputs?: string[]; encoding?: "float" | "base64" } = {},
): OpenAI.CreateEmbeddingResponse {
  const tokens = (options.inputs ?? []).reduce((sum, text) => sum + wordCount(text), 0);
  const encode = (v: number[]): number[] =>
    options.encoding === "base64"
      ? (Buffer.from(Float32Array.from(v).buffer).toString("base64") as unknown as number[])
      : v;
  return {
    object: "list",
    data: vectors.map((embedding, index) => ({ object: "embedding", index, embedding: encode(embedding) })),
    model: options.model ?? "text-embedding-3-small",
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  };
}

const errorDefaults: Record<number, { message: string; type: string; code: string | null }> = {
  400: { message: "We could not parse the JSON body of your request.", type: "invalid_request_error", code: null },
  401: {
    message:
      "Incorrect API key provided: sk-test. You can find your API key at https://platform.openai.com/account/api-keys.",
    type: "invalid_request_error",
    code: "invalid_api_key",
  },
  403: { message: "Project does not have access to model `gpt-4o`", type: "invalid_request_error", code: "model_not_found" },
  404: {
    message: "The model `gpt-4o` does not exist or you do not have access to it.",
    type: "invalid_request_error",
    code: "model_not_found",
  },
  429: {
    message:
      "Rate limit reached for gpt-4o in organization org-mock on requests per min (RPM): Limit 500, Used 500, Requested 1. Please try again in 120ms. Visit https://platform.openai.com/account/rate-limits to learn more.",
    type: "requests",
    code: "rate_limit_exceeded",
  },
  500: { message: "The server had an error while processing your request. Sorry about that!", type: "server_error", code: null },
  503: { message: "The engine is currently overloaded, please try again later", type: "server_error", code: null },
};

/**
 * An error response as OpenAI sends it: `{"error": {message, type, param, code}}`
 * with the status and any headers (e.g. `{ "retry-after": "2" }` or `{ "retry-after-ms": "20" }`).
 */
export function openAIError(
  status: number,
  options: { message?: string; type?: string; code?: string | null; param?: string | null; headers?: Record<string, string> } = {},
): MockResponse {
  const defaults = errorDefaults[status] ?? { message: `Mock error ${status}`, type: "api_error", code: null };
  return {
    status,
    headers: options.headers,
    body: {
      error: {
        message: options.message ?? defaults.message,
        type: options.type ?? defaults.type,
        param: options.param ?? null,
        code: options.code === undefined ? defaults.code : options.code,
      },
    },
  };
}

export function networkError(): NetworkFailure {
  return { networkError: true };
}

/**
 * The same reply (any form, functions included), answered after `ms`, or
 * never with "infinite" (the client must time out or abort).
 */
export function withDelay<R extends ChatReply | EmbeddingsReply>(reply: R, ms: number | "infinite"): DelayedReply<R> {
  return async (request) => {
    await delay(ms);
    return (typeof reply === "function" ? await (reply as (r: unknown) => unknown)(request) : reply) as never;
  };
}
/** A function reply; its request type is left open so one delayed reply fits either endpoint. */
export type DelayedReply<R> = (request: any) => Promise<R extends (...args: never[]) => infer V ? Awaited<V> : R>;

/** The chunk text inside a question-generation prompt (between `<chunk>` tags in the user message). */
export function chunkTextFrom(request: ChatRequest): string {
  for (const message of request.body.messages) {
    if (message.role !== "user" || typeof message.content !== "string") continue;
    const match = /<chunk>\n([\s\S]*)\n<\/chunk>/.exec(message.content);
    if (match) return match[1]!;
  }
  throw new Error("openai mock: no <chunk>...</chunk> in the user message of this request");
}

/** Deterministic unit vector for a text: same text, same vector; different texts, unrelated vectors. */
export function fakeEmbedding(text: string, dimensions: number): number[] {
  const random = mulberry32(fnv1a(text));
  const vector = Array.from({ length: dimensions }, () => random() - 0.5);
  const norm = Math.hypot(...vector) || 1;
  return vector.map((x) => x / norm);
}

export function inputsOf(body: OpenAI.EmbeddingCreateParams): string[] {
  const input = body.input;
  if (typeof input === "string") return [input];
  return (input as unknown[]).map((item) => (typeof item === "string" ? item : JSON.stringify(item)));
}

function wordCount(text: string): number {
  return text.split(/\s+/).filter(Boolean).length;
}
