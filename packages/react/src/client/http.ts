import type { RouteSpec } from "@zip/deep-memory-protocol";
import { DeepMemoryClientError, errorFromResponse, toClientError } from "./errors.js";

export type HeadersInput = HeadersInit | undefined;

/** Static headers, or a function called before every request (and every stream reconnect), e.g. to attach a fresh access token. */
export type HeadersOption = HeadersInit | (() => HeadersInput | Promise<HeadersInput>);

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

export interface TransportOptions {
  baseUrl: string;
  fetch?: FetchLike | undefined;
  headers?: HeadersOption | undefined;
  credentials?: RequestCredentials | undefined;
}

export interface RequestInput {
  params?: Record<string, string>;
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  signal?: AbortSignal | undefined;
  /**
   * Sent as Idempotency-Key. With one, a request whose connection failed is
   * sent once more with the same key: the server does the work at most once.
   */
  idempotencyKey?: string | undefined;
}

/** A fresh Idempotency-Key (one per user action). */
export function newIdempotencyKey(): string {
  const crypto = globalThis.crypto as Crypto | undefined;
  if (typeof crypto?.randomUUID === "function") return crypto.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}-${Math.random().toString(36).slice(2)}`;
}

/** Wait before the one retry of a keyed request whose connection failed. */
const networkRetryDelayMs = 300;

/** Minimal schema surface the transport needs; zod schemas satisfy it. */
export interface Parser<T> {
  safeParse(value: unknown): { success: true; data: T } | { success: false; error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] } };
}

export function trimSlashes(url: string): string {
  return url.replace(/\/+$/, "");
}

/** `/runs/{runId}` with `{ runId: "a b" }` -> `/runs/a%20b`. */
export function fillPath(path: string, params: Record<string, string> = {}): string {
  return path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined) throw new TypeError(`Missing path parameter ${name} for ${path}`);
    return encodeURIComponent(value);
  });
}

export function issuesOf(error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] }): { path: string; message: string }[] {
  return error.issues.map((issue) => ({ path: issue.path.map(String).join(".") || "(root)", message: issue.message }));
}

/** Sends requests with the host's fetch and headers, and turns every failure into a DeepMemoryClientError. */
export class Transport {
  readonly baseUrl: string;

  constructor(private readonly options: TransportOptions) {
    this.baseUrl = trimSlashes(options.baseUrl);
  }

  async headers(extra: Record<string, string>): Promise<Headers> {
    const configured = this.options.headers;
    let resolved: HeadersInput;
    try {
      resolved = typeof configured === "function" ? await configured() : configured;
    } catch (error) {
      throw new DeepMemoryClientError({
        status: null,
        code: "HEADERS_FAILED",
        message: `The headers function failed: ${error instanceof Error ? error.message : String(error)}`,
        cause: error,
      });
    }
    const headers = new Headers(extra);
    // The host's headers win, so it can override Accept or add Authorization.
    new Headers(resolved).forEach((value, key) => headers.set(key, value));
    return headers;
  }

  /** fetch, resolved at call time so test interceptors and SSR polyfills installed later are used. */
  async fetch(url: string, init: RequestInit): Promise<Response> {
    const fetchImpl: FetchLike = this.options.fetch ?? ((input, requestInit) => globalThis.fetch(input, requestInit));
    try {
      return await fetchImpl(url, {
        ...init,
        ...(this.options.credentials === undefined ? {} : { credentials: this.options.credentials }),
      });
    } catch (error) {
      throw toClientError(error);
    }
  }

  async request<T>(route: Pick<RouteSpec, "method" | "path">, input: RequestInput, response: Parser<T>): Promise<T> {
    let url = `${this.baseUrl}${fillPath(route.path, input.params)}`;
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(input.query ?? {})) if (value !== undefined) search.set(key, String(value));
    const queryString = search.toString();
    if (queryString) url += `?${queryString}`;

    const hasBody = input.body !== undefined;
    const headers = await this.headers({
      accept: "application/json",
      ...(hasBody ? { "content-type": "application/json" } : {}),
      ...(input.idempotencyKey === undefined ? {} : { "idempotency-key": input.idempotencyKey }),
    });
    const init: RequestInit = {
      method: route.method.toUpperCase(),
      headers,
      ...(hasBody ? { body: JSON.stringify(input.body) } : {}),
      ...(input.signal ? { signal: input.signal } : {}),
    };
    let res: Response;
    try {
      res = await this.fetch(url, init);
    } catch (error) {
      // The answer may have been lost after the server did the work: the same key makes a second try safe.
      const network = DeepMemoryClientError.isInstance(error) && error.code === "NETWORK_ERROR";
      if (!network || input.idempotencyKey === undefined || input.signal?.aborted) throw error;
      await new Promise((resolve) => setTimeout(resolve, networkRetryDelayMs));
      if (input.signal?.aborted) throw error;
      res = await this.fetch(url, init);
    }
    if (!res.ok) throw await errorFromResponse(res);

    let json: unknown;
    try {
      json = await res.json();
    } catch (error) {
      if (input.signal?.aborted) throw toClientError(error);
      throw new DeepMemoryClientError({ status: res.status, code: "INVALID_RESPONSE", message: "The server's answer is not JSON", cause: error });
    }
    const parsed = response.safeParse(json);
    if (!parsed.success) {
      throw new DeepMemoryClientError({
        status: res.status,
        code: "INVALID_RESPONSE",
        message: `The server's answer does not match the deep-memory protocol (${route.method.toUpperCase()} ${route.path}); is the server a different version?`,
        details: { issues: issuesOf(parsed.error) },
      });
    }
    return parsed.data;
  }
}

/** Validates a request body against the protocol's request schema before sending it, as the server would. */
export function validateRequest<T>(schema: Parser<T>, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issues = issuesOf(parsed.error);
  const first = issues[0];
  throw new DeepMemoryClientError({
    status: null,
    code: "VALIDATION_FAILED",
    message: first ? `Invalid request: ${first.path}: ${first.message}` : "Invalid request",
    details: { issues },
  });
}
