import * as z from "zod";
import { runMetricsSchema } from "./metrics.js";

export const runStatusSchema = z.enum(["pending", "generating", "generated", "training", "completed", "failed"]);
export type RunStatus = z.infer<typeof runStatusSchema>;

export const generationSettingsSchema = z.object({
  questionsPerChunk: z.number().int().min(1).max(10),
  maxPairs: z.number().int().min(1),
  model: z.string().min(1),
});
export type GenerationSettings = z.infer<typeof generationSettingsSchema>;

export const trainingRunSchema = z.object({
  id: z.string().min(1),
  userId: z.string().min(1),
  status: runStatusSchema,
  /** Chunks this run has to process (new chunks only when incremental). */
  totalChunks: z.number().int().nonnegative(),
  /** Chunks done, with pairs or skipped. */
  processedChunks: z.number().int().nonnegative(),
  /** Chunks that gave no usable questions (after retries) or had empty text. */
  skippedChunks: z.number().int().nonnegative(),
  /** Chunks left out because earlier completed runs already cover them. */
  existingChunks: z.number().int().nonnegative(),
  pairCount: z.number().int().nonnegative(),
  duplicatesRemoved: z.number().int().nonnegative(),
  /** True once generation stopped early at the pair cap. */
  capReached: z.boolean(),
  generation: generationSettingsSchema,
  metrics: runMetricsSchema.nullable(),
  error: z.string().nullable(),
  /** The phase that failed, so a retry knows whether to resume generating or training. */
  failedPhase: z.enum(["generating", "training"]).nullable(),
  generateJobId: z.string().nullable(),
  trainJobId: z.string().nullable(),
  /** Lease held by the process working on the run; an expired lease means that process died. */
  leaseOwner: z.string().nullable(),
  leaseExpiresAt: z.date().nullable(),
  createdAt: z.date(),
  updatedAt: z.date(),
  generatedAt: z.date().nullable(),
  completedAt: z.date().nullable(),
});
export type TrainingRun = z.infer<typeof trainingRunSchema>;

export const trainingPairSchema = z.object({
  id: z.string().min(1),
  runId: z.string().min(1),
  userId: z.string().min(1),
  chunkId: z.string().min(1),
  question: z.string().min(1),
  createdAt: z.date(),
});
export type TrainingPair = z.infer<typeof trainingPairSchema>;

export const searchHitSchema = z.object({
  id: z.string(),
  text: z.string(),
  /** Cosine similarity, higher is closer. */
  score: z.number(),
  metadata: z.record(z.string(), z.unknown()).optional(),
});
export type SearchHit = z.infer<typeof searchHitSchema>;
