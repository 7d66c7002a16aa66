import { ValidationError } from "@zip/deep-memory";
import {
  deepMemoryRoutes,
  openApiDocument,
  type OpenApiOptions,
  type RouteSpec,
} from "@zip/deep-memory-protocol";
import express, { type Request, type Response, type Router } from "express";
import { authenticate, resolveContext, type JobEventsOptions, type ResolvedContext } from "./context.js";
import { jsonErrorHandler, methodNotAllowed } from "./express-errors.js";
import { httpError, requestFailure, sendError, sendJson, toHttpError, validationError, zodIssues, type HttpError } from "./http-errors.js";
import {
  IDEMPOTENCY_KEY_HEADER,
  IDEMPOTENT_REPLAYED_HEADER,
  IdempotencyCache,
  parseIdempotencyKey,
  requestFingerprint,
  type IdempotencyOptions,
  type IdempotentReply,
} from "./idempotency.js";
import { jobEventsHandler } from "./job-events.js";
import {
  generateResponse,
  importPairsResponse,
  runDetailResponse,
  runListResponse,
  searchResponse,
  settingsResponse,
  statusResponse,
  trainResponse,
} from "./wire.js";

export interface DeepMemoryRouterOptions extends JobEventsOptions {
  /** Largest JSON body accepted (bytes, or a string like "1mb"); larger ones answer 413. Default "1mb". */
  bodyLimit?: number | string;
  /**
   * Where the host mounts `createJobEventsRouter` when it serves job events
   * apart from these routes (the plan's "/v1/api/events"). Used for the
   * `events_url` of 202 responses and the OpenAPI document. By default events
   * are served by this router under `<mount>/events`.
   */
  eventsBasePath?: string;
  /** Also serve GET <mount>/events/stream/:jobId. Default true. */
  serveEvents?: boolean;
  /** Serve the OpenAPI document at GET <mount>/openapi.json (no auth). Default true. */
  openApi?: boolean | Omit<OpenApiOptions, "basePath" | "eventsBasePath">;
  /**
   * `Idempotency-Key` on POST requests: the same key (per user) with the same
   * request replays the first answer; with another request it is a 422.
   * Answers are kept in this process's memory (default 24 h, 10,000 keys).
   * `false` ignores the header. Default on.
   */
  idempotency?: boolean | IdempotencyOptions;
}

interface Call<P, Q, B> {
  req: Request;
  userId: string;
  params: P;
  query: Q;
  body: B;
}

type Reply = IdempotentReply;

type Output<S> = S extends { _zod: { output: infer O } } ? O : undefined;
type CallOf<R extends RouteSpec> = Call<Output<R["params"]>, Output<R["query"]>, Output<R["body"]>>;

const jsonTypes = ["application/json", "application/*+json"];

/** ":param" paths for Express from the protocol's "{param}" paths. */
function expressPath(path: string): string {
  return path.replace(/\{(\w+)\}/g, ":$1");
}

function hasBody(req: Request): boolean {
  if (req.headers["transfer-encoding"] !== undefined) return true;
  const length = Number(req.headers["content-length"]);
  return Number.isFinite(length) && length > 0;
}

/** body-parser's failures as API errors; null when the client is gone (nobody to answer). */
function bodyError(error: unknown): HttpError | null {
  if ((error as { type?: unknown })?.type === "request.aborted") return null;
  return requestFailure(error) ?? httpError("INVALID_JSON", "The request body could not be read");
}

function readJson(parser: express.RequestHandler, req: Request, res: Response): Promise<void> {
  return new Promise((resolve, reject) => parser(req, res, (error?: unknown) => (error ? reject(error) : resolve())));
}

interface RouteContext {
  ctx: ResolvedContext;
  parser: express.RequestHandler;
  idempotency: IdempotencyCache | null;
}

/**
 * One route: authenticate first (an anonymous caller learns nothing, not
 * even validation details), then read and validate params, query and body
 * against the protocol's schemas, then call the trainer (once per
 * Idempotency-Key: a repeat replays the first answer).
 */
function handle<R extends RouteSpec>(routes: RouteContext, route: R, run: (call: CallOf<R>) => Promise<Reply>) {
  const { ctx, parser } = routes;
  const idempotency = route.method === "post" ? routes.idempotency : null;
  return async (req: Request, res: Response): Promise<void> => {
    try {
      const userId = await authenticate(ctx, req);
      if (typeof userId !== "string") return sendError(res, userId);
      const key = idempotency ? parseIdempotencyKey(req.headers[IDEMPOTENCY_KEY_HEADER]) : undefined;

      const params = route.params ? route.params.safeParse(req.params) : { success: true as const, data: undefined };
      if (!params.success) return sendError(res, validationError(zodIssues(params.error), "path"));
      // Express 5 gives req.query a null prototype; spread it into a plain object.
      const query = route.query ? route.query.safeParse({ ...req.query }) : { success: true as const, data: undefined };
      if (!query.success) return sendError(res, validationError(zodIssues(query.error), "query"));

      let body: unknown;
      if (route.body) {
        if (hasBody(req)) {
          if (!req.is(jsonTypes)) return sendError(res, httpError("UNSUPPORTED_MEDIA_TYPE", "Send the request body as application/json"));
          try {
            await readJson(parser, req, res);
          } catch (error) {
            const http = bodyError(error);
            return http ? sendError(res, http) : undefined;
          }
          body = req.body;
        } else if (route.bodyOptional) body = {};
        else return sendError(res, validationError([{ path: "(root)", message: "a JSON body is required" }], "request body"));
        const parsed = route.body.safeParse(body);
        if (!parsed.success) return sendError(res, validationError(zodIssues(parsed.error), "request body"));
        body = parsed.data;
      }

      // The trainer's refusals become answers here, so a replay repeats them too.
      const execute = async (): Promise<Reply> => {
        try {
          return await run({ req, userId, params: params.data, query: query.data, body } as CallOf<R>);
        } catch (error) {
          const http = toHttpError(error);
          if (http.status >= 500) ctx.onError(error, req);
          return http;
        }
      };
      if (!idempotency || key === undefined) {
        const reply = await execute();
        return sendJson(res, reply.status, reply.body, reply.headers);
      }
      const fingerprint = requestFingerprint({ method: route.method, route: route.path, params: params.data, body });
      const reply = await idempotency.run({ userId, key, fingerprint }, execute);
      sendJson(res, reply.status, reply.body, { ...reply.headers, ...(reply.replayed ? { [IDEMPOTENT_REPLAYED_HEADER]: "true" } : {}) });
    } catch (error) {
      const http = toHttpError(error);
      if (http.status >= 500) ctx.onError(error, req);
      sendError(res, http);
    }
  };
}

/**
 * The deep-memory REST API as an Express router (Express 4 or 5). Mount it
 * where you like, e.g. `app.use("/v1/api/deep-memory", createDeepMemoryRouter({ trainer, getUserId }))`.
 * JSON on the wire is snake_case; see docs/http-api.md.
 */
export function createDeepMemoryRouter(options: DeepMemoryRouterOptions): Router {
  const ctx = resolveContext(options);
  const { trainer } = ctx;
  const parser = express.json({ limit: options.bodyLimit ?? "1mb", type: jsonTypes, strict: true });
  const idempotency = options.idempotency === false ? null : new IdempotencyCache(options.idempotency === true ? {} : options.idempotency);
  const routes: RouteContext = { ctx, parser, idempotency };
  const router = express.Router();
  const r = deepMemoryRoutes;
  const eventsUrl = (req: Request, jobId: string) =>
    `${options.eventsBasePath?.replace(/\/$/, "") ?? `${req.baseUrl}/events`}/stream/${encodeURIComponent(jobId)}`;

  router.post(
    expressPath(r.generate.path),
    handle(routes, r.generate, async ({ req, userId, body }) => {
      if (body.max_pairs !== undefined && body.max_pairs > trainer.options.maxPairs) {
        const message = `must not exceed this server's cap of ${trainer.options.maxPairs}`;
        throw new ValidationError(`Invalid request body: max_pairs: ${message}`, [{ path: "max_pairs", message }]);
      }
      const result = await trainer.generate({
        userId,
        ...(body.questions_per_chunk !== undefined ? { questionsPerChunk: body.questions_per_chunk } : {}),
        ...(body.max_pairs !== undefined ? { maxPairs: body.max_pairs } : {}),
      });
      return { status: 202, body: generateResponse(result, eventsUrl(req, result.jobId)) };
    }),
  );

  router.post(
    expressPath(r.train.path),
    handle(routes, r.train, async ({ req, userId, body }) => {
      const result = await trainer.train({ userId, runId: body.training_run_id });
      return { status: 202, body: trainResponse(result, eventsUrl(req, result.jobId)) };
    }),
  );

  router.post(
    expressPath(r.importPairs.path),
    handle(routes, r.importPairs, async ({ userId, body }) => {
      const result = await trainer.importPairs({
        userId,
        pairs: body.pairs.map((p) => ({ question: p.question, chunkId: p.chunk_id })),
        ...(body.source !== undefined ? { source: body.source } : {}),
      });
      return { status: 201, body: importPairsResponse(result) };
    }),
  );

  router.get(
    expressPath(r.listRuns.path),
    handle(routes, r.listRuns, async ({ userId, query }) => ({
      status: 200,
      body: runListResponse(await trainer.listRuns({ userId, limit: query.limit, offset: query.offset })),
    })),
  );

  router.get(
    expressPath(r.getRun.path),
    handle(routes, r.getRun, async ({ userId, params }) => ({
      status: 200,
      body: runDetailResponse(await trainer.getRun({ userId, runId: params.runId })),
    })),
  );

  router.get(
    expressPath(r.getStatus.path),
    handle(routes, r.getStatus, async ({ userId, params }) => ({
      status: 200,
      body: statusResponse(await trainer.getStatus({ userId, id: params.id })),
    })),
  );

  router.get(
    expressPath(r.getSettings.path),
    handle(routes, r.getSettings, async ({ userId }) => ({ status: 200, body: settingsResponse(await trainer.getSettings({ userId })) })),
  );

  router.put(
    expressPath(r.updateSettings.path),
    handle(routes, r.updateSettings, async ({ userId, body }) => ({
      status: 200,
      body: settingsResponse(await trainer.updateSettings({ userId, enabled: body.enabled })),
    })),
  );

  router.post(
    expressPath(r.search.path),
    handle(routes, r.search, async ({ userId, body }) => ({
      status: 200,
      body: searchResponse(body.query, body.k, await trainer.compareSearch({ userId, query: body.query, k: body.k })),
    })),
  );

  const serveEvents = options.serveEvents ?? true;
  if (serveEvents) router.get(expressPath(r.jobEvents.path), jobEventsHandler(ctx));

  const served: { path: string; method: string }[] = Object.values(r).filter((spec) => spec !== r.jobEvents || serveEvents);
  if (options.openApi ?? true) {
    served.push({ path: "/openapi.json", method: "get" });
    const extra = typeof options.openApi === "object" ? options.openApi : {};
    router.get("/openapi.json", (req, res) => {
      sendJson(
        res,
        200,
        openApiDocument({ ...extra, basePath: req.baseUrl, ...(options.eventsBasePath !== undefined ? { eventsBasePath: options.eventsBasePath } : {}) }),
      );
    });
  }
  answerEveryMethodAsJson(router, served, ctx.onError);
  return router;
}

/**
 * The router's own paths answer any other method with 405 (OPTIONS with 204),
 * and every error raised on them (a malformed percent-encoded id, say) as JSON.
 * Paths it does not serve stay the host's.
 */
function answerEveryMethodAsJson(router: Router, served: readonly { path: string; method: string }[], onError: (error: unknown, req: Request) => void): void {
  const methods = new Map<string, string[]>();
  for (const { path, method } of served) methods.set(path, [...(methods.get(path) ?? []), method.toUpperCase()]);
  for (const [path, allowed] of methods) router.all(expressPath(path), methodNotAllowed(allowed));
  router.use(jsonErrorHandler({ onError }));
}

/**
 * Only the job event stream, for hosts that serve it apart from the other
 * routes: `app.use("/v1/api/events", createJobEventsRouter({ trainer, getUserId }))`
 * serves GET /v1/api/events/stream/:jobId. Pass the same path as
 * `eventsBasePath` to createDeepMemoryRouter so its 202 responses point here.
 */
export function createJobEventsRouter(options: JobEventsOptions): Router {
  const router = express.Router();
  const ctx = resolveContext(options);
  const path = deepMemoryRoutes.jobEvents.path.replace(/^\/events/, "");
  router.get(expressPath(path), jobEventsHandler(ctx));
  answerEveryMethodAsJson(router, [{ path, method: "get" }], ctx.onError);
  return router;
}
