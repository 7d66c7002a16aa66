import * as z from "zod";

/** Keys like "recall@10", "ndcg@10", "mrr@10"; values are fractions in [0, 1]. */
export const metricTableSchema = z.record(z.string(), z.number());
export type MetricTable = z.infer<typeof metricTableSchema>;

export const evaluationResultSchema = z.object({
  withModel: metricTableSchema,
  withoutModel: metricTableSchema,
  /** Queries that had at least one relevant id and were scored. */
  queryCount: z.number().int().nonnegative(),
  topK: z.array(z.number().int().positive()),
});
export type EvaluationResult = z.infer<typeof evaluationResultSchema>;

export const trainingReportSchema = z.object({
  engine: z.string(),
  epochs: z.number().int().nonnegative(),
  bestEpoch: z.number().int().nonnegative(),
  trainQueries: z.number().int().nonnegative(),
  validationQueries: z.number().int().nonnegative(),
  baselineValidationRecallAt10: z.number(),
  validationRecallAt10: z.number(),
  /** The question memory kept with the model (LocalDeepMemory), where it beat the learned map alone on validation. */
  questionMemory: z
    .object({ keys: z.number().int().nonnegative(), chunks: z.number().int().nonnegative(), weight: z.number().nonnegative() })
    .optional(),
  wallMs: z.number().nonnegative(),
});
export type TrainingReport = z.infer<typeof trainingReportSchema>;

export const runMetricsSchema = z.object({
  /** Held-out questions: never used for fitting or early stopping. */
  heldOut: evaluationResultSchema,
  trainPairs: z.number().int().nonnegative(),
  heldOutPairs: z.number().int().nonnegative(),
  /** Held-out recall@10 with the model minus without. */
  recallAt10Gain: z.number(),
  /** "improved": the model beats the baseline on held-out questions and may be enabled. */
  verdict: z.enum(["improved", "not_improved"]),
  /** Human-readable explanation of the verdict. */
  reason: z.string(),
  training: trainingReportSchema,
});
export type RunMetrics = z.infer<typeof runMetricsSchema>;
