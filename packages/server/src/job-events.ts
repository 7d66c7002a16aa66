import { isTerminalEvent, type JobEvent, type TrainingRun } from "@zip/deep-memory";
import {
  encodeJobStreamEvent,
  encodeSseComment,
  encodeSseRetry,
  jobEventsQuerySchema,
  jobIdParamsSchema,
  lastEventIdSchema,
  RUN_FAILED_CODE,
  SSE_RESPONSE_HEADERS,
  SYNTHESIZED_EVENT_SEQ,
  toWireJobEvent,
  toWireRunMetrics,
  type JobStreamEvent,
} from "@zip/deep-memory-protocol";
import { errorResponse, httpError, toHttpError, validationError, zodIssues } from "./http-errors.js";
import { authenticate, type ResolvedContext } from "./options.js";
import { statusResponse } from "./wire.js";

/**
 * GET .../stream/{jobId}: a job's events as Server-Sent Events, through a
 * ReadableStream.
 *
 * - Replays the events after Last-Event-ID (header, or `last_event_id` query
 *   for polyfills), then follows the job live; closes after its terminal event.
 * - A finished job with nothing after Last-Event-ID answers 204, which tells
 *   an EventSource to stop reconnecting.
 * - A job this process does not know (it ran in another process, or before a
 *   restart) but whose run is in the store gets one event rebuilt from the
 *   run: `completed`/`failed` with seq SYNTHESIZED_EVENT_SEQ, or, while it
 *   still runs elsewhere, a `status` snapshot; then the stream closes (an
 *   EventSource reconnecting after `retry:` thus polls until the end).
 * - Unknown jobs and other users' jobs answer 404 alike.
 * - The subscription and heartbeat end when the client goes (request.signal
 *   aborts or the body is cancelled) or stops reading (more than
 *   maxBufferedBytes queued: it resumes with Last-Event-ID).
 */
export async function handleJobEvents(ctx: ResolvedContext, request: Request, rawJobId: string, query: Record<string, string>): Promise<Response> {
  try {
    const userId = await authenticate(ctx, request);
    if (typeof userId !== "string") return errorResponse(userId);
    const params = jobIdParamsSchema.safeParse({ jobId: rawJobId });
    if (!params.success) return errorResponse(validationError(zodIssues(params.error), "path"));
    const parsedQuery = jobEventsQuerySchema.safeParse(query);
    if (!parsedQuery.success) return errorResponse(validationError(zodIssues(parsedQuery.error), "query"));
    let after = parsedQuery.data.last_event_id ?? parsedQuery.data.lastEventId ?? 0;
    const header = request.headers.get("last-event-id");
    if (header !== null && header.trim() !== "") {
      const parsed = lastEventIdSchema.safeParse(header.trim());
      if (!parsed.success) return errorResponse(validationError(zodIssues(parsed.error, "Last-Event-ID"), "header"));
      // The header wins: EventSource keeps it current across reconnects.
      after = parsed.data;
    }
    const { jobId } = params.data;
    // With a shared job event log every replica reads every job from it, with the same seqs.
    if (ctx.trainer.sharesJobEvents && ctx.trainer.findJob && ctx.trainer.jobEvents) {
      const job = await ctx.trainer.findJob({ userId, jobId });
      if (job) return await streamFromLog(ctx, request, userId, jobId, after, job.active);
    } else if (ctx.trainer.getJob({ userId, jobId })) return streamLive(ctx, request, userId, jobId, after);
    return await streamFromStore(ctx, userId, jobId, after);
  } catch (error) {
    const http = toHttpError(error);
    if (http.status >= 500) ctx.onError(error, request);
    return errorResponse(http);
  }
}

const encoder = new TextEncoder();

function streamLive(ctx: ResolvedContext, request: Request, userId: string, jobId: string, after: number): Response {
  // subscribe() replays synchronously, so buffer until the stream is open; nothing can be lost or reordered in between.
  const pending: JobEvent[] = [];
  let deliver: ((event: JobEvent) => void) | null = null;
  const active = ctx.trainer.getJob({ userId, jobId })?.active ?? false;
  const unsubscribe = ctx.trainer.subscribe({ userId, jobId, after }, (event) => {
    if (deliver) deliver(event);
    else pending.push(event);
  });
  if (!active && pending.length === 0) {
    unsubscribe();
    return new Response(null, { status: 204 });
  }

  let closed = false;
  let ended = false;
  // write() is defined below; the first beat comes heartbeatMs from now.
  const heartbeat = setInterval(() => write(encodeSseComment("heartbeat")), ctx.heartbeatMs);
  (heartbeat as { unref?: () => void }).unref?.();
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  // Messages wait here until the reader pulls, so a slow reader is visible (the backlog grows) and bounded.
  const backlog: Uint8Array[] = [];
  let backlogBytes = 0;
  let allowance = ctx.maxBufferedBytes;
  const release = () => {
    if (closed) return;
    closed = true;
    clearInterval(heartbeat);
    unsubscribe();
    request.signal.removeEventListener("abort", release);
  };
  const drain = () => {
    while (backlog.length > 0 && (controller.desiredSize ?? 0) > 0) {
      const chunk = backlog.shift()!;
      backlogBytes -= chunk.byteLength;
      controller.enqueue(chunk);
    }
    if (ended && backlog.length === 0) controller.close();
  };
  const write = (text: string) => {
    if (closed) return;
    const chunk = encoder.encode(text);
    backlog.push(chunk);
    backlogBytes += chunk.byteLength;
    if (backlogBytes > allowance) {
      // The client stopped reading: drop it rather than buffer without bound; it resumes with Last-Event-ID.
      release();
      backlog.length = 0;
      controller.error(new Error("The client stopped reading the event stream"));
      return;
    }
    drain();
  };
  const end = () => {
    if (closed) return;
    release();
    ended = true;
    drain();
  };

  const body = new ReadableStream<Uint8Array>(
    {
      start(c) {
        controller = c;
      },
      pull: drain,
      cancel: release,
    },
    { highWaterMark: 64 * 1024, size: (chunk) => chunk.byteLength },
  );
  if (request.signal.aborted) release();
  else request.signal.addEventListener("abort", release);

  write(encodeSseRetry(ctx.retryMs));
  deliver = (event) => {
    if (closed || event.seq <= after) return;
    write(encodeJobStreamEvent(toWireJobEvent(event)));
    if (isTerminalEvent(event)) end();
  };
  // The replay is bounded by the job's history, not by the reader: it does not count against maxBufferedBytes.
  allowance = Number.POSITIVE_INFINITY;
  for (const event of pending.splice(0)) deliver(event);
  allowance = backlogBytes + ctx.maxBufferedBytes;
  // A finished job's replay always ends with its terminal event; should it not, still never hang on.
  if (!active) end();
  return new Response(body, { status: 200, headers: SSE_RESPONSE_HEADERS });
}

/**
 * A job's events from the trainer's shared event log (trainer.jobEvents):
 * the replay after Last-Event-ID, then live events, one per pull, so a slow
 * reader slows the reads instead of piling events up here.
 */
async function streamFromLog(ctx: ResolvedContext, request: Request, userId: string, jobId: string, after: number, active: boolean): Promise<Response> {
  const abort = new AbortController();
  const events = ctx.trainer.jobEvents!({ userId, jobId, after, signal: abort.signal });
  // A finished job with nothing after Last-Event-ID: 204 tells an EventSource to stop reconnecting.
  const first = active ? null : await events.next();
  if (first?.done) return new Response(null, { status: 204 });
  let heartbeat: ReturnType<typeof setInterval> | undefined;
  let closed = false;
  const stop = () => {
    if (closed) return;
    closed = true;
    clearInterval(heartbeat);
    abort.abort();
    request.signal.removeEventListener("abort", stop);
    void events.return(undefined);
  };
  const frame = (event: JobEvent) => encoder.encode(encodeJobStreamEvent(toWireJobEvent(event)));
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode(encodeSseRetry(ctx.retryMs)));
      heartbeat = setInterval(() => {
        if (!closed) controller.enqueue(encoder.encode(encodeSseComment("heartbeat")));
      }, ctx.heartbeatMs);
      (heartbeat as { unref?: () => void }).unref?.();
      if (first && !first.done) {
        controller.enqueue(frame(first.value));
        if (isTerminalEvent(first.value)) {
          stop();
          controller.close();
        }
      }
    },
    async pull(controller) {
      if (closed) return;
      const next = await events.next();
      if (closed) return;
      if (next.done) {
        stop();
        controller.close();
        return;
      }
      controller.enqueue(frame(next.value));
      if (isTerminalEvent(next.value)) {
        stop();
        controller.close();
      }
    },
    cancel: stop,
  });
  if (request.signal.aborted) stop();
  else request.signal.addEventListener("abort", stop);
  return new Response(body, { status: 200, headers: SSE_RESPONSE_HEADERS });
}

async function streamFromStore(ctx: ResolvedContext, userId: string, jobId: string, after: number): Promise<Response> {
  if (after >= SYNTHESIZED_EVENT_SEQ) return new Response(null, { status: 204 });
  const noSuchJob = httpError("NOT_FOUND", `No job with id ${JSON.stringify(jobId)}`, { resource: "job", id: jobId });
  // getStatus resolves a job id through the store (findRunByJobId) and 404s for another user's; this route names only jobs.
  const snapshot = await ctx.trainer.getStatus({ userId, id: jobId }).catch((error: unknown) => {
    if ((error as { code?: unknown })?.code === "NOT_FOUND") return null;
    throw error;
  });
  if (!snapshot) return errorResponse(noSuchJob);
  const run = await ctx.trainer.getRunSummary({ userId, runId: snapshot.runId });
  if (run.generateJobId !== jobId && run.trainJobId !== jobId) return errorResponse(noSuchJob);
  const event = eventFromRun(run, jobId, statusResponse(snapshot));
  return new Response(encodeSseRetry(ctx.retryMs) + encodeJobStreamEvent(event), { status: 200, headers: SSE_RESPONSE_HEADERS });
}

/** What the stored run says about a job that ran elsewhere. */
export function eventFromRun(run: TrainingRun, jobId: string, status: ReturnType<typeof statusResponse>): JobStreamEvent {
  const kind = run.trainJobId === jobId ? "train" : "generate";
  const at = new Date().toISOString();
  const base = { seq: SYNTHESIZED_EVENT_SEQ, job_id: jobId, training_run_id: run.id, kind, at, synthesized: true } as const;
  const generationDone = ["generated", "training", "completed"].includes(run.status) || (run.status === "failed" && run.failedPhase === "training");
  const counts = { pair_count: run.pairCount, processed_chunks: run.processedChunks, total_chunks: run.totalChunks, cap_reached: run.capReached };
  if (kind === "generate" && generationDone) return { ...base, type: "completed", status: "generated", ...counts };
  if (kind === "train" && run.status === "completed") {
    return { ...base, type: "completed", status: "completed", ...counts, ...(run.metrics ? { metrics: toWireRunMetrics(run.metrics) } : {}) };
  }
  if (run.status === "failed") {
    return { ...base, type: "failed", error: { code: RUN_FAILED_CODE, message: run.error ?? "The job failed" } };
  }
  return { type: "status", job_id: jobId, training_run_id: run.id, kind, at, status };
}
