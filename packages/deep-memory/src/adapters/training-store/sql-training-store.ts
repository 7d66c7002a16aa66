import type { ChunkOutcome, RunPatch, RunStatus, TrainingPair, TrainingRun } from "../../domain/run.js";
import { activeRunStatuses } from "../../domain/run.js";
import type { DeepMemorySettings, SettingsPatch, StoredModel } from "../../domain/settings.js";
import { DeepMemoryError, RunAlreadyActiveError, StoreError, ValidationError } from "../../errors/errors.js";
import type { NewRun, RecordChunkResult, RunGuard, TrainingStore } from "../../ports/training-store.js";
import {
  assertUserId,
  assertUuid,
  modelFromRow,
  pairFromRow,
  patchEntries,
  runFromRow,
  runPatchColumns,
  settingsFromRow,
  settingsPatchColumns,
  validateGuard,
  validateModel,
  validateNewRun,
  validateOutcome,
  validatePage,
  validateRunPatch,
  validateSettingsPatch,
  validateStatuses,
  type ColumnType,
} from "./training-store-rows.js";

/**
 * The little a SQL store needs from a PostgreSQL driver. node-postgres and
 * PGlite both fit it with a thin wrapper; values are always bound as
 * parameters, never spliced into the text.
 */
export interface SqlClient {
  query(text: string, params?: readonly unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
  /** Runs `fn` in one transaction on one connection; rolls back when it throws. */
  transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T>;
}

export const ACTIVE_RUN_INDEX = "deep_memory_training_runs_one_active_per_user";
const RUNS = "public.deep_memory_training_runs";

/** Casts bind a parameter to its column type whatever the driver infers; jsonb goes through text so drivers never re-encode it. */
const castFor: Record<ColumnType, string> = {
  text: "::text",
  integer: "::integer",
  boolean: "::boolean",
  jsonb: "::text::jsonb",
  timestamptz: "::timestamptz",
  uuid: "::uuid",
};

function encodeParam(type: ColumnType, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (type === "jsonb") return JSON.stringify(value);
  if (type === "timestamptz") return (value as Date).toISOString();
  return value;
}

const iso = (date: Date) => date.toISOString();

/** SQLSTATEs caused by the caller's input rather than by the database. */
const invalidInputCodes = new Set(["22P02", "22001", "22003", "22007", "22008", "22023", "23502", "23514"]);

interface PgLikeError {
  code?: unknown;
  constraint?: unknown;
  message?: unknown;
}

/**
 * Turns a driver error into one of ours: bad input -> ValidationError, the
 * store functions' own codes -> StoreError like the in-memory store, and
 * everything else (a dropped connection, a full disk) -> StoreError, which the
 * trainer treats as "mark the run failed and resume later".
 */
export function toStoreError(error: unknown, action: string): DeepMemoryError {
  if (DeepMemoryError.isInstance(error)) return error;
  const e = (typeof error === "object" && error !== null ? error : {}) as PgLikeError;
  const message = typeof e.message === "string" ? e.message : String(error);
  const code = typeof e.code === "string" ? e.code : undefined;
  if (code && invalidInputCodes.has(code)) {
    const constraint = typeof e.constraint === "string" ? e.constraint : undefined;
    return new ValidationError(`${action}: ${message}`, [{ path: constraint ?? "", message }], { cause: error });
  }
  if (code === "DM001" || code === "DM002") return new StoreError(message, { cause: error });
  return new StoreError(`${action} failed: ${message}`, { cause: error, details: code ? { sqlstate: code } : undefined });
}

function isUniqueViolation(error: unknown, constraint: string): boolean {
  const e = error as PgLikeError;
  return e?.code === "23505" && e.constraint === constraint;
}

/**
 * A TrainingStore over the schema in supabase/migrations, for any driver that
 * fits SqlClient. Each method is one statement (multi-row writes call the
 * schema's functions), so each is atomic without holding a transaction open
 * across round trips.
 */
export class SqlTrainingStore implements TrainingStore {
  constructor(protected readonly sql: SqlClient) {}

  async createRun(input: NewRun, now: Date): Promise<TrainingRun> {
    const run = validateNewRun(input);
    // A conflict with a run that finished a moment later is retried, so the
    // error always names a run that really is active.
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const { rows } = await this.sql.query(
          `insert into ${RUNS}
             (id, user_id, status, total_chunks, existing_chunks, generation, generate_job_id,
              lease_owner, lease_expires_at, created_at, updated_at)
           values ($1::uuid, $2::text, $3::text, $4::integer, $5::integer, $6::text::jsonb, $7::text,
                   $8::text, $9::timestamptz, $10::timestamptz, $10::timestamptz)
           returning *`,
          [
            run.id,
            run.userId,
            run.status,
            run.totalChunks,
            run.existingChunks,
            JSON.stringify(run.generation),
            run.generateJobId,
            run.leaseOwner,
            run.leaseExpiresAt ? iso(run.leaseExpiresAt) : null,
            iso(now),
          ],
        );
        return runFromRow(rows[0]!);
      } catch (error) {
        if (isUniqueViolation(error, ACTIVE_RUN_INDEX)) {
          const active = await this.findActiveRun(run.userId);
          if (active) throw new RunAlreadyActiveError(active.id, active.status);
          continue;
        }
        if (isUniqueViolation(error, "deep_memory_training_runs_pkey")) throw new StoreError(`Run ${run.id} already exists`);
        throw toStoreError(error, "createRun");
      }
    }
    throw new StoreError("createRun kept conflicting with another active run; try again");
  }

  async getRun(userId: string, runId: string): Promise<TrainingRun | null> {
    assertUserId(userId);
    assertUuid(runId, "runId");
    const rows = await this.rows("getRun", `select * from ${RUNS} where id = $1::uuid and user_id = $2::text`, [runId, userId]);
    return rows[0] ? runFromRow(rows[0]) : null;
  }

  async findRunByJobId(userId: string, jobId: string): Promise<TrainingRun | null> {
    assertUserId(userId);
    const rows = await this.rows(
      "findRunByJobId",
      `select * from ${RUNS}
        where user_id = $1::text and (generate_job_id = $2::text or train_job_id = $2::text)
        order by created_at, id limit 1`,
      [userId, String(jobId)],
    );
    return rows[0] ? runFromRow(rows[0]) : null;
  }

  async findActiveRun(userId: string): Promise<TrainingRun | null> {
    assertUserId(userId);
    const rows = await this.rows("findActiveRun", `select * from ${RUNS} where user_id = $1::text and status = any($2::text[]) limit 1`, [
      userId,
      [...activeRunStatuses],
    ]);
    return rows[0] ? runFromRow(rows[0]) : null;
  }

  async listRuns(userId: string, page: { limit: number; offset: number }): Promise<{ runs: TrainingRun[]; total: number }> {
    assertUserId(userId);
    const { limit, offset } = validatePage(page);
    // One statement, so the page and the total come from the same snapshot.
    const rows = await this.rows(
      "listRuns",
      `select c.total as listing_total, r.*
         from (select count(*)::integer as total from ${RUNS} where user_id = $1::text) c
         left join lateral (
           select * from ${RUNS} where user_id = $1::text
            order by created_at desc, id desc limit $2::integer offset $3::integer
         ) r on true`,
      [userId, limit, offset],
    );
    const total = Number(rows[0]?.listing_total ?? 0);
    return { runs: rows.filter((row) => row.id !== null).map(runFromRow), total };
  }

  async updateRun(userId: string, runId: string, patch: RunPatch, guard: RunGuard, now: Date): Promise<TrainingRun | null> {
    assertUserId(userId);
    assertUuid(runId, "runId");
    const entries = patchEntries(validateRunPatch(patch), runPatchColumns);
    const { status: guardStatus, leaseOwner: guardOwner } = validateGuard(guard);
    const params: unknown[] = [runId, userId, iso(now)];
    const sets = ["updated_at = $3::timestamptz"];
    for (const { column, type, value } of entries) {
      params.push(encodeParam(type, value));
      sets.push(`${column} = $${params.length}${castFor[type]}`);
    }
    const where = ["id = $1::uuid", "user_id = $2::text"];
    if (guardStatus) {
      params.push([...guardStatus]);
      where.push(`status = any($${params.length}::text[])`);
    }
    if (guardOwner !== undefined) {
      params.push(guardOwner);
      where.push(`lease_owner = $${params.length}::text`);
    }
    try {
      const { rows } = await this.sql.query(`update ${RUNS} set ${sets.join(", ")} where ${where.join(" and ")} returning *`, params);
      return rows[0] ? runFromRow(rows[0]) : null;
    } catch (error) {
      if (isUniqueViolation(error, ACTIVE_RUN_INDEX)) {
        const active = await this.findActiveRun(userId);
        throw new RunAlreadyActiveError(active?.id ?? "unknown", active?.status ?? "active");
      }
      throw toStoreError(error, "updateRun");
    }
  }

  async claimLease(userId: string, runId: string, owner: string, expiresAt: Date, now: Date): Promise<TrainingRun | null> {
    assertUserId(userId);
    assertUuid(runId, "runId");
    if (typeof owner !== "string" || owner.length === 0) throw new ValidationError("Lease owner must be a non-empty string");
    const rows = await this.rows(
      "claimLease",
      `select * from public.deep_memory_claim_lease($1::text, $2::uuid, $3::text, $4::timestamptz, $5::timestamptz)`,
      [userId, runId, owner, iso(expiresAt), iso(now)],
    );
    return rows[0] ? runFromRow(rows[0]) : null;
  }

  async recordChunk(userId: string, runId: string, outcome: ChunkOutcome, leaseOwner: string, now: Date): Promise<RecordChunkResult> {
    assertUserId(userId);
    assertUuid(runId, "runId");
    const o = validateOutcome(outcome);
    const rows = await this.rows(
      "recordChunk",
      `select r.recorded as chunk_recorded, (r.run).*
         from public.deep_memory_record_chunk(
           $1::text, $2::uuid, $3::text, $4::text, $5::text, $6::text[], $7::text, $8::integer, $9::boolean, $10::timestamptz
         ) r`,
      [userId, runId, leaseOwner, o.chunkId, o.status, o.questions, o.reason, o.duplicatesRemoved, o.capReached, iso(now)],
    );
    const row = rows[0];
    if (!row) throw new StoreError(`recordChunk returned nothing for run ${runId}`);
    return { recorded: row.chunk_recorded === true, run: runFromRow(row) };
  }

  async listRecordedChunkIds(userId: string, runId: string): Promise<string[]> {
    assertUserId(userId);
    assertUuid(runId, "runId");
    const rows = await this.rows(
      "listRecordedChunkIds",
      `select chunk_id from public.deep_memory_chunk_outcomes
        where run_id = $1::uuid and user_id = $2::text order by recorded_at, chunk_id`,
      [runId, userId],
    );
    return rows.map((r) => String(r.chunk_id));
  }

  async listChunkIdsWithPairs(userId: string, statuses: readonly RunStatus[]): Promise<string[]> {
    assertUserId(userId);
    const valid = validateStatuses(statuses);
    if (valid.length === 0) return [];
    const rows = await this.rows(
      "listChunkIdsWithPairs",
      `select chunk_id from public.deep_memory_chunk_ids_with_pairs($1::text, $2::text[])`,
      [userId, valid],
    );
    return rows.map((r) => String(r.chunk_id));
  }

  async listPairs(userId: string, runIds: readonly string[]): Promise<TrainingPair[]> {
    assertUserId(userId);
    runIds.forEach((id, i) => assertUuid(id, `runIds.${i}`));
    if (runIds.length === 0) return [];
    const rows = await this.rows(
      "listPairs",
      `select id, run_id, user_id, chunk_id, question, created_at
         from public.deep_memory_training_pairs
        where user_id = $1::text and run_id = any($2::uuid[])
        order by created_at, seq`,
      [userId, [...runIds]],
    );
    return rows.map(pairFromRow);
  }

  async getSettings(userId: string): Promise<DeepMemorySettings | null> {
    assertUserId(userId);
    const rows = await this.rows("getSettings", `select * from public.deep_memory_settings where user_id = $1::text`, [userId]);
    return rows[0] ? settingsFromRow(rows[0]) : null;
  }

  async saveSettings(userId: string, patch: SettingsPatch, now: Date): Promise<DeepMemorySettings> {
    assertUserId(userId);
    const entries = patchEntries(validateSettingsPatch(patch), settingsPatchColumns);
    const params: unknown[] = [userId, iso(now)];
    const columns = ["user_id", "updated_at"];
    const values = ["$1::text", "$2::timestamptz"];
    for (const { column, type, value } of entries) {
      params.push(encodeParam(type, value));
      columns.push(column);
      values.push(`$${params.length}${castFor[type]}`);
    }
    // Only the patched columns change on conflict; the others keep their values.
    const updates = columns.slice(1).map((c) => `${c} = excluded.${c}`);
    try {
      const { rows } = await this.sql.query(
        `insert into public.deep_memory_settings (${columns.join(", ")}) values (${values.join(", ")})
         on conflict (user_id) do update set ${updates.join(", ")}
         returning *`,
        params,
      );
      return settingsFromRow(rows[0]!);
    } catch (error) {
      if ((error as PgLikeError)?.code === "23503") {
        throw new StoreError("Settings name a run that does not exist for this user", { cause: error });
      }
      throw toStoreError(error, "saveSettings");
    }
  }

  async saveModel(input: StoredModel): Promise<void> {
    const model = validateModel(input);
    try {
      await this.sql.query(
        `insert into public.deep_memory_models
           (run_id, user_id, engine, format, dimensions, embedding_model, weights, metrics, created_at)
         values ($1::uuid, $2::text, $3::text, $4::text, $5::integer, $6::text, $7::bytea, $8::text::jsonb, $9::timestamptz)
         on conflict (run_id) do update set
           user_id = excluded.user_id, engine = excluded.engine, format = excluded.format,
           dimensions = excluded.dimensions, embedding_model = excluded.embedding_model,
           weights = excluded.weights, metrics = excluded.metrics, created_at = excluded.created_at`,
        [
          model.runId,
          model.userId,
          model.engine,
          model.format,
          model.dimensions,
          model.embeddingModel,
          this.bytesParam(model.weights),
          JSON.stringify(model.metrics),
          iso(model.createdAt),
        ],
      );
    } catch (error) {
      // The (run, user) foreign key: the run is missing or another user's.
      if ((error as PgLikeError)?.code === "23503") throw new StoreError(`Run ${model.runId} not found`, { cause: error });
      throw toStoreError(error, "saveModel");
    }
  }

  async getModel(userId: string, runId: string): Promise<StoredModel | null> {
    assertUserId(userId);
    assertUuid(runId, "runId");
    const rows = await this.rows("getModel", `select * from public.deep_memory_models where run_id = $1::uuid and user_id = $2::text`, [
      runId,
      userId,
    ]);
    const row = rows[0];
    if (!row) return null;
    return modelFromRow(row, toBytes(row.weights));
  }

  /** How this driver wants a bytea parameter (node-postgres needs a Buffer). */
  protected bytesParam(bytes: Uint8Array): unknown {
    return bytes;
  }

  private async rows(action: string, text: string, params: readonly unknown[]): Promise<Record<string, unknown>[]> {
    try {
      return (await this.sql.query(text, params)).rows;
    } catch (error) {
      throw toStoreError(error, action);
    }
  }
}

/** A plain Uint8Array copy, whatever the driver returned (Buffer, Uint8Array, or "\x.." hex text). */
export function toBytes(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return new Uint8Array(value);
  if (typeof value === "string" && value.startsWith("\\x")) {
    const hex = value.slice(2);
    const out = new Uint8Array(hex.length / 2);
    for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
    return out;
  }
  throw new StoreError(`Expected bytea, got ${typeof value}`);
}
