import * as z from "zod";
import { jobKindSchema, jobPhaseSchema } from "./events.js";
import { fusionSchema, runMetricsSchema } from "./metrics.js";
import { runStatusSchema } from "./run.js";

/** Read models the trainer returns; the HTTP wire schemas are derived from these. */

export const distributionSchema = z.object({ min: z.number(), max: z.number(), mean: z.number(), median: z.number() });
export type Distribution = z.infer<typeof distributionSchema>;

export const runStatisticsSchema = z.object({
  pairCount: z.number().int().nonnegative(),
  chunksWithPairs: z.number().int().nonnegative(),
  pairsPerChunk: distributionSchema,
  /** Question length in characters. */
  questionLength: distributionSchema,
  duplicatesRemoved: z.number().int().nonnegative(),
  chunksSkipped: z.number().int().nonnegative(),
  /** Chunks left out because earlier completed runs cover them. */
  chunksAlreadyCovered: z.number().int().nonnegative(),
  capReached: z.boolean(),
});
export type RunStatistics = z.infer<typeof runStatisticsSchema>;

export const settingsViewSchema = z.object({
  enabled: z.boolean(),
  lastTrainedAt: z.date().nullable(),
  lastTrainingRunId: z.string().nullable(),
  /** The run whose model search applies when enabled. */
  modelRunId: z.string().nullable(),
  canEnable: z.boolean(),
  /** Why enabling would be refused, when it would. */
  cannotEnableReason: z.string().nullable(),
  /** Chunks in the knowledge base that no completed run has pairs for. */
  newChunksSinceLastTraining: z.number().int().nonnegative(),
  /**
   * How search combines dense and keyword results: with the model search
   * would apply (null when none can be), and without deep memory.
   */
  retrieval: z.object({ withDeepMemory: fusionSchema.nullable(), withoutDeepMemory: fusionSchema }).optional(),
});
export type SettingsView = z.infer<typeof settingsViewSchema>;

export const runStatusSnapshotSchema = z.object({
  runId: z.string(),
  /** The job working on the run now, or that last did. */
  jobId: z.string().nullable(),
  kind: jobKindSchema.nullable(),
  status: runStatusSchema,
  /** True while a job is generating or training the run. */
  active: z.boolean(),
  phase: jobPhaseSchema.nullable(),
  processedChunks: z.number().int().nonnegative(),
  totalChunks: z.number().int().nonnegative(),
  pairCount: z.number().int().nonnegative(),
  /** 0..100 for the current job. */
  percent: z.number().min(0).max(100),
  error: z.string().nullable(),
  metrics: runMetricsSchema.nullable(),
});
export type RunStatusSnapshot = z.infer<typeof runStatusSnapshotSchema>;
