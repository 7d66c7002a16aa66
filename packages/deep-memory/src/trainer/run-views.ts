import type { TrainingRun } from "../domain/run.js";
import type { RunStatusSnapshot } from "../domain/views.js";
import { NotFoundError } from "../errors/errors.js";
import { parseOrThrow } from "../errors/validation.js";
import type { JobEventOf } from "../events/events.js";
import type { JobInfo } from "../events/job-registry.js";
import type { TrainerContext } from "./context.js";
import { generationPercent } from "./generate-run.js";
import { listRunsInputSchema, runIdSchema, userIdSchema, type ListRunsInput } from "./options.js";
import { runStatistics, samplePairs } from "./run-statistics.js";
import type { TrainingPair } from "../domain/run.js";

export interface RunDetail {
  run: TrainingRun;
  samplePairs: Pick<TrainingPair, "id" | "chunkId" | "question">[];
  statistics: ReturnType<typeof runStatistics>;
}

export interface RunPage {
  runs: TrainingRun[];
  total: number;
  limit: number;
  offset: number;
}

/**
 * Reads of runs first settle a run whose worker died (marked failed with the
 * reason), so lists and status never show a job as running when nothing runs it.
 */
async function settle(ctx: TrainerContext, userId: string): Promise<void> {
  await ctx.leases.recover(userId, ctx.leases.ownerFor("recovery"));
}

export async function listRuns(ctx: TrainerContext, input: ListRunsInput): Promise<RunPage> {
  const { userId, limit, offset } = parseOrThrow(listRunsInputSchema, input, "listRuns input");
  await settle(ctx, userId);
  const { runs, total } = await ctx.config.store.listRuns(userId, { limit, offset });
  return { runs, total, limit, offset };
}

/** The run alone, without its pairs: one store read, cheap enough to poll. */
export async function getRunSummary(ctx: TrainerContext, input: { userId: string; runId: string }): Promise<TrainingRun> {
  const userId = parseOrThrow(userIdSchema, input.userId, "userId");
  const runId = parseOrThrow(runIdSchema, input.runId, "runId");
  await settle(ctx, userId);
  const run = await ctx.config.store.getRun(userId, runId);
  if (!run) throw new NotFoundError("run", runId);
  return run;
}

/** The run with a sample of its pairs and statistics over all of them, for review. */
export async function getRun(ctx: TrainerContext, input: { userId: string; runId: string }): Promise<RunDetail> {
  const run = await getRunSummary(ctx, input);
  const pairs = await ctx.config.store.listPairs(run.userId, [run.id]);
  return {
    run,
    samplePairs: samplePairs(pairs, ctx.options.samplePairs, ctx.options.seed).map(({ id, chunkId, question }) => ({ id, chunkId, question })),
    statistics: runStatistics(run, pairs),
  };
}

/** The job working on the run now (or that last did), by the run's own status. */
function currentJobId(run: TrainingRun): string | null {
  if (run.status === "pending" || run.status === "generating") return run.generateJobId;
  if (run.status === "failed") return run.failedPhase === "training" ? run.trainJobId : run.generateJobId;
  return run.trainJobId ?? run.generateJobId;
}

/** Status by job id or run id, the same whichever process asks. */
export async function getStatus(ctx: TrainerContext, input: { userId: string; id: string }): Promise<RunStatusSnapshot> {
  const userId = parseOrThrow(userIdSchema, input.userId, "userId");
  const id = parseOrThrow(runIdSchema, input.id, "id");
  const { store } = ctx.config;
  await settle(ctx, userId);
  const asked = ctx.jobs.get(userId, id);
  const run = asked ? await store.getRun(userId, asked.runId) : ((await store.getRun(userId, id)) ?? (await store.findRunByJobId(userId, id)));
  if (!run) throw new NotFoundError("run or job", id);
  const jobId = asked?.jobId ?? currentJobId(run);
  const job: JobInfo | null = jobId ? ctx.jobs.get(userId, jobId) : null;
  const events = job ? ctx.jobs.history(userId, job.jobId) : [];
  const lastProgress = events.findLast((e): e is JobEventOf<"progress"> => e.type === "progress");
  const kind = job?.kind ?? (jobId === null ? null : jobId === run.trainJobId ? "train" : "generate");
  return {
    runId: run.id,
    jobId,
    kind,
    status: run.status,
    active: job ? job.active : ctx.leases.liveness(run) === "elsewhere",
    phase: lastProgress?.phase ?? (run.status === "generating" ? "generating" : null),
    processedChunks: run.processedChunks,
    totalChunks: run.totalChunks,
    pairCount: run.pairCount,
    percent: statusPercent(run, kind, lastProgress),
    error: run.error,
    metrics: run.metrics,
  };
}

/**
 * A generation's percent comes from the run's counters (every process sees
 * them); a training's from this process's events when it runs here, else 0.
 */
function statusPercent(run: TrainingRun, kind: string | null, lastProgress: JobEventOf<"progress"> | undefined): number {
  if (run.status === "completed" || run.status === "generated") return 100;
  if (kind === "generate") return generationPercent(run);
  return lastProgress?.percent ?? 0;
}
