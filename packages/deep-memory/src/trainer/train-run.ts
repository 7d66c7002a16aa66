import type { TrainingRun } from "../domain/run.js";
import { InvalidRunStateError, NotFoundError, RunAlreadyActiveError, StoreError } from "../errors/errors.js";
import { parseOrThrow } from "../errors/validation.js";
import type { TrainerContext } from "./context.js";
import { collectChunks } from "./corpus.js";
import { finishedRunStatuses } from "./generate-run.js";
import type { NewJob } from "../events/job-event-log.js";
import type { JobTicket } from "./job-runner.js";
import { trainInputSchema, type TrainInput } from "./options.js";
import { isImportRun } from "./run-leases.js";
import { trainAndEvaluate, type TrainingPhaseProgress } from "./training.js";

export interface TrainResult {
  jobId: string;
  runId: string;
  /** True when the run was already training: this call returns that job, nothing new started. */
  joined: boolean;
}

/**
 * Trains deep memory on this run's pairs plus every other finished run's,
 * holding out a deterministic share of questions for evaluation. Returns at
 * once. Training a run that is training already returns that job (`joined`).
 * A run whose training was interrupted (its process died) is marked failed on
 * the next call and may be trained again right away.
 */
export async function train(ctx: TrainerContext, input: TrainInput): Promise<TrainResult> {
  const { userId, runId } = parseOrThrow(trainInputSchema, input, "train input");
  const { store } = ctx.config;
  const ticket = ctx.runner.ticket();
  let started = false;
  try {
    const active = await ctx.leases.recover(userId, ticket.leaseOwner);
    const run = active?.id === runId ? active : await store.getRun(userId, runId);
    if (!run) throw new NotFoundError("run", runId);
    if (active?.id === runId) {
      // A second click on "train" follows the training already under way.
      if (active.status === "training" && active.trainJobId) return { jobId: active.trainJobId, runId, joined: true };
      throw new InvalidRunStateError(run.id, run.status, ["generated"], "train");
    }
    if (active) throw new RunAlreadyActiveError(active.id, active.status, { retryAfterMs: ctx.leases.retryAfterMs(active) });
    const retryable = run.status === "failed" && run.failedPhase === "training";
    if (run.status !== "generated" && !retryable) throw new InvalidRunStateError(run.id, run.status, ["generated"], "train");
    const claimed = await ctx.leases.claim(run, ticket.leaseOwner);
    if (!claimed) throw new RunAlreadyActiveError(run.id, run.status, { retryAfterMs: ctx.leases.retryAfterMs(run) });
    const training = await store.updateRun(
      userId,
      run.id,
      { status: "training", trainJobId: ticket.jobId, error: null, failedPhase: null },
      { leaseOwner: ticket.leaseOwner, status: [run.status] },
      ctx.clock(),
    );
    if (!training) throw new InvalidRunStateError(run.id, "changed", ["generated"], "train");
    await ctx.runner.dispatch({ jobId: ticket.jobId, runId, userId, kind: "train" }, ticket, {
      work: (signal) => runTraining(ctx, training, ticket, signal),
      tasks: () => [{ type: "train", userId, runId, jobId: ticket.jobId, leaseOwner: ticket.leaseOwner }],
    });
    started = true;
    return { jobId: ticket.jobId, runId, joined: false };
  } finally {
    if (!started) ticket.release();
  }
}

/** Trains the run, here or on a worker (which passes the queued job's lease owner). */
export async function runTraining(
  ctx: TrainerContext,
  run: TrainingRun,
  ticket: Pick<JobTicket, "jobId" | "leaseOwner">,
  signal: AbortSignal,
): Promise<void> {
  const { store, vectorStore, embedder, engine } = ctx.config;
  const { userId } = run;
  const { jobId, leaseOwner } = ticket;
  const job: NewJob = { jobId, runId: run.id, userId, kind: "train" };
  ctx.runner.emit(job, { type: "started", totalChunks: run.totalChunks, resumed: false });
  try {
    const others = (await finishedRunIds(ctx, userId)).filter((id) => id !== run.id);
    const pairs = await store.listPairs(userId, [run.id, ...others]);
    const chunks = await collectChunks(vectorStore, userId, { pageSize: ctx.options.pageSize, includeEmbeddings: true, signal });
    const { model, metrics } = await trainAndEvaluate({
      userId,
      pairs,
      chunks,
      vectorStore,
      embedder,
      engine,
      cache: ctx.cache,
      options: ctx.options,
      signal,
      onProgress: (p) => emitTrainingProgress(ctx, job, run, p),
    });
    const now = ctx.clock();
    await store.saveModel({
      runId: run.id,
      userId,
      engine: engine.name,
      format: model.format,
      dimensions: model.dimensions,
      embeddingModel: embedder.model,
      weights: model.weights,
      metrics,
      createdAt: now,
    });
    const done = await store.updateRun(
      userId,
      run.id,
      { status: "completed", metrics, completedAt: now, leaseOwner: null, leaseExpiresAt: null },
      { leaseOwner, status: ["training"] },
      now,
    );
    if (!done) throw new StoreError(`Lost the lease on run ${run.id} before it finished training`);
    await store.saveSettings(
      userId,
      { lastTrainedAt: now, lastTrainingRunId: run.id, ...(metrics.verdict === "improved" ? { modelRunId: run.id } : {}) },
      now,
    );
    ctx.runner.emit(job, {
      type: "completed",
      status: "completed",
      pairCount: done.pairCount,
      processedChunks: done.processedChunks,
      totalChunks: done.totalChunks,
      capReached: done.capReached,
      metrics,
    });
  } catch (error) {
    await ctx.runner.fail({ ...job, leaseOwner }, "training", error, signal);
  }
}

/**
 * Every run whose pairs are final, newest first. An import that failed
 * midway is not: its pairs are a part of what the user sent (importing the
 * same pairs again finishes that run), and training on a part would skew it.
 */
async function finishedRunIds(ctx: TrainerContext, userId: string): Promise<string[]> {
  const finished = new Set<string>(finishedRunStatuses);
  const ids: string[] = [];
  for (let offset = 0; ; offset += 100) {
    const { runs, total } = await ctx.config.store.listRuns(userId, { limit: 100, offset });
    ids.push(...runs.filter((r) => finished.has(r.status) && !(r.status === "failed" && isImportRun(r))).map((r) => r.id));
    if (offset + 100 >= total || runs.length === 0) return ids;
  }
}

/** Embedding takes the first 20% of the bar, training 70%, evaluation the rest. */
function emitTrainingProgress(ctx: TrainerContext, job: NewJob, run: TrainingRun, p: TrainingPhaseProgress): void {
  const base = { pairCount: run.pairCount, skippedChunks: run.skippedChunks };
  if (p.phase === "training") {
    const fraction = p.epochs === 0 ? 1 : p.epoch / p.epochs;
    ctx.runner.emit(job, {
      type: "progress",
      phase: "training",
      processed: p.epoch,
      total: p.epochs,
      percent: 20 + 70 * fraction,
      epoch: p.epoch,
      loss: p.loss,
      validationRecallAt10: p.validationRecallAt10,
      ...base,
    });
    return;
  }
  const fraction = p.total === 0 ? 1 : p.done / p.total;
  ctx.runner.emit(job, {
    type: "progress",
    phase: p.phase,
    processed: p.done,
    total: p.total,
    percent: p.phase === "embedding" ? 20 * fraction : 90 + 10 * fraction,
    ...base,
  });
}
