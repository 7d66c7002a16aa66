import { cancelJobOptionsSchema, LIMITS } from "@zip/deep-memory-protocol";
import * as z from "zod";
import type { TrainingRun } from "../domain/run.js";
import type { JobKind } from "../events/events.js";
import { InvalidRunStateError, NotFoundError } from "../errors/errors.js";
import { parseOrThrow } from "../errors/validation.js";
import type { TrainerContext } from "./context.js";
import { userIdSchema } from "./options.js";

/**
 * A cancelled run is stored as failed with this prefix on its error, so every
 * process (and every store, with no schema change) sees it was cancelled, and
 * generate / train pick it up again as they do a failed run.
 */
export const CANCELLED_PREFIX = "Cancelled: ";

export function isCancelledRun(run: Pick<TrainingRun, "status" | "error">): boolean {
  return run.status === "failed" && (run.error?.startsWith(CANCELLED_PREFIX) ?? false);
}

/** The reason a job's AbortController is aborted with when it is cancelled (not when the trainer closes). */
export class JobCancellation extends Error {
  constructor(readonly reason: string) {
    super(`${CANCELLED_PREFIX}${reason}`);
    this.name = "JobCancellation";
  }
}

/** The wire request's fields (the limits live in the protocol), plus the user and the job. */
export const cancelInputSchema = cancelJobOptionsSchema
  .extend({ userId: userIdSchema, jobId: z.string().min(1).max(LIMITS.pathIdLength) })
  .strict();
export type CancelInput = z.input<typeof cancelInputSchema>;

export interface CancelResult {
  jobId: string;
  runId: string;
  kind: JobKind;
  /** The phase the run was stopped in: generate resumes a generation, train retrains. */
  phase: "generating" | "training";
  /** True when the job ran in this process and has stopped; false when another process will stop at its next lease renewal. */
  stopped: boolean;
}

function jobOf(run: TrainingRun, jobId: string): { kind: JobKind; phase: "generating" | "training"; live: boolean } {
  if (run.trainJobId === jobId) return { kind: "train", phase: "training", live: run.status === "training" };
  const live = run.generateJobId === jobId && (run.status === "pending" || run.status === "generating");
  return { kind: "generate", phase: "generating", live };
}

/**
 * Cancels a generate or train job. A job of this process is aborted (calls to
 * the LLM in flight included) and awaited, and stores its run as cancelled
 * itself; for a job of another process the run is marked cancelled here and
 * its lease cleared, so that process loses the lease and stops.
 * @throws NotFoundError for an unknown job or another user's.
 * @throws InvalidRunStateError when the job has finished already.
 */
export async function cancelJob(ctx: TrainerContext, input: CancelInput): Promise<CancelResult> {
  const { userId, jobId, reason = "cancelled by the user" } = parseOrThrow(cancelInputSchema, input, "cancel input");
  const { store } = ctx.config;
  const local = ctx.jobs.get(userId, jobId);
  const run = local ? await store.getRun(userId, local.runId) : await store.findRunByJobId(userId, jobId);
  if (!run) throw new NotFoundError("job", jobId);
  const { kind, phase, live } = jobOf(run, jobId);
  const refuse = () => new InvalidRunStateError(run.id, run.status, kind === "train" ? ["training"] : ["pending", "generating"], "cancel the job of");
  if (!live) throw refuse();
  const result = { jobId, runId: run.id, kind, phase };
  if (await ctx.runner.cancel(jobId, new JobCancellation(reason))) {
    // The job may have finished before it saw the abort: then there was nothing left to cancel.
    const after = await store.getRun(userId, run.id);
    if (!after || !isCancelledRun(after)) throw new InvalidRunStateError(run.id, after?.status ?? "gone", [run.status], "cancel the job of");
    return { ...result, stopped: true };
  }
  const marked = await store.updateRun(
    userId,
    run.id,
    { status: "failed", error: `${CANCELLED_PREFIX}${reason}`, failedPhase: phase, leaseOwner: null, leaseExpiresAt: null },
    { status: [run.status], ...(run.leaseOwner ? { leaseOwner: run.leaseOwner } : {}) },
    ctx.clock(),
  );
  if (!marked) throw refuse();
  const queue = ctx.runner.queue;
  if (queue) {
    // Queued tasks of the job never start; a worker in the middle of one loses the lease and stops without a word,
    // so the job's `cancelled` event is written to the shared event log here.
    await queue.cancel(jobId).catch(() => {});
    ctx.runner.emit({ jobId, runId: run.id, userId, kind }, { type: "cancelled", reason, phase });
    await ctx.runner.events.flush(jobId);
  }
  return { ...result, stopped: false };
}
