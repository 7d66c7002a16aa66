import * as z from "zod";

/** Candidates taken from each leg before fusing: at least the k asked for. */
const depthSchema = z.number().int().min(1).max(1000);
/** Each leg's weight in the fused score (one-word keys: the wire format is snake_case). */
const weightsSchema = z
  .object({ dense: z.number().min(0).max(100), lexical: z.number().min(0).max(100) })
  .strict()
  .refine((w) => w.dense + w.lexical > 0, "at least one weight must be above 0");

/**
 * The neighbour boost, a second pass over a weighted fusion's top `pool`
 * chunks: each gains `weight` times the mean fused score (min-max scaled over
 * the pool) of its `count` most similar chunks in the pool, weighted by their
 * cosine similarity. Chunks on one subject lift each other (the cluster
 * hypothesis); it needs the store's `getEmbeddings`.
 */
export const neighborsSchema = z
  .object({ count: z.number().int().min(1).max(50), weight: z.number().positive().max(10), pool: z.number().int().min(2).max(1000) })
  .strict();
export type Neighbors = z.infer<typeof neighborsSchema>;

/**
 * How dense (vector) and lexical (keyword) rankings are combined. `dense`
 * uses the vector leg alone. `rrf` is reciprocal-rank fusion: each leg adds
 * weight / (k + rank), so only ranks matter (equal scores share a rank). `weighted` adds each leg's
 * scores after normalising them per query over its own candidates (min-max
 * to [0, 1], or z-score), which lets a confident leg count for more, and may
 * boost chunks by their neighbours' scores (`neighbors`).
 */
export const fusionSchema = z.discriminatedUnion("method", [
  z.object({ method: z.literal("dense") }).strict(),
  z.object({ method: z.literal("rrf"), k: z.number().positive().max(10_000), weights: weightsSchema, depth: depthSchema }).strict(),
  z
    .object({
      method: z.literal("weighted"),
      normalization: z.enum(["min-max", "z-score"]),
      weights: weightsSchema,
      depth: depthSchema,
      neighbors: neighborsSchema.optional(),
    })
    .strict(),
]);
export type Fusion = z.infer<typeof fusionSchema>;

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

export const fusionScoreSchema = z.object({ fusion: fusionSchema, recallAt10: z.number(), ndcgAt10: z.number() });

/** How search combines dense and keyword results with and without this model, and why. */
export const retrievalReportSchema = z.object({
  /** Whether the vector store had keyword search (`textSearch`) when the model was trained. */
  lexical: z.boolean(),
  /** What search applies with this model: chosen on validation questions. */
  withModel: fusionSchema,
  /** What search applies without deep memory: hybrid with the default fusion where the store has keyword search, else dense. */
  withoutModel: fusionSchema,
  /** Questions the fusion was chosen on: never trained on, never among the held-out ones. */
  validationQuestions: z.number().int().nonnegative(),
  /**
   * Set where most of the validation share carved to choose the fusion was
   * copied from its chunks' text (offline sentence pseudo-queries): this many
   * of them. Such questions cannot choose a fusion: the others chose it
   * (`validationQuestions`), or, too few, none was held back
   * (`validationQuestions` 0) and `withModel` is the fixed fusion for this
   * case (a z-score weighted sum 1/1, top 100, with a neighbour boost where
   * the store has `getEmbeddings`: `copiedQuestionsFusion`).
   */
  copiedValidationQuestions: z.number().int().nonnegative().optional(),
  /** The best fusion's validation scores first, then the best others (at most 5 in all). */
  validation: z.array(fusionScoreSchema),
  /** Held-out metrics of each plain configuration the store supports (no deep memory). */
  heldOutBaselines: z.object({ dense: metricTableSchema, hybrid: metricTableSchema.optional() }),
  /** Held-out metrics with the model as search runs it (`withModel` fusion). */
  heldOutWithModel: metricTableSchema,
  /** The plain configuration the guardrail compared the model against: the better of heldOutBaselines, or dense (see judgedOn). */
  guardrailBaseline: z.enum(["dense", "hybrid"]),
  /**
   * "search": the model as search runs it against the best plain search.
   * "dense-leg": hybrid search already found 98% or more of the held-out
   * questions' chunks (questions that share the chunks' words, as offline
   * pseudo-queries do), so the model was judged on the dense leg it changes,
   * and searches with the default fusion.
   */
  judgedOn: z.enum(["search", "dense-leg"]),
});
export type RetrievalReport = z.infer<typeof retrievalReportSchema>;

export const runMetricsSchema = z.object({
  /**
   * Held-out questions: never used for fitting, early stopping or choosing
   * the fusion. `withoutModel` is the strongest plain configuration the store
   * supports on them (`retrieval.guardrailBaseline` says which).
   */
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
  /** Absent for models trained before hybrid search: those search dense-only. */
  retrieval: retrievalReportSchema.optional(),
});
export type RunMetrics = z.infer<typeof runMetricsSchema>;
