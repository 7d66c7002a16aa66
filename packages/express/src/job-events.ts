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
import type { Request, Response } from "express";
import { authenticate, type ResolvedContext } from "./context.js";
import { httpError, sendError, toHttpError, validationError, zodIssues } from "./http-errors.js";
import { statusResponse } from "./wire.js";

/**
 * GET .../stream/:jobId — a job's events as Server-Sent Events.
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
 */
export function jobEventsHandler(ctx: ResolvedContext) {
  return async (req: Request, res: Response): Promise<void> => {
    try {
      const userId = await authenticate(ctx, req);
      if (typeof userId !== "string") return sendError(res, userId);
      const params = jobIdParamsSchema.safeParse(req.params);
      if (!params.success) return sendError(res, validationError(zodIssues(params.error), "path"));
      const query = jobEventsQuerySchema.safeParse({ ...req.query });
      if (!query.success) return sendError(res, validationError(zodIssues(query.error), "query"));
      let after = query.data.last_event_id ?? query.data.lastEventId ?? 0;
      const header = req.get("last-event-id");
      if (header !== undefined && header.trim() !== "") {
        const parsed = lastEventIdSchema.safeParse(header.trim());
        if (!parsed.success) return sendError(res, validationError(zodIssues(parsed.error, "Last-Event-ID"), "header"));
        // The header wins: EventSource keeps it current across reconnects.
        after = parsed.data;
      }
      const { jobId } = params.data;
      if (ctx.trainer.getJob({ userId, jobId })) streamLive(ctx, res, userId, jobId, after);
      else await streamFromStore(ctx, res, userId, jobId, after);
    } catch (error) {
      const http = toHttpError(error);
      if (http.status >= 500) ctx.onError(error, req);
      if (res.headersSent) res.end();
      else sendError(res, http);
    }
  };
}

function openStream(res: Response, retryMs: number): void {
  res.status(200);
  res.set(SSE_RESPONSE_HEADERS);
  // Events are small and latency matters more than packet count.
  res.socket?.setNoDelay(true);
  res.flushHeaders();
  res.write(encodeSseRetry(retryMs));
}

/** Writes through compression middleware too, which buffers unless flushed. */
function flush(res: Response): void {
  (res as Response & { flush?: () => void }).flush?.();
}

function streamLive(ctx: ResolvedContext, res: Response, userId: string, jobId: string, after: number): void {
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
    res.status(204).end();
    return;
  }

  let closed = false;
  let heartbeat: ReturnType<typeof setInterval> | undefined;
  const release = () => {
    if (closed) return;
    closed = true;
    clearInterval(heartbeat);
    unsubscribe();
    res.off("close", release);
  };
  // "close" fires when the client goes away and after a normal end alike.
  res.on("close", release);

  const write = (chunk: string) => {
    if (closed) return;
    res.write(chunk);
    flush(res);
    if (res.writableLength > ctx.maxBufferedBytes) {
      // The client stopped reading: drop it rather than buffer without bound; it resumes with Last-Event-ID.
      release();
      res.destroy();
    }
  };

  openStream(res, ctx.retryMs);
  heartbeat = setInterval(() => write(encodeSseComment("heartbeat")), ctx.heartbeatMs);
  heartbeat.unref?.();
  deliver = (event) => {
    if (closed || event.seq <= after) return;
    write(encodeJobStreamEvent(toWireJobEvent(event)));
    if (isTerminalEvent(event) && !closed) {
      release();
      res.end();
    }
  };
  for (const event of pending.splice(0)) deliver(event);
  // A finished job's replay always ends with its terminal event; should it not, still never hang on.
  if (!active && !closed) {
    release();
    res.end();
  }
}

async function streamFromStore(ctx: ResolvedContext, res: Response, userId: string, jobId: string, after: number): Promise<void> {
  if (after >= SYNTHESIZED_EVENT_SEQ) {
    res.status(204).end();
    return;
  }
  const noSuchJob = httpError("NOT_FOUND", `No job with id ${JSON.stringify(jobId)}`, { resource: "job", id: jobId });
  // getStatus resolves a job id through the store (findRunByJobId) and 404s for another user's; this route names only jobs.
  const snapshot = await ctx.trainer.getStatus({ userId, id: jobId }).catch((error: unknown) => {
    if ((error as { code?: unknown })?.code === "NOT_FOUND") return null;
    throw error;
  });
  if (!snapshot) return sendError(res, noSuchJob);
  const run = await ctx.trainer.getRunSummary({ userId, runId: snapshot.runId });
  if (run.generateJobId !== jobId && run.trainJobId !== jobId) return sendError(res, noSuchJob);
  const event = eventFromRun(run, jobId, statusResponse(snapshot));
  openStream(res, ctx.retryMs);
  res.write(encodeJobStreamEvent(event));
  res.end();
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
