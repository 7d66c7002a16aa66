import { deepMemoryRoutes, openApiDocument, type RouteSpec } from "@zip/deep-memory-protocol";
import { readJsonBody } from "./body.js";
import { errorResponse, httpError, jsonResponse, toHttpError, validationError, zodIssues, type HttpError } from "./http-errors.js";
import { IDEMPOTENCY_KEY_HEADER, IDEMPOTENT_REPLAYED_HEADER, IdempotencyCache, parseIdempotencyKey, requestFingerprint, type IdempotentReply } from "./idempotency.js";
import { handleJobEvents } from "./job-events.js";
import { authenticate, resolveContext, trimSlash, type DeepMemoryHandlerOptions, type JobEventsHandlerOptions, type ResolvedContext } from "./options.js";
import { routeActions, type RestRouteName, type RouteActions } from "./routes.js";

export interface HandleInit {
  /** Where the routes are mounted for this request; overrides the handler's `basePath`. */
  basePath?: string;
  /**
   * The path as received, still percent-encoded, for adapters that have it:
   * `request.url` has dot segments ("..", "%2e") resolved by the URL parser,
   * so an id of ".." would otherwise route elsewhere. Defaults to the URL's.
   */
  pathname?: string;
}

/**
 * The deep-memory HTTP API as a fetch handler. Called as a function it
 * answers every request, with a JSON 404 for paths that are not the API's;
 * `route` answers null for those instead, so a host can fall through to its
 * own routes.
 */
export interface DeepMemoryHandler {
  (request: Request, init?: HandleInit): Promise<Response>;
  route(request: Request, init?: HandleInit): Promise<Response | null>;
}

interface Endpoint {
  /** Path relative to the base, "{param}" segments as in the route table. */
  path: string;
  segments: string[];
  methods: Map<string, (request: Request, params: Record<string, string>, ctx: RequestContext) => Promise<Response>>;
}

interface RequestContext {
  basePath: string;
  url: URL;
}

function compile(path: string): string[] {
  return path.split("/").filter(Boolean);
}

/** Matches raw (still percent-encoded) segments; decodes parameters, throwing URIError on malformed ones. */
function match(endpoint: Endpoint, segments: string[]): Record<string, string> | null {
  if (endpoint.segments.length !== segments.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < segments.length; i++) {
    const pattern = endpoint.segments[i]!;
    const segment = segments[i]!;
    const name = /^\{(\w+)\}$/.exec(pattern)?.[1];
    if (name) params[name] = decodeURIComponent(segment);
    else if (pattern !== segment) return null;
  }
  return params;
}

function allowHeader(methods: Iterable<string>): string {
  const list = [...methods].flatMap((m) => (m === "GET" ? ["GET", "HEAD"] : [m]));
  return [...new Set([...list, "OPTIONS"])].join(", ");
}

function queryObject(url: URL): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [key, value] of url.searchParams) {
    const prev = out[key];
    out[key] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  return out;
}

class Router {
  readonly endpoints: Endpoint[] = [];

  add(path: string, method: string, run: Endpoint["methods"] extends Map<string, infer F> ? F : never): void {
    let endpoint = this.endpoints.find((e) => e.path === path);
    if (!endpoint) {
      endpoint = { path, segments: compile(path), methods: new Map() };
      this.endpoints.push(endpoint);
    }
    endpoint.methods.set(method.toUpperCase(), run);
  }

  handler(ctx: ResolvedContext): DeepMemoryHandler {
    const route = async (request: Request, init: HandleInit = {}): Promise<Response | null> => {
      const basePath = trimSlash(init.basePath ?? ctx.basePath);
      const url = new URL(request.url);
      const pathname = init.pathname ?? url.pathname;
      if (pathname !== basePath && !pathname.startsWith(`${basePath}/`)) return null;
      const segments = compile(pathname.slice(basePath.length));
      try {
        for (const endpoint of this.endpoints) {
          const params = match(endpoint, segments);
          if (!params) continue;
          const method = request.method.toUpperCase();
          const run = endpoint.methods.get(method) ?? (method === "HEAD" ? endpoint.methods.get("GET") : undefined);
          if (run) {
            const response = await run(request, params, { basePath, url });
            if (method !== "HEAD") return response;
            // HEAD: the GET answer's status and headers; a stream it opened is cancelled (that releases it).
            void response.body?.cancel().catch(() => {});
            return new Response(null, { status: response.status, headers: response.headers });
          }
          const allow = allowHeader(endpoint.methods.keys());
          if (method === "OPTIONS") return new Response(null, { status: 204, headers: { allow } });
          const http = httpError("METHOD_NOT_ALLOWED", `${request.method} is not allowed here; use ${allow}`, { allow });
          return jsonResponse(http.status, http.body, { allow });
        }
      } catch (error) {
        if (error instanceof URIError) {
          return errorResponse(
            httpError("VALIDATION_FAILED", "The URL is not valid percent-encoded UTF-8", { issues: [{ path: "(path)", message: "malformed percent-encoding" }] }),
          );
        }
        const http = toHttpError(error);
        if (http.status >= 500) ctx.onError(error, request);
        return errorResponse(http);
      }
      return null;
    };
    const handle = async (request: Request, init?: HandleInit): Promise<Response> =>
      (await route(request, init)) ?? errorResponse(httpError("NOT_FOUND", "No such route"));
    return Object.assign(handle, { route });
  }
}

const firstString = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);

function addJobEvents(router: Router, ctx: ResolvedContext, path: string): void {
  router.add(path, "GET", (request, params, { url }) => {
    const query: Record<string, string> = {};
    for (const [key, value] of Object.entries(queryObject(url))) query[key] = firstString(value)!;
    return handleJobEvents(ctx, request, params.jobId!, query);
  });
}

/**
 * One REST route: authenticate first (an anonymous caller learns nothing, not
 * even validation details), then validate path, query and body against the
 * protocol's schemas, then call the trainer (once per Idempotency-Key: a
 * repeat replays the first answer).
 */
function restRoute<N extends RestRouteName>(
  ctx: ResolvedContext,
  spec: RouteSpec,
  action: RouteActions[N],
  options: { bodyLimit: number; idempotency: IdempotencyCache | null; eventsUrl: (jobId: string, basePath: string) => string },
) {
  const idempotency = spec.method === "post" ? options.idempotency : null;
  // The spec's schemas validated params, query and body just below: the action gets them as it types them.
  const run = action as unknown as (call: { userId: string; params: unknown; query: unknown; body: unknown; eventsUrl: (jobId: string) => string }) => Promise<IdempotentReply>;
  return async (request: Request, rawParams: Record<string, string>, { basePath, url }: RequestContext): Promise<Response> => {
    const userId = await authenticate(ctx, request);
    if (typeof userId !== "string") return errorResponse(userId);
    const key = idempotency ? parseIdempotencyKey(request.headers.get(IDEMPOTENCY_KEY_HEADER) ?? undefined) : undefined;

    const params = spec.params ? spec.params.safeParse(rawParams) : { success: true as const, data: undefined };
    if (!params.success) return errorResponse(validationError(zodIssues(params.error), "path"));
    const query = spec.query ? spec.query.safeParse(queryObject(url)) : { success: true as const, data: undefined };
    if (!query.success) return errorResponse(validationError(zodIssues(query.error), "query"));

    let body: unknown;
    if (spec.body) {
      const read = await readJsonBody(request, options.bodyLimit);
      if (read.kind === "error") return errorResponse(read.error);
      if (read.kind === "json") body = read.value;
      else if (spec.bodyOptional) body = {};
      else return errorResponse(validationError([{ path: "(root)", message: "a JSON body is required" }], "request body"));
      const parsed = spec.body.safeParse(body);
      if (!parsed.success) return errorResponse(validationError(zodIssues(parsed.error), "request body"));
      body = parsed.data;
    }

    // The trainer's refusals become answers here, so a replay repeats them too.
    const execute = async (): Promise<IdempotentReply> => {
      try {
        const call = { userId, params: params.data, query: query.data, body, eventsUrl: (jobId: string) => options.eventsUrl(jobId, basePath) };
        return await run(call);
      } catch (error) {
        const http: HttpError = toHttpError(error);
        if (http.status >= 500) ctx.onError(error, request);
        return http;
      }
    };
    if (!idempotency || key === undefined) {
      const reply = await execute();
      return jsonResponse(reply.status, reply.body, reply.headers);
    }
    const fingerprint = await requestFingerprint({ method: spec.method, route: spec.path, params: params.data, body });
    const reply = await idempotency.run({ userId, key, fingerprint }, execute);
    return jsonResponse(reply.status, reply.body, { ...reply.headers, ...(reply.replayed ? { [IDEMPOTENT_REPLAYED_HEADER]: "true" } : {}) });
  };
}

/**
 * The whole deep-memory HTTP API (REST, Server-Sent Events, OpenAPI) as one
 * fetch-standard handler, for any runtime with Request and Response:
 *
 * ```ts
 * const handler = createDeepMemoryHandler({ trainer, getUserId: async (request) => userFromSession(request) });
 * // Bun.serve({ fetch: handler }), Deno.serve(handler), a Next.js route handler, Hono...
 * ```
 *
 * JSON on the wire is snake_case; see docs/http-api.md.
 */
export function createDeepMemoryHandler(options: DeepMemoryHandlerOptions): DeepMemoryHandler {
  const ctx = resolveContext(options);
  const bodyLimit = options.bodyLimit ?? 1024 * 1024;
  if (!Number.isFinite(bodyLimit) || bodyLimit <= 0) throw new TypeError("bodyLimit must be a positive number of bytes");
  const idempotency = options.idempotency === false ? null : new IdempotencyCache(options.idempotency === true ? {} : options.idempotency);
  const eventsUrl = (jobId: string, basePath: string) => `${options.eventsBasePath !== undefined ? trimSlash(options.eventsBasePath) : `${basePath}/events`}/stream/${encodeURIComponent(jobId)}`;
  const actions = routeActions(ctx.trainer);
  const router = new Router();
  const routes = deepMemoryRoutes;
  for (const name of Object.keys(actions) as RestRouteName[]) {
    const spec: RouteSpec = routes[name];
    router.add(spec.path, spec.method, restRoute(ctx, spec, actions[name], { bodyLimit, idempotency, eventsUrl }));
  }
  if (options.serveEvents ?? true) addJobEvents(router, ctx, routes.jobEvents.path);
  if (options.openApi ?? true) {
    const extra = typeof options.openApi === "object" ? options.openApi : {};
    router.add("/openapi.json", "GET", async (_request, _params, { basePath }) =>
      jsonResponse(200, openApiDocument({ ...extra, basePath, ...(options.eventsBasePath !== undefined ? { eventsBasePath: options.eventsBasePath } : {}) })),
    );
  }
  return router.handler(ctx);
}

/**
 * Only the job event stream, for hosts that serve it apart from the other
 * routes: with `basePath: "/v1/api/events"` it serves GET
 * /v1/api/events/stream/{jobId}. Pass the same path as `eventsBasePath` to
 * createDeepMemoryHandler so its 202 responses point here.
 */
export function createJobEventsHandler(options: JobEventsHandlerOptions): DeepMemoryHandler {
  const ctx = resolveContext(options, "/v1/api/events");
  const router = new Router();
  addJobEvents(router, ctx, deepMemoryRoutes.jobEvents.path.replace(/^\/events/, ""));
  return router.handler(ctx);
}
