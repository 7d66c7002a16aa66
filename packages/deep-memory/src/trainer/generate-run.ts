import { randomUUID } from "node:crypto";
import type { Chunk } from "../domain/chunk.js";
import type { ChunkOutcome, RunStatus, TrainingRun } from "../domain/run.js";
import { NothingToGenerateError, RunAlreadyActiveError, StoreError, ValidationError } from "../errors/errors.js";
import { isStorableText, toStorableText } from "../errors/storable-text.js";
import { parseOrThrow } from "../errors/validation.js";
import { normalizeQuestion } from "../evaluation/split.js";
import type { QuestionGenerator } from "../ports/question-generator.js";
import type { NewRun } from "../ports/training-store.js";
import type { TrainerContext } from "./context.js";
import { collectChunks } from "./corpus.js";
import { generatePairs, type GenerationSettings } from "./generation.js";
import type { NewJob } from "../events/job-event-log.js";
import type { JobTask } from "../ports/job-runner.js";
import type { JobTicket } from "./job-runner.js";
import { generateInputSchema, type GenerateInput } from "./options.js";
import { isImportRun } from "./run-leases.js";

export interface GenerateResult {
  jobId: string;
  runId: string;
  /** Chunks this run processes (only chunks no earlier run has pairs for). */
  totalChunks: number;
  /** Chunks skipped because earlier runs already have pairs for them. */
  existingChunks: number;
  /** True when this call continued an unfinished run instead of starting a new one. */
  resumed: boolean;
  /** True when a job was already generating for the user: this call returns that job, nothing new started. */
  joined: boolean;
}

/**
 * Runs whose pairs are final: their chunks count as covered, so generate
 * never asks about them again, and training uses their pairs. A failed run
 * keeps the pairs it recorded (a failed generation resumes from there).
 */
export const finishedRunStatuses = ["generated", "training", "completed", "failed"] as const satisfies readonly RunStatus[];

/** Another call created the user's run between our look and our insert. */
class LostCreateRace extends Error {
  constructor(override readonly cause: RunAlreadyActiveError) {
    super(cause.message);
  }
}

/** SQL stores keep chunk ids as text of at most 512 bytes. */
function storableChunkId(id: string): boolean {
  return isStorableText(id) && Buffer.byteLength(id) <= 512;
}

/**
 * Starts generating pairs for the user's chunks that no run covers yet, and
 * returns at once. A generate while one is running joins it; a run whose
 * worker died or failed is resumed where it stopped; with nothing left to
 * cover nothing is created (NothingToGenerateError).
 */
export async function generate(ctx: TrainerContext, input: GenerateInput): Promise<GenerateResult> {
  const { userId, ...overrides } = parseOrThrow(generateInputSchema, input, "generate input");
  const generator = ctx.config.generator;
  if (!generator) {
    throw new ValidationError("This trainer has no question generator; pass `generator` to generate pairs, or use importPairs", [
      { path: "generator", message: "required for generate" },
    ]);
  }
  const settings: GenerationSettings = {
    questionsPerChunk: overrides.questionsPerChunk ?? ctx.options.questionsPerChunk,
    maxPairs: overrides.maxPairs ?? ctx.options.maxPairs,
    concurrency: overrides.concurrency ?? ctx.options.concurrency,
    delayMs: overrides.delayMs ?? ctx.options.delayMs,
    model: overrides.model ?? ctx.options.generationModel,
  };
  // Two calls racing to create the user's run: the loser sees the winner's run and joins it.
  for (let attempt = 1; ; attempt++) {
    const ticket = ctx.runner.ticket();
    let started = false;
    try {
      const active = await ctx.leases.recover(userId, ticket.leaseOwner);
      if (active) return joinOrRefuse(ctx, active);
      const latest = (await ctx.config.store.listRuns(userId, { limit: 1, offset: 0 })).runs[0];
      const resumable = latest?.status === "failed" && latest.failedPhase === "generating" && !isImportRun(latest) ? latest : null;
      const result = await startGeneration(ctx, userId, resumable, settings, generator, ticket);
      started = true;
      return result;
    } catch (error) {
      if (!(error instanceof LostCreateRace) || attempt >= 3) throw error instanceof LostCreateRace ? error.cause : error;
    } finally {
      if (!started) ticket.release();
    }
  }
}

function joinOrRefuse(ctx: TrainerContext, active: TrainingRun): GenerateResult {
  if (active.status === "training" || isImportRun(active) || !active.generateJobId) {
    throw new RunAlreadyActiveError(active.id, active.status, { retryAfterMs: ctx.leases.retryAfterMs(active) });
  }
  return {
    jobId: active.generateJobId,
    runId: active.id,
    totalChunks: active.totalChunks,
    existingChunks: active.existingChunks,
    resumed: false,
    joined: true,
  };
}

async function startGeneration(
  ctx: TrainerContext,
  userId: string,
  existing: TrainingRun | null,
  settings: GenerationSettings,
  generator: QuestionGenerator,
  ticket: JobTicket,
): Promise<GenerateResult> {
  const { store } = ctx.config;
  const { jobId, leaseOwner } = ticket;
  const listed = await collectChunks(ctx.config.vectorStore, userId, { pageSize: ctx.options.pageSize, includeEmbeddings: false });
  // A chunk id no store can keep would fail the whole run at its first write.
  const chunks = listed.filter((c) => storableChunkId(c.id));
  const unstorable = listed.filter((c) => !storableChunkId(c.id));
  const covered = new Set(await store.listChunkIdsWithPairs(userId, finishedRunStatuses));
  const now = ctx.clock();

  let run: TrainingRun;
  let recorded = new Set<string>();
  if (existing) {
    const claimed = await ctx.leases.claim(existing, leaseOwner);
    if (!claimed) throw new RunAlreadyActiveError(existing.id, existing.status, { retryAfterMs: ctx.leases.retryAfterMs(existing) });
    recorded = new Set(await store.listRecordedChunkIds(userId, existing.id));
    const pendingCount = chunks.filter((c) => !covered.has(c.id) && !recorded.has(c.id)).length;
    const resumed = await store.updateRun(
      userId,
      existing.id,
      { status: "generating", error: null, failedPhase: null, generateJobId: jobId, totalChunks: claimed.processedChunks + pendingCount },
      { leaseOwner, status: ["pending", "generating", "failed"] },
      now,
    );
    if (!resumed) throw new RunAlreadyActiveError(existing.id, existing.status);
    run = resumed;
  } else {
    const pendingCount = chunks.filter((c) => !covered.has(c.id)).length;
    if (pendingCount === 0) {
      const newest = await newestCoveringRun(ctx, userId);
      throw new NothingToGenerateError(newest?.id ?? null, newest?.status ?? null, chunks.length);
    }
    const newRun: NewRun = {
      id: randomUUID(),
      userId,
      status: "pending",
      totalChunks: pendingCount,
      existingChunks: chunks.length - pendingCount,
      generation: { questionsPerChunk: settings.questionsPerChunk, maxPairs: settings.maxPairs, model: settings.model ?? generator.model },
      generateJobId: jobId,
      leaseOwner,
      leaseExpiresAt: ctx.leases.expiry(),
    };
    const created = await store.createRun(newRun, now).catch((error: unknown) => {
      throw error instanceof RunAlreadyActiveError ? new LostCreateRace(error) : error;
    });
    const begun = await store.updateRun(userId, created.id, { status: "generating" }, { leaseOwner, status: ["pending"] }, now);
    if (!begun) throw new StoreError(`Run ${created.id} changed while starting`);
    run = begun;
  }

  const pending = chunks.filter((c) => !covered.has(c.id) && !recorded.has(c.id));
  const knownQuestions = new Set((await store.listPairs(userId, [run.id])).map((p) => normalizeQuestion(p.question)));
  const resumed = existing !== null;
  const job: NewJob = { jobId, runId: run.id, userId, kind: "generate" };
  await ctx.runner.dispatch(job, ticket, {
    work: (signal) => runGeneration(ctx, { userId, run, ticket, pending, unstorable, knownQuestions, settings, generator, resumed }, signal),
    announce: () => announceGeneration(ctx, job, run, unstorable, resumed),
    tasks: () => generationBatches(ctx, job, leaseOwner, pending, settings),
  });
  return { jobId, runId: run.id, totalChunks: run.totalChunks, existingChunks: run.existingChunks, resumed, joined: false };
}

async function runGeneration(
  ctx: TrainerContext,
  job: {
    userId: string;
    run: TrainingRun;
    ticket: JobTicket;
    pending: Chunk[];
    unstorable: Chunk[];
    knownQuestions: Set<string>;
    settings: GenerationSettings;
    generator: QuestionGenerator;
    resumed: boolean;
  },
  signal: AbortSignal,
): Promise<void> {
  const { userId, run, ticket } = job;
  const { jobId, leaseOwner } = ticket;
  const { store } = ctx.config;
  const info: NewJob = { jobId, runId: run.id, userId, kind: "generate" };
  announceGeneration(ctx, info, run, job.unstorable, job.resumed);
  try {
    await generatePairs({
      generator: job.generator,
      pending: job.pending,
      run,
      knownQuestions: job.knownQuestions,
      settings: job.settings,
      options: ctx.options,
      signal,
      callbacks: {
        record: async (outcome) => (await store.recordChunk(userId, run.id, storableOutcome(outcome), leaseOwner, ctx.clock())).run,
        onRecorded: (stored, outcome) => {
          if (outcome.status === "skipped") {
            ctx.runner.emit(info, { type: "chunk_skipped", chunkId: outcome.chunkId, reason: outcome.reason ?? "skipped" });
          }
          emitGenerationProgress(ctx, info, stored);
        },
      },
    });
    const finished = await markGenerated(ctx, info, userId, run.id, leaseOwner);
    if (!finished) throw new StoreError(`Lost the lease on run ${run.id} before it finished generating`);
  } catch (error) {
    await ctx.runner.fail({ ...info, leaseOwner }, "generating", error, signal);
  }
}

/**
 * A generator may echo what a chunk holds, NUL or a broken surrogate
 * included, and one such question would fail the chunk's write (PostgreSQL
 * text cannot hold NUL) and with it the run: its questions are made storable.
 */
export function storableOutcome(outcome: ChunkOutcome): ChunkOutcome {
  if (outcome.questions.every(isStorableText) && (outcome.reason === null || isStorableText(outcome.reason))) return outcome;
  const questions = outcome.questions.map((q) => toStorableText(q).trim()).filter((q) => q.length > 0);
  const reason = outcome.reason === null ? null : toStorableText(outcome.reason);
  if (outcome.status === "done" && questions.length === 0) return { ...outcome, status: "skipped", questions, reason: "no storable questions" };
  return { ...outcome, questions, reason };
}

/** Percent of a generation from the run's own counters, so every process reports the same figure. */
export function generationPercent(run: Pick<TrainingRun, "processedChunks" | "totalChunks">): number {
  return run.totalChunks === 0 ? 100 : Math.min(100, (run.processedChunks / run.totalChunks) * 100);
}

/** The first events of a generation: started, chunks no store can keep, where it stands. */
function announceGeneration(ctx: TrainerContext, job: NewJob, run: TrainingRun, unstorable: readonly Chunk[], resumed: boolean): void {
  ctx.runner.emit(job, { type: "started", totalChunks: run.totalChunks, resumed });
  for (const chunk of unstorable) {
    ctx.runner.emit(job, { type: "chunk_skipped", chunkId: chunk.id, reason: "its id cannot be stored (NUL, unpaired surrogate, or over 512 bytes)" });
  }
  emitGenerationProgress(ctx, job, run);
}

/** A queued generation: its pending chunks in batches any worker may take. */
function generationBatches(
  ctx: TrainerContext,
  job: NewJob,
  leaseOwner: string,
  pending: readonly Chunk[],
  settings: GenerationSettings,
): JobTask[] {
  const size = ctx.options.batchSize;
  const tasks: JobTask[] = [];
  for (let i = 0; i < pending.length; i += size) {
    tasks.push({
      type: "generate-batch",
      userId: job.userId,
      runId: job.runId,
      jobId: job.jobId,
      leaseOwner,
      chunks: pending.slice(i, i + size).map((c) => ({ id: c.id, text: c.text })),
      settings: { ...settings },
    });
  }
  return tasks;
}

/**
 * Marks a run generated if `leaseOwner` still holds it and announces the job's
 * completion; null when the lease was lost (someone else finishes or fails it).
 */
export async function markGenerated(ctx: TrainerContext, job: NewJob, userId: string, runId: string, leaseOwner: string): Promise<TrainingRun | null> {
  const finished = await ctx.config.store.updateRun(
    userId,
    runId,
    { status: "generated", generatedAt: ctx.clock(), leaseOwner: null, leaseExpiresAt: null },
    { leaseOwner, status: ["generating"] },
    ctx.clock(),
  );
  if (!finished) return null;
  ctx.runner.emit(job, {
    type: "completed",
    status: "generated",
    pairCount: finished.pairCount,
    processedChunks: finished.processedChunks,
    totalChunks: finished.totalChunks,
    capReached: finished.capReached,
  });
  return finished;
}

export function emitGenerationProgress(ctx: TrainerContext, job: NewJob, run: TrainingRun): void {
  ctx.runner.emit(job, {
    type: "progress",
    phase: "generating",
    processed: run.processedChunks,
    total: run.totalChunks,
    percent: generationPercent(run),
    pairCount: run.pairCount,
    skippedChunks: run.skippedChunks,
  });
}

/** The newest run whose pairs cover chunks: the one to point a user at when nothing is new. */
async function newestCoveringRun(ctx: TrainerContext, userId: string): Promise<TrainingRun | null> {
  const { runs } = await ctx.config.store.listRuns(userId, { limit: 20, offset: 0 });
  return runs.find((r) => r.status === "generated") ?? runs.find((r) => r.status === "completed") ?? runs[0] ?? null;
}
