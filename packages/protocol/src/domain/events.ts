import * as z from "zod";

export const jobKindSchema = z.enum(["generate", "train"]);
export type JobKind = z.infer<typeof jobKindSchema>;

export const jobPhaseSchema = z.enum(["generating", "embedding", "training", "evaluating"]);
export type JobPhase = z.infer<typeof jobPhaseSchema>;

const eventBase = {
  /** Per-job sequence number starting at 1; SSE uses it as the event id. */
  seq: z.number().int().positive(),
  jobId: z.string(),
  runId: z.string(),
  kind: jobKindSchema,
  /** ISO-8601 time the event was emitted. */
  at: z.string(),
};

export const jobStartedEventSchema = z.object({
  ...eventBase,
  type: z.literal("started"),
  totalChunks: z.number().int().nonnegative(),
  /** True when this job continues a run an earlier job left unfinished. */
  resumed: z.boolean(),
});

export const jobProgressEventSchema = z.object({
  ...eventBase,
  type: z.literal("progress"),
  phase: jobPhaseSchema,
  processed: z.number().int().nonnegative(),
  total: z.number().int().nonnegative(),
  /** 0..100 for the whole job, not only the phase. */
  percent: z.number().min(0).max(100),
  pairCount: z.number().int().nonnegative(),
  skippedChunks: z.number().int().nonnegative(),
  epoch: z.number().int().nonnegative().optional(),
  loss: z.number().optional(),
  validationRecallAt10: z.number().optional(),
});

export const chunkSkippedEventSchema = z.object({
  ...eventBase,
  type: z.literal("chunk_skipped"),
  chunkId: z.string(),
  reason: z.string(),
});

export const jobCompletedEventSchema = z.object({
  ...eventBase,
  type: z.literal("completed"),
  status: z.enum(["generated", "completed"]),
  pairCount: z.number().int().nonnegative(),
  processedChunks: z.number().int().nonnegative(),
  totalChunks: z.number().int().nonnegative(),
  capReached: z.boolean(),
  /** Present for train jobs: held-out recall with and without the model, and the verdict. */
  metrics: z.unknown().optional(),
});

export const jobFailedEventSchema = z.object({
  ...eventBase,
  type: z.literal("failed"),
  error: z.object({ code: z.string(), message: z.string() }),
});

/**
 * The job was cancelled (trainer.cancel, the caller's AbortSignal, or
 * POST /jobs/{jobId}/cancel). Its run is stored as failed with the reason: a
 * generation resumes where it stopped on the next generate, a training run can
 * be trained again.
 */
export const jobCancelledEventSchema = z.object({
  ...eventBase,
  type: z.literal("cancelled"),
  reason: z.string(),
  /** The phase the run was in: what generate (generating) or train (training) picks up again. */
  phase: z.enum(["generating", "training"]),
});

export const jobEventSchema = z.discriminatedUnion("type", [
  jobStartedEventSchema,
  jobProgressEventSchema,
  chunkSkippedEventSchema,
  jobCompletedEventSchema,
  jobFailedEventSchema,
  jobCancelledEventSchema,
]);
export type JobEvent = z.infer<typeof jobEventSchema>;
export type JobEventType = JobEvent["type"];
export type JobEventOf<T extends JobEventType> = Extract<JobEvent, { type: T }>;

