/**
 * OpenAI's HTTP API as msw handlers, answering with the real response and
 * error shapes (embeddings, chat completions, the Responses API) so the real
 * @ai-sdk/openai provider runs unmodified against it. Each endpoint answers
 * from a FIFO queue of replies, then from its default; requests are recorded.
 */
import { delay, http, HttpResponse } from "msw";
import { setupServer } from "msw/node";
import { afterAll, afterEach, beforeAll } from "vitest";

export const OPENAI_BASE_URL = "https://api.openai.com/v1";

export interface Reply {
  status?: number;
  headers?: Record<string, string>;
  body: unknown;
  delayMs?: number;
}
type Responder = Reply | "network-error" | ((body: Record<string, unknown>) => Reply | "network-error");

interface Endpoint {
  requests: Record<string, unknown>[];
  queue(...replies: Responder[]): void;
  respondWith(reply: Responder): void;
}

function endpoint(fallback: Responder) {
  const state = { queued: [] as Responder[], fallback, requests: [] as Record<string, unknown>[] };
  const api: Endpoint = {
    requests: state.requests,
    queue: (...replies) => void state.queued.push(...replies),
    respondWith: (reply) => void (state.fallback = reply),
  };
  const handle = async ({ request }: { request: Request }) => {
    const body = (await request.json()) as Record<string, unknown>;
    state.requests.push(body);
    const next = state.queued.shift() ?? state.fallback;
    const reply = typeof next === "function" ? next(body) : next;
    if (reply === "network-error") return HttpResponse.error();
    if (reply.delayMs) await delay(reply.delayMs);
    return HttpResponse.json(reply.body as Record<string, unknown>, { status: reply.status ?? 200, headers: { "x-request-id": `req_${state.requests.length}`, ...reply.headers } });
  };
  const reset = (to: Responder) => {
    state.queued.length = 0;
    state.requests.length = 0;
    state.fallback = to;
  };
  return { api, handle, reset };
}

/** `POST /embeddings`: one vector per input, in index order (@ai-sdk/openai reads `data` in order, ignoring `index`). */
export function embeddingsBody(vectors: number[][], model = "text-embedding-3-small"): unknown {
  const data = vectors.map((embedding, index) => ({ object: "embedding", index, embedding }));
  return { object: "list", data, model, usage: { prompt_tokens: 8 * vectors.length, total_tokens: 8 * vectors.length } };
}

/** A chat completion whose assistant message is `content`. */
export function chatCompletionBody(content: string, finishReason = "stop"): unknown {
  return {
    id: "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
    object: "chat.completion",
    created: 1741570283,
    model: "gpt-4o-2024-08-06",
    choices: [{ index: 0, message: { role: "assistant", content, refusal: null, annotations: [] }, logprobs: null, finish_reason: finishReason }],
    usage: {
      prompt_tokens: 212,
      completion_tokens: 41,
      total_tokens: 253,
      prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
    },
    service_tier: "default",
    system_fingerprint: "fp_f9f4fb6dbf",
  };
}

/** A Responses API response with one output_text message, as `openai("gpt-4o")` asks for. */
export function responsesBody(text: string): unknown {
  return {
    id: "resp_67ccd2bed1ec8190b14f964abc0542670bb6a6b452d3795b",
    object: "response",
    created_at: 1741476542,
    status: "completed",
    error: null,
    incomplete_details: null,
    instructions: null,
    max_output_tokens: null,
    model: "gpt-4o-2024-08-06",
    output: [
      {
        type: "message",
        id: "msg_67ccd2bf17f0819081ff3bb2cf6508e60bb6a6b452d3795b",
        status: "completed",
        role: "assistant",
        content: [{ type: "output_text", text, annotations: [], logprobs: [] }],
      },
    ],
    parallel_tool_calls: true,
    previous_response_id: null,
    reasoning: { effort: null, summary: null },
    store: true,
    temperature: 0.7,
    text: { format: { type: "json_schema", name: "questions", strict: false } },
    tool_choice: "auto",
    tools: [],
    top_p: 1,
    truncation: "disabled",
    usage: { input_tokens: 212, input_tokens_details: { cached_tokens: 0 }, output_tokens: 41, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 253 },
    user: null,
    metadata: {},
  };
}

/** An OpenAI error answer, e.g. `openAIError(429, "rate_limit_exceeded", { "retry-after-ms": "20" })`. */
export function openAIError(status: number, code: string, headers: Record<string, string> = {}, message = `Error ${code}`): Reply {
  const type = status === 429 ? (code === "insufficient_quota" ? "insufficient_quota" : "requests") : status >= 500 ? "server_error" : "invalid_request_error";
  return { status, headers, body: { error: { message, type, param: null, code } } };
}

/** Deterministic unit vector per text, so a test can check which vector went where. */
export function vectorFor(text: string, dims = 8): number[] {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  const v = Array.from({ length: dims }, (_, i) => Math.sin((h >>> 0) * (i + 1)));
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

const unscripted: Reply = openAIError(400, "unscripted", {}, "no reply scripted for this request");

/** Listens for the test file's lifetime; every test starts with empty queues and default replies. */
export function setupOpenAIHttp() {
  const embeddings = endpoint((body) => ({ body: embeddingsBody((body.input as string[]).map((t) => vectorFor(t))) }));
  const chat = endpoint(unscripted);
  const responses = endpoint(unscripted);
  const server = setupServer(
    http.post(`${OPENAI_BASE_URL}/embeddings`, embeddings.handle),
    http.post(`${OPENAI_BASE_URL}/chat/completions`, chat.handle),
    http.post(`${OPENAI_BASE_URL}/responses`, responses.handle),
  );
  beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
  afterEach(() => {
    embeddings.reset((body) => ({ body: embeddingsBody((body.input as string[]).map((t) => vectorFor(t))) }));
    chat.reset(unscripted);
    responses.reset(unscripted);
  });
  afterAll(() => server.close());
  return { embeddings: embeddings.api, chat: chat.api, responses: responses.api };
}
