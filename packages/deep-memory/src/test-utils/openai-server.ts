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
import { chatCompletion, embeddingsResponse, fakeEmbedding, inputsOf, openAIError } from "./openai-responses.js";

export {
  chatCompletion,
  chunkTextFrom,
  embeddingsResponse,
  fakeEmbedding,
  networkError,
  openAIError,
  questionsReply,
  refusalReply,
  withDelay,
  type DelayedReply,
} from "./openai-responses.js";

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
