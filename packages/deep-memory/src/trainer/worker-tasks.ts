import type { ChunkOutcome, TrainingRun } from "../domain/run.js";
import { StoreError, ValidationError } from "../errors/errors.js";
import type { NewJob } from "../events/job-event-log.js";
import type { GenerateBatchTask, JobTask, JobTaskContext, JobTaskHandler, TrainTask } from "../ports/job-runner.js";
import type { TrainerContext } from "./context.js";
import { emitGenerationProgress, markGenerated, storableOutcome } from "./generate-run.js";
import { generatePairs } from "./generation.js";
import { runTraining } from "./train-run.js";

/**
 * What a worker does with a queued job's tasks. A task whose run has moved on
 * (finished, cancelled, failed, taken by another job) is dropped, so a task
 * retried after its job ended does nothing. Several workers run batches of
 * one generation at once: each records its chunks under the job's lease
 * owner, the store keeps one record per (run, chunk), and whoever records
 * the last chunk finishes the run.
 */
export function workerTaskHandler(ctx: TrainerContext): JobTaskHandler {
  return {
    run: (task, context) => (task.type === "train" ? runTrainTask(ctx, task, context) : runBatchTask(ctx, task, context)),
    deadLetter: (task, reason) => deadLetter(ctx, task, reason),
  };
}

function jobOf(task: JobTask): NewJob {
  return { jobId: task.jobId, runId: task.runId, userId: task.userId, kind: task.type === "train" ? "train" : "generate" };
}

/** The run when this task's job still holds it in the status it works in, else null. */
async function ownRun(ctx: TrainerContext, task: JobTask, status: TrainingRun["status"]): Promise<TrainingRun | null> {
  // Renews the lease only while the run is still this job's, in one compare-and-set: taking a free lease
  // (claimLease) would re-lease a run that was failed or cancelled a moment ago.
  return ctx.config.store.updateRun(
    task.userId,
    task.runId,
    { leaseExpiresAt: ctx.leases.expiry() },
    { leaseOwner: task.leaseOwner, status: [status] },
    ctx.clock(),
  );
}

async function runBatchTask(ctx: TrainerContext, task: GenerateBatchTask, context: JobTaskContext): Promise<void> {
  const { store, generator } = ctx.config;
  if (!generator) throw new ValidationError("This worker's trainer has no question generator");
  const job = jobOf(task);
  let run = await ownRun(ctx, task, "generating");
  if (!run) return;
  let chunks = task.chunks;
  if (context.attempt > 0) {
    // A retry after a crash: the chunks the earlier try recorded stay as they are.
    const recorded = new Set(await store.listRecordedChunkIds(task.userId, task.runId));
    chunks = chunks.filter((c) => !recorded.has(c.id));
  }
  const controller = new AbortController();
  const signal = AbortSignal.any([context.signal, controller.signal]);
  const stopHeartbeat = ctx.runner.heartbeat(task, task.leaseOwner, controller);
  try {
    if (!run.capReached && chunks.length > 0) {
      await generatePairs({
        generator,
        pending: chunks,
        run,
        // Questions are de-duplicated within the batch here; across chunks the store keeps each (chunk, question) once.
        knownQuestions: new Set(),
        settings: { ...task.settings, model: task.settings.model },
        options: ctx.options,
        signal,
        callbacks: {
          record: async (outcome: ChunkOutcome) =>
            (await store.recordChunk(task.userId, task.runId, storableOutcome(outcome), task.leaseOwner, ctx.clock())).run,
          onRecorded: (stored, outcome) => {
            run = stored;
            if (outcome.status === "skipped") {
              ctx.runner.emit(job, { type: "chunk_skipped", chunkId: outcome.chunkId, reason: outcome.reason ?? "skipped" });
            }
            emitGenerationProgress(ctx, job, stored);
          },
        },
      });
    }
  } catch (error) {
    // The run moved on (cancelled, finished at the cap, taken over): nothing to retry.
    if (!(await ownRun(ctx, task, "generating").catch(() => null))) return;
    throw error;
  } finally {
    stopHeartbeat();
  }
  await finishIfDone(ctx, task, job);
}

/** Marks the run generated once every chunk is recorded (or the cap is reached); exactly one worker wins. */
async function finishIfDone(ctx: TrainerContext, task: GenerateBatchTask, job: NewJob): Promise<void> {
  const { store } = ctx.config;
  const run = await store.getRun(task.userId, task.runId);
  if (!run || run.status !== "generating" || run.leaseOwner !== task.leaseOwner) return;
  if (run.processedChunks < run.totalChunks && !run.capReached) return;
  if (!(await markGenerated(ctx, job, task.userId, task.runId, task.leaseOwner))) return;
  // Tasks of this job still queued (after the cap) have nothing left to do: they find the run generated.
  await ctx.runner.queue?.cancel(task.jobId).catch(() => {});
  await ctx.runner.events.flush(task.jobId);
}

async function runTrainTask(ctx: TrainerContext, task: TrainTask, context: JobTaskContext): Promise<void> {
  const run = await ownRun(ctx, task, "training");
  if (!run) return;
  const controller = new AbortController();
  const signal = AbortSignal.any([context.signal, controller.signal]);
  const stopHeartbeat = ctx.runner.heartbeat(task, task.leaseOwner, controller);
  try {
    await runTraining(ctx, run, task, signal);
  } finally {
    stopHeartbeat();
    await ctx.runner.events.flush(task.jobId);
  }
  // Stopped by the worker's shutdown or the task's timeout while the run is still ours: let the queue retry it.
  if (context.signal.aborted && (await ownRun(ctx, task, "training").catch(() => null))) {
    throw context.signal.reason instanceof Error ? context.signal.reason : new StoreError("The training task was stopped");
  }
}

/** A task failed past its retries: the job fails, with the reason, and its run is left resumable. */
async function deadLetter(ctx: TrainerContext, task: JobTask, reason: string): Promise<void> {
  const phase = task.type === "train" ? "training" : "generating";
  const message = `A ${task.type === "train" ? "training" : "generation"} task failed past its retries: ${reason}`;
  const failed = await ctx.config.store.updateRun(
    task.userId,
    task.runId,
    { status: "failed", error: message, failedPhase: phase, leaseOwner: null, leaseExpiresAt: null },
    { leaseOwner: task.leaseOwner, status: [phase] },
    ctx.clock(),
  );
  if (!failed) return;
  await ctx.runner.queue?.cancel(task.jobId).catch(() => {});
  // A generation batch fails past its retries almost always because the question generator kept failing.
  const code = task.type === "train" ? "TRAINING_FAILED" : "UPSTREAM_FAILED";
  ctx.runner.emit(jobOf(task), { type: "failed", error: { code, message } });
  await ctx.runner.events.flush(task.jobId);
}
