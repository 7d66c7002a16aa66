/**
 * A scriptable fake of the OpenAI HTTP API for tests, built on msw. It answers
 * `POST {baseURL}/chat/completions` and `POST {baseURL}/embeddings` with the
 * real response and error shapes, so the real `openai` SDK runs unmodified.
 *
 * Usage (vitest):
 *
 *   const openai = setupOpenAIMock({ afterEach, afterAll }); // your test runner's hooks (vitest, jest, node:test):
 *                                               // listens now; resets after each test, closes after all
 *   // or: const openai = createOpenAIMock(); and call openai.server.listen()/openai.reset()/openai.server.close() yourself.
 *   // The SDK keeps the fetch it finds at construction: build OpenAI clients (and the adapters
 *   // that build them) after the server listens, or they will try the real network.
 *
 *   openai.chat.respondWith(questionsReply(["What is VWAP?"]));      // default answer to every request
 *   openai.chat.queue(openAIError(429, { headers: { "retry-after-ms": "5" } }), "{...}"); // one-shot answers first, FIFO
 *   openai.chat.respondWith((req) => questionsReply([`About ${chunkTextFrom(req).slice(0, 20)}?`]));
 *   openai.embeddings.respondWith([[0.1, 0.2], [0.3, 0.4]]);          // or leave the default: deterministic vectors
 *   expect(openai.chat.requests).toHaveLength(2);                      // recorded as they arrive, even if they time out
 *   expect(openai.embeddings.requests[0]!.body.input).toEqual([...]);
 *
 * A reply (`ChatReply` / `EmbeddingsReply`) is one of:
 *   - chat: a string, sent as the assistant message content (finish_reason "stop");
 *     embeddings: number[][], one vector per input, in order;
 *   - a `MockResponse` ({ status?, headers?, body, delayMs? }) sent as is: build bodies with
 *     `chatCompletion()`, `embeddingsResponse()`, or use `openAIError()`, `refusalReply()`, `networkError()`;
 *   - a function of the recorded request returning either of the above (sync or async).
 * Any reply may be delayed with `withDelay(reply, ms)` (e.g. to trigger the client's timeout).
 *
 * Defaults after `reset()`: chat answers 400 "no chat reply scripted" (non-retryable, so a test
 * that forgot to script fails fast and says why); embeddings answer `fakeEmbedding(text, dimensions ?? 8)`
 * for each input, a deterministic unit vector per text.
 */
import { delay, http, HttpResponse, type HttpHandler } from "msw";
import { setupServer, type SetupServer } from "msw/node";
import type OpenAI from "openai";
import { fnv1a, mulberry32 } from "../shared/random.js";

export const OPENAI_BASE_URL = "https://api.openai.com/v1";

export type Endpoint = "chat" | "embeddings";

export interface RecordedRequest<Body> {
  endpoint: Endpoint;
  /** 0-based position among requests to this endpoint since the last reset. */
  index: number;
  url: URL;
  headers: Headers;
  body: Body;
}
export type ChatRequest = RecordedRequest<OpenAI.ChatCompletionCreateParamsNonStreaming>;
export type EmbeddingsRequest = RecordedRequest<OpenAI.EmbeddingCreateParams>;

export interface MockResponse {
  status?: number;
  headers?: Record<string, string>;
  body: unknown;
  /** Wait this long before answering; "infinite" never answers (the client must time out or abort). */
  delayMs?: number | "infinite";
}
/** Makes fetch fail as if the connection dropped (the SDK throws APIConnectionError). */
export interface NetworkFailure {
  networkError: true;
  delayMs?: number | "infinite";
}

type Reply<Simple, Req> = Simple | MockResponse | NetworkFailure | ((request: Req) => ReplyValue<Simple> | Promise<ReplyValue<Simple>>);
type ReplyValue<Simple> = Simple | MockResponse | NetworkFailure;
export type ChatReply = Reply<string, ChatRequest>;
export type EmbeddingsReply = Reply<number[][], EmbeddingsRequest>;

export interface EndpointMock<R, Req> {
  /** The answer for every request once the queue is empty. Replaces the previous default. */
  respondWith(reply: R): void;
  /** One-shot answers used before the default, first in first out. */
  queue(...replies: R[]): void;
  /** Requests received since the last reset, in arrival order. */
  readonly requests: Req[];
  /** One-shot answers not used yet. */
  readonly pending: number;
}

export interface OpenAIMock {
  server: SetupServer;
  /** The handlers, to mount on a server of your own instead of `server`. */
  handlers: HttpHandler[];
  chat: EndpointMock<ChatReply, ChatRequest>;
  embeddings: EndpointMock<EmbeddingsReply, EmbeddingsRequest>;
  /** Every request to either endpoint, in arrival order. */
  readonly requests: Array<ChatRequest | EmbeddingsRequest>;
  /** Clears queues and recorded requests and restores the default replies. */
  reset(): void;
}

export interface OpenAIMockOptions {
  /** Base URL(s) to answer on; default https://api.openai.com/v1. */
  baseURL?: string | string[];
}

export function createOpenAIMock(options: OpenAIMockOptions = {}): OpenAIMock {
  const baseURLs = [options.baseURL ?? OPENAI_BASE_URL].flat().map((u) => u.replace(/\/+$/, ""));
  const all: Array<ChatRequest | EmbeddingsRequest> = [];

  const chat = endpointMock<string, ChatRequest>(noChatReplyScripted, (content, request) => ({
    body: chatCompletion(content, { model: request.body.model }),
  }));
  const embeddings = endpointMock<number[][], EmbeddingsRequest>(
    (request) => inputsOf(request.body).map((text) => fakeEmbedding(text, request.body.dimensions ?? 8)),
    (vectors, request) => ({
      body: embeddingsResponse(vectors, {
        model: request.body.model,
        inputs: inputsOf(request.body),
        encoding: request.body.encoding_format === "base64" ? "base64" : "float",
      }),
    }),
  );

  const handlers = baseURLs.flatMap((base) => [
    http.post(`${base}/chat/completions`, async ({ request }) => {
      const recorded = await record<ChatRequest>("chat", chat.recorded, request);
      all.push(recorded);
      return send(await chat.next(recorded));
    }),
    http.post(`${base}/embeddings`, async ({ request }) => {
      const recorded = await record<EmbeddingsRequest>("embeddings", embeddings.recorded, request);
      all.push(recorded);
      return send(await embeddings.next(recorded));
    }),
  ]);

  return {
    server: setupServer(...handlers),
    handlers,
    chat: chat.api,
    embeddings: embeddings.api,
    get requests() {
      return all;
    },
    reset() {
      all.length = 0;
      chat.reset();
      embeddings.reset();
    },
  };
}

/** The lifecycle hooks of your test runner (vitest, jest and node:test all have these two). */
export interface TestHooks {
  afterEach(fn: () => void): void;
  afterAll(fn: () => void): void;
}

/**
 * `createOpenAIMock`, listening at once (unhandled requests fail), reset after
 * each test and closed after all, through the runner's hooks. Listening at
 * once matters: the `openai` SDK keeps the `fetch` it finds when a client is
 * constructed, so a client built at module level, before a `beforeAll` hook
 * ran, would bypass the mock.
 */
export function setupOpenAIMock(options: OpenAIMockOptions & TestHooks): OpenAIMock {
  const mock = createOpenAIMock(options);
  mock.server.listen({ onUnhandledRequest: "error" });
  options.afterEach(() => mock.reset());
  options.afterAll(() => mock.server.close());
  return mock;
}

function endpointMock<Simple, Req extends RecordedRequest<unknown>>(
  defaultReply: Reply<Simple, Req>,
  toResponse: (value: Simple, request: Req) => MockResponse,
) {
  let fallback: Reply<Simple, Req> = defaultReply;
  const queued: Array<Reply<Simple, Req>> = [];
  const recorded: Req[] = [];
  return {
    recorded,
    reset() {
      fallback = defaultReply;
      queued.length = 0;
      recorded.length = 0;
    },
    async next(request: Req): Promise<MockResponse | NetworkFailure> {
      const reply = queued.length > 0 ? queued.shift()! : fallback;
      const value =
        typeof reply === "function"
          ? await (reply as (r: Req) => ReplyValue<Simple> | Promise<ReplyValue<Simple>>)(request)
          : (reply as ReplyValue<Simple>);
      if (isNetworkFailure(value) || isMockResponse(value)) return value;
      return toResponse(value, request);
    },
    api: {
      respondWith(reply: Reply<Simple, Req>) {
        fallback = reply;
      },
      queue(...replies: Array<Reply<Simple, Req>>) {
        queued.push(...replies);
      },
      get requests() {
        return recorded;
      },
      get pending() {
        return queued.length;
      },
    } satisfies EndpointMock<Reply<Simple, Req>, Req>,
  };
}

async function record<Req extends RecordedRequest<unknown>>(endpoint: Endpoint, into: Req[], request: Request): Promise<Req> {
  const recorded = {
    endpoint,
    index: into.length,
    url: new URL(request.url),
    headers: request.headers,
    body: await request.clone().json(),
  } as Req;
  into.push(recorded);
  return recorded;
}

async function send(reply: MockResponse | NetworkFailure): Promise<Response> {
  if (reply.delayMs !== undefined) await delay(reply.delayMs);
  if (isNetworkFailure(reply)) return HttpResponse.error();
  return HttpResponse.json(reply.body as Parameters<typeof HttpResponse.json>[0], {
    status: reply.status ?? 200,
    headers: { "x-request-id": `req_mock_${Math.random().toString(16).slice(2, 14)}`, ...reply.headers },
  });
}

function isNetworkFailure(value: unknown): value is NetworkFailure {
  return typeof value === "object" && value !== null && "networkError" in value;
}
function isMockResponse(value: unknown): value is MockResponse {
  return typeof value === "object" && value !== null && !Array.isArray(value) && "body" in value;
}

function noChatReplyScripted(): MockResponse {
  return openAIError(400, {
    message: "openai mock: no chat completion reply scripted; call openai.chat.respondWith(...) or openai.chat.queue(...)",
  });
}

// ---------------------------------------------------------------------------
// Real response shapes
// ---------------------------------------------------------------------------

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

function inputsOf(body: OpenAI.EmbeddingCreateParams): string[] {
  const input = body.input;
  if (typeof input === "string") return [input];
  return (input as unknown[]).map((item) => (typeof item === "string" ? item : JSON.stringify(item)));
}

function wordCount(text: string): number {
  return text.split(/\s+/).filter(Boolean).length;
}
