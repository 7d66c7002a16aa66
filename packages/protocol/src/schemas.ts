import * as z from "zod";
import { fusionSchema, runMetricsSchema, type RunMetrics } from "./domain/metrics.js";
import { searchHitSchema, trainingPairSchema, trainingRunSchema, type SearchHit, type TrainingPair, type TrainingRun } from "./domain/run.js";
import { distributionSchema, runStatisticsSchema, runStatusSnapshotSchema, settingsViewSchema } from "./domain/views.js";
import { LIMITS, storableText } from "./limits.js";
import { jobKindSchema } from "./domain/events.js";
import {
  cancelJobOptionsSchema,
  generateOptionsSchema,
  importPairsOptionsSchema,
  listRunsOptionsSchema,
  searchOptionsSchema,
  trainOptionsSchema,
  updateSettingsOptionsSchema,
} from "./requests.js";
import { toWire, wireSchema } from "./wire-case.js";

/*
 * Request and response bodies of the deep-memory HTTP API, in snake_case
 * (wire-case.ts is the one mapping). Request schemas are the trainer's own
 * request fields (requests.ts) renamed, so limits are written once, and strict: an unknown field (a `user_id`, say) is a 400,
 * never silently honoured. Every request string must be storable (no NUL, no
 * unpaired surrogate): PostgreSQL text cannot keep it, so it is a 400 here
 * rather than a failed write later. Response schemas describe what servers send.
 */

/** Ids in URL paths: the trainer checks their form (UUID) and answers 400 or 404 like every store. */
const id = storableText().trim().min(1).max(LIMITS.pathIdLength);

// ---------------------------------------------------------------- shared resources

export const runMetricsWireSchema = wireSchema(runMetricsSchema);
export type RunMetricsWire = z.infer<typeof runMetricsWireSchema>;

const publicRunSchema = trainingRunSchema.omit({ userId: true, leaseOwner: true, leaseExpiresAt: true });

/** A training run as the API shows it: no owner or lease fields (those are server internals). */
export const runWireSchema = wireSchema(publicRunSchema);
export type RunWire = z.infer<typeof runWireSchema>;

export function toWireRun(run: TrainingRun): RunWire {
  return toWire(publicRunSchema, run);
}

const samplePairSchema = trainingPairSchema.pick({ id: true, chunkId: true, question: true });
export const samplePairWireSchema = wireSchema(samplePairSchema);
export type SamplePairWire = z.infer<typeof samplePairWireSchema>;

export function toWireSamplePair(pair: Pick<TrainingPair, "id" | "chunkId" | "question">): SamplePairWire {
  return toWire(samplePairSchema, pair);
}

export const searchHitWireSchema = wireSchema(searchHitSchema);
export type SearchHitWire = z.infer<typeof searchHitWireSchema>;

export function toWireSearchHit(hit: SearchHit): SearchHitWire {
  return toWire(searchHitSchema, hit);
}

export function toWireRunMetrics(metrics: RunMetrics): RunMetricsWire {
  return toWire(runMetricsSchema, metrics);
}

export const distributionWireSchema = wireSchema(distributionSchema);
export const runStatisticsWireSchema = wireSchema(runStatisticsSchema);
export type RunStatisticsWire = z.infer<typeof runStatisticsWireSchema>;

// ---------------------------------------------------------------- POST /generate

export const generateRequestSchema = wireSchema(generateOptionsSchema);
export type GenerateRequest = z.input<typeof generateRequestSchema>;

export const generateResponseSchema = z.object({
  job_id: z.string(),
  training_run_id: z.string(),
  /** Chunks this run processes: only chunks no completed run covers yet. */
  total_chunks: z.number().int().nonnegative(),
  existing_chunks: z.number().int().nonnegative(),
  /** True when this call continued an unfinished run instead of starting a new one. */
  resumed: z.boolean(),
  /** True when a job was already generating for the user: this is that job, nothing new started. */
  joined: z.boolean(),
  message: z.string(),
  /** Where to follow the job's progress (Server-Sent Events). */
  events_url: z.string(),
});
export type GenerateResponse = z.infer<typeof generateResponseSchema>;

// ---------------------------------------------------------------- POST /train

export const trainRequestSchema = wireSchema(trainOptionsSchema);
export type TrainRequest = z.input<typeof trainRequestSchema>;

export const trainResponseSchema = z.object({
  job_id: z.string(),
  training_run_id: z.string(),
  /** True when the run was already training: this is that job, nothing new started. */
  joined: z.boolean(),
  message: z.string(),
  events_url: z.string(),
});
export type TrainResponse = z.infer<typeof trainResponseSchema>;

// ---------------------------------------------------------------- POST /jobs/{jobId}/cancel

export const cancelJobRequestSchema = wireSchema(cancelJobOptionsSchema);
export type CancelJobRequest = z.input<typeof cancelJobRequestSchema>;

export const cancelJobResponseSchema = z.object({
  job_id: z.string(),
  training_run_id: z.string(),
  kind: jobKindSchema,
  /** The phase the run was stopped in: POST /generate resumes a generation, POST /train trains the run again. */
  phase: z.enum(["generating", "training"]),
  /** True when the job has stopped; false when it runs in another server process, which stops it within its lease renewal interval. */
  stopped: z.boolean(),
  message: z.string(),
});
export type CancelJobResponse = z.infer<typeof cancelJobResponseSchema>;

// ---------------------------------------------------------------- POST /import

export const importPairsRequestSchema = wireSchema(importPairsOptionsSchema);
export type ImportPairsRequest = z.input<typeof importPairsRequestSchema>;

export const importPairsResponseSchema = z.object({
  training_run_id: z.string(),
  imported: z.number().int().nonnegative(),
  duplicates_removed: z.number().int().nonnegative(),
  /** Pairs left out because their chunk is not in the user's knowledge base. */
  unknown_chunk_ids: z.array(z.string()),
  /** True when this request finished the same import that had failed or been interrupted (its run, nothing stored twice). */
  resumed: z.boolean(),
});
export type ImportPairsResponse = z.infer<typeof importPairsResponseSchema>;

// ---------------------------------------------------------------- GET /runs, GET /runs/{runId}

// Query strings arrive as text: the same limits as the trainer's, with coercion.
export const listRunsQuerySchema = z
  .object({
    limit: z.coerce.number().int().min(1).max(LIMITS.listRunsLimit).default(listRunsOptionsSchema.shape.limit.def.defaultValue),
    offset: z.coerce.number().int().min(0).default(listRunsOptionsSchema.shape.offset.def.defaultValue),
  })
  .strict();
export type ListRunsQuery = z.input<typeof listRunsQuerySchema>;

export const runListResponseSchema = z.object({
  /** Newest first. */
  runs: z.array(runWireSchema),
  total: z.number().int().nonnegative(),
  limit: z.number().int().positive(),
  offset: z.number().int().nonnegative(),
  has_more: z.boolean(),
});
export type RunListResponse = z.infer<typeof runListResponseSchema>;

export const runDetailResponseSchema = runWireSchema.extend({
  /** A stable sample spread over the whole run, for review before training. */
  sample_pairs: z.array(samplePairWireSchema),
  statistics: runStatisticsWireSchema,
});
export type RunDetailResponse = z.infer<typeof runDetailResponseSchema>;

// ---------------------------------------------------------------- GET/PUT /settings

export const settingsResponseSchema = wireSchema(settingsViewSchema);
export type SettingsResponse = z.infer<typeof settingsResponseSchema>;

export const updateSettingsRequestSchema = wireSchema(updateSettingsOptionsSchema);
export type UpdateSettingsRequest = z.input<typeof updateSettingsRequestSchema>;

// ---------------------------------------------------------------- POST /search

export const searchRequestSchema = wireSchema(searchOptionsSchema);
export type SearchRequest = z.input<typeof searchRequestSchema>;

export const searchResponseSchema = z.object({
  query: z.string(),
  k: z.number().int().positive(),
  /** The top k with the user's trained deep memory applied (equal to the plain list when none applies). */
  with_deep_memory: z.array(searchHitWireSchema),
  without_deep_memory: z.array(searchHitWireSchema),
  deep_memory_applied: z.boolean(),
  model_run_id: z.string().nullable(),
  /** Why no model was applied, when none was. */
  reason: z.string().nullable(),
  /** How dense and keyword results were combined for each list (dense alone, or a hybrid fusion). */
  fusion: z.object({ with_deep_memory: fusionSchema, without_deep_memory: fusionSchema }).optional(),
});
export type SearchResponse = z.infer<typeof searchResponseSchema>;

// ---------------------------------------------------------------- GET /status/{id}

export const statusResponseSchema = wireSchema(runStatusSnapshotSchema);
export type StatusResponse = z.infer<typeof statusResponseSchema>;

// ---------------------------------------------------------------- path and query parameters

export const runIdParamsSchema = z.object({ runId: id });
export const statusParamsSchema = z.object({ id });
export const jobIdParamsSchema = z.object({ jobId: id });

const eventId = z
  .string()
  .regex(/^\d{1,16}$/, "must be a non-negative integer (the id of the last event received)")
  .transform(Number)
  .refine((n) => Number.isSafeInteger(n), "must be a non-negative integer (the id of the last event received)");

/** Query of the event stream; `last_event_id` is for EventSource polyfills that cannot send the Last-Event-ID header. */
export const jobEventsQuerySchema = z
  .object({
    last_event_id: eventId.optional(),
    /** The query parameter name the `event-source-polyfill` package uses. */
    lastEventId: eventId.optional(),
  })
  .strict();
export const lastEventIdSchema = eventId;
