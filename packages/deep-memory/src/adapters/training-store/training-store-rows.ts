import * as z from "zod";
import type { ChunkOutcome, RunPatch, RunStatus, TrainingPair, TrainingRun } from "../../domain/run.js";
import { chunkOutcomeSchema, generationSettingsSchema, runStatusSchema, trainingPairSchema, trainingRunSchema } from "../../domain/run.js";
import type { DeepMemorySettings, SettingsPatch, StoredModel } from "../../domain/settings.js";
import { deepMemorySettingsSchema, storedModelSchema } from "../../domain/settings.js";
import { StoreError, ValidationError } from "../../errors/errors.js";
import type { NewRun, RunGuard } from "../../ports/training-store.js";

/**
 * What the SQL-backed stores (PostgreSQL, PGlite, Supabase) share: input
 * validation before anything reaches the database, and the mapping between the
 * snake_case rows of supabase/migrations and the domain types.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Run ids are uuid columns; anything else would be a database error, so it is a ValidationError here. */
export function assertUuid(value: unknown, path: string): asserts value is string {
  if (typeof value !== "string" || !UUID.test(value)) {
    throw new ValidationError(`${path} must be a UUID, got ${JSON.stringify(value)}`, [{ path, message: "must be a UUID" }]);
  }
}

/** User ids are text (any auth provider's ids fit), bounded like the column. */
export function assertUserId(value: unknown, path = "userId"): asserts value is string {
  if (typeof value !== "string" || value.length === 0 || value.length > 256) {
    throw new ValidationError(`${path} must be a string of 1 to 256 characters`, [{ path, message: "1 to 256 characters" }]);
  }
}

/** Bounded by CHECK constraints so the (run, chunk, question) unique index can always hold a row. */
export const MAX_CHUNK_ID_BYTES = 512;
export const MAX_QUESTION_BYTES = 2000;

const encoder = new TextEncoder();
const utf8Length = (text: string) => encoder.encode(text).length;

function parse<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
  throw new ValidationError(`Invalid ${what}: ${issues.map((i) => `${i.path || "(root)"} ${i.message}`).join("; ")}`, issues);
}

const newRunSchema = z
  .object({
    id: z.string(),
    userId: z.string(),
    status: runStatusSchema,
    totalChunks: z.number().int().nonnegative(),
    existingChunks: z.number().int().nonnegative(),
    generation: generationSettingsSchema,
    generateJobId: z.string().min(1).nullable(),
    leaseOwner: z.string().min(1).nullable(),
    leaseExpiresAt: z.date().nullable(),
  })
  .strict();

export function validateNewRun(run: NewRun): NewRun {
  assertUuid(run.id, "id");
  assertUserId(run.userId);
  return parse(newRunSchema, run, "run");
}

const runPatchSchema = trainingRunSchema
  .omit({ id: true, userId: true, createdAt: true, updatedAt: true, generation: true })
  .partial()
  .strict();

/** Drops keys whose value is undefined (an absent field), then validates the rest. */
export function validateRunPatch(patch: RunPatch): RunPatch {
  const defined = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
  return parse(runPatchSchema, defined, "run patch");
}

export function validateGuard(guard: RunGuard): RunGuard {
  return parse(
    z.object({ status: z.array(runStatusSchema).readonly().optional(), leaseOwner: z.string().optional() }).strict(),
    guard,
    "run guard",
  );
}

export function validateStatuses(statuses: readonly RunStatus[]): RunStatus[] {
  return parse(z.array(runStatusSchema), statuses, "statuses");
}

export function validatePage(page: { limit: number; offset: number }): { limit: number; offset: number } {
  return parse(z.object({ limit: z.number().int().nonnegative(), offset: z.number().int().nonnegative() }), page, "page");
}

export function validateOutcome(outcome: ChunkOutcome): ChunkOutcome {
  const parsed = parse(chunkOutcomeSchema, outcome, "chunk outcome");
  if (utf8Length(parsed.chunkId) > MAX_CHUNK_ID_BYTES) {
    throw new ValidationError(`Chunk id is longer than ${MAX_CHUNK_ID_BYTES} bytes`, [{ path: "chunkId", message: "too long" }]);
  }
  parsed.questions.forEach((q, i) => {
    if (utf8Length(q) > MAX_QUESTION_BYTES) {
      throw new ValidationError(`Question ${i} is longer than ${MAX_QUESTION_BYTES} bytes`, [
        { path: `questions.${i}`, message: `longer than ${MAX_QUESTION_BYTES} bytes` },
      ]);
    }
  });
  return parsed;
}

const settingsPatchSchema = deepMemorySettingsSchema.omit({ userId: true, updatedAt: true }).partial().strict();

export function validateSettingsPatch(patch: SettingsPatch): SettingsPatch {
  const defined = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
  const parsed = parse(settingsPatchSchema, defined, "settings patch") as SettingsPatch;
  if (parsed.lastTrainingRunId) assertUuid(parsed.lastTrainingRunId, "lastTrainingRunId");
  if (parsed.modelRunId) assertUuid(parsed.modelRunId, "modelRunId");
  return parsed;
}

export function validateModel(model: StoredModel): StoredModel {
  assertUuid(model.runId, "runId");
  assertUserId(model.userId);
  return parse(storedModelSchema, model, "model");
}

// ---------------------------------------------------------------- columns

export type ColumnType = "text" | "integer" | "boolean" | "jsonb" | "timestamptz" | "uuid";

/** Every field a run patch may set, with its column; a table so SQL is never built from caller-supplied names. */
export const runPatchColumns = {
  status: { column: "status", type: "text" },
  totalChunks: { column: "total_chunks", type: "integer" },
  processedChunks: { column: "processed_chunks", type: "integer" },
  skippedChunks: { column: "skipped_chunks", type: "integer" },
  existingChunks: { column: "existing_chunks", type: "integer" },
  pairCount: { column: "pair_count", type: "integer" },
  duplicatesRemoved: { column: "duplicates_removed", type: "integer" },
  capReached: { column: "cap_reached", type: "boolean" },
  metrics: { column: "metrics", type: "jsonb" },
  error: { column: "error", type: "text" },
  failedPhase: { column: "failed_phase", type: "text" },
  generateJobId: { column: "generate_job_id", type: "text" },
  trainJobId: { column: "train_job_id", type: "text" },
  leaseOwner: { column: "lease_owner", type: "text" },
  leaseExpiresAt: { column: "lease_expires_at", type: "timestamptz" },
  generatedAt: { column: "generated_at", type: "timestamptz" },
  completedAt: { column: "completed_at", type: "timestamptz" },
} as const satisfies Record<keyof RunPatch, { column: string; type: ColumnType }>;

export const settingsPatchColumns = {
  enabled: { column: "enabled", type: "boolean" },
  lastTrainedAt: { column: "last_trained_at", type: "timestamptz" },
  lastTrainingRunId: { column: "last_training_run_id", type: "uuid" },
  modelRunId: { column: "model_run_id", type: "uuid" },
} as const satisfies Record<keyof SettingsPatch, { column: string; type: ColumnType }>;

/** A validated patch as [column, type, value] triples, in the table's order. */
export function patchEntries<K extends string>(
  patch: Partial<Record<K, unknown>>,
  columns: Record<K, { column: string; type: ColumnType }>,
): { column: string; type: ColumnType; value: unknown }[] {
  const out: { column: string; type: ColumnType; value: unknown }[] = [];
  for (const key of Object.keys(columns) as K[]) {
    if (!(key in patch) || patch[key] === undefined) continue;
    out.push({ ...columns[key], value: patch[key] });
  }
  return out;
}

// ---------------------------------------------------------------- rows -> domain

type Row = Record<string, unknown>;

/** pg and PGlite give Date objects; PostgREST gives ISO strings. */
function toDate(value: unknown): Date | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value;
  if (typeof value === "string") return new Date(value);
  throw new StoreError(`Expected a timestamp, got ${typeof value}`);
}

function toJson(value: unknown): unknown {
  // A driver without a jsonb parser (or a text column) hands back a string.
  return typeof value === "string" ? JSON.parse(value) : value;
}

function checked<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new StoreError(`A stored ${what} does not match the schema: ${result.error.issues[0]?.message ?? "invalid"}`, {
    cause: result.error,
  });
}

export function runFromRow(row: Row): TrainingRun {
  return checked(
    trainingRunSchema,
    {
      id: row.id,
      userId: row.user_id,
      status: row.status,
      totalChunks: row.total_chunks,
      processedChunks: row.processed_chunks,
      skippedChunks: row.skipped_chunks,
      existingChunks: row.existing_chunks,
      pairCount: row.pair_count,
      duplicatesRemoved: row.duplicates_removed,
      capReached: row.cap_reached,
      generation: toJson(row.generation),
      metrics: toJson(row.metrics) ?? null,
      error: row.error ?? null,
      failedPhase: row.failed_phase ?? null,
      generateJobId: row.generate_job_id ?? null,
      trainJobId: row.train_job_id ?? null,
      leaseOwner: row.lease_owner ?? null,
      leaseExpiresAt: toDate(row.lease_expires_at),
      createdAt: toDate(row.created_at),
      updatedAt: toDate(row.updated_at),
      generatedAt: toDate(row.generated_at),
      completedAt: toDate(row.completed_at),
    },
    `run ${String(row.id)}`,
  );
}

export function pairFromRow(row: Row): TrainingPair {
  return checked(
    trainingPairSchema,
    {
      id: row.id,
      runId: row.run_id,
      userId: row.user_id,
      chunkId: row.chunk_id,
      question: row.question,
      createdAt: toDate(row.created_at),
    },
    "pair",
  );
}

export function settingsFromRow(row: Row): DeepMemorySettings {
  return checked(
    deepMemorySettingsSchema,
    {
      userId: row.user_id,
      enabled: row.enabled,
      lastTrainedAt: toDate(row.last_trained_at),
      lastTrainingRunId: row.last_training_run_id ?? null,
      modelRunId: row.model_run_id ?? null,
      updatedAt: toDate(row.updated_at),
    },
    "settings row",
  );
}

export function modelFromRow(row: Row, weights: Uint8Array): StoredModel {
  return checked(
    storedModelSchema,
    {
      runId: row.run_id,
      userId: row.user_id,
      engine: row.engine,
      format: row.format,
      dimensions: row.dimensions,
      embeddingModel: row.embedding_model,
      weights,
      metrics: toJson(row.metrics) ?? {},
      createdAt: toDate(row.created_at),
    },
    "model",
  );
}
