import type { SupabaseClient } from "@supabase/supabase-js";
import type { ChunkOutcome, RunPatch, RunStatus, TrainingPair, TrainingRun } from "../../domain/run.js";
import { activeRunStatuses } from "../../domain/run.js";
import type { DeepMemorySettings, SettingsPatch, StoredModel } from "../../domain/settings.js";
import { RunAlreadyActiveError, StoreError } from "../../errors/errors.js";
import type { NewRun, RecordChunkResult, RunGuard, TrainingStore } from "../../ports/training-store.js";
import { toBytes } from "../training-store/sql-training-store.js";
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
} from "../training-store/training-store-rows.js";
import { fromPostgrestError, type PostgrestResult } from "./postgrest-errors.js";

const RUNS = "deep_memory_training_runs";
const PAIRS = "deep_memory_training_pairs";
const OUTCOMES = "deep_memory_chunk_outcomes";
const SETTINGS = "deep_memory_settings";
const MODELS = "deep_memory_models";
const ACTIVE_RUN_INDEX = "deep_memory_training_runs_one_active_per_user";

export interface SupabaseTrainingStoreOptions {
  /**
   * Rows per request when listing. Supabase caps every response at the
   * project's `max_rows` (1000 by default); the store pages past it.
   */
  pageSize?: number;
}

type Row = Record<string, unknown>;

/** JSON for PostgREST: dates as ISO strings, bytes as bytea hex. */
function toJsonValue(value: unknown): unknown {
  return value instanceof Date ? value.toISOString() : value;
}

function bytea(bytes: Uint8Array): string {
  return `\\x${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex")}`;
}

/** A value inside a PostgREST logic tree (or=(...)), quoted so commas, dots and parentheses are literal. */
function quoted(value: string): string {
  return `"${value.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`;
}

/**
 * A TrainingStore over Supabase's Data API with supabase-js, for hosts that
 * have only the project URL and a key. Apply supabase/migrations to the
 * project first. With the service-role key (server side) the store scopes every
 * call by `userId` itself; with a user's access token row-level security also
 * holds it to that user's rows. Writes that touch several rows go through the
 * schema's SQL functions over RPC, since REST calls cannot share a transaction.
 */
export class SupabaseTrainingStore implements TrainingStore {
  private readonly pageSize: number;

  constructor(
    private readonly client: SupabaseClient,
    options: SupabaseTrainingStoreOptions = {},
  ) {
    this.pageSize = options.pageSize ?? 1000;
  }

  async createRun(input: NewRun, now: Date): Promise<TrainingRun> {
    const run = validateNewRun(input);
    const row = {
      id: run.id,
      user_id: run.userId,
      status: run.status,
      total_chunks: run.totalChunks,
      existing_chunks: run.existingChunks,
      generation: run.generation,
      generate_job_id: run.generateJobId,
      lease_owner: run.leaseOwner,
      lease_expires_at: run.leaseExpiresAt?.toISOString() ?? null,
      created_at: now.toISOString(),
      updated_at: now.toISOString(),
    };
    for (let attempt = 0; attempt < 3; attempt++) {
      const result = await this.client.from(RUNS).insert(row).select();
      if (!result.error) return runFromRow((result.data as Row[])[0]!);
      if (result.error.code === "23505" && result.error.message.includes(ACTIVE_RUN_INDEX)) {
        const active = await this.findActiveRun(run.userId);
        if (active) throw new RunAlreadyActiveError(active.id, active.status);
        continue;
      }
      if (result.error.code === "23505" && result.error.message.includes(`${RUNS}_pkey`)) {
        throw new StoreError(`Run ${run.id} already exists`);
      }
      throw fromPostgrestError(result, "createRun");
    }
    throw new StoreError("createRun kept conflicting with another active run; try again");
  }

  async getRun(userId: string, runId: string): Promise<TrainingRun | null> {
    assertUserId(userId);
    assertUuid(runId, "runId");
    const rows = this.rows(await this.client.from(RUNS).select("*").eq("id", runId).eq("user_id", userId), "getRun");
    return rows[0] ? runFromRow(rows[0]) : null;
  }

  async findRunByJobId(userId: string, jobId: string): Promise<TrainingRun | null> {
    assertUserId(userId);
    const id = quoted(String(jobId));
    const rows = this.rows(
      await this.client
        .from(RUNS)
        .select("*")
        .eq("user_id", userId)
        .or(`generate_job_id.eq.${id},train_job_id.eq.${id}`)
        .order("created_at", { ascending: true })
        .order("id", { ascending: true })
        .limit(1),
      "findRunByJobId",
    );
    return rows[0] ? runFromRow(rows[0]) : null;
  }

  async findActiveRun(userId: string): Promise<TrainingRun | null> {
    assertUserId(userId);
    const rows = this.rows(
      await this.client
        .from(RUNS)
        .select("*")
        .eq("user_id", userId)
        .in("status", [...activeRunStatuses])
        .limit(1),
      "findActiveRun",
    );
    return rows[0] ? runFromRow(rows[0]) : null;
  }

  async listRuns(userId: string, page: { limit: number; offset: number }): Promise<{ runs: TrainingRun[]; total: number }> {
    assertUserId(userId);
    const { limit, offset } = validatePage(page);
    const runs: TrainingRun[] = [];
    let total = 0;
    // More than one request only when the project's max_rows caps a page below `limit`.
    do {
      const from = offset + runs.length;
      const result = await this.client
        .from(RUNS)
        .select("*", { count: "exact" })
        .eq("user_id", userId)
        .order("created_at", { ascending: false })
        .order("id", { ascending: false })
        .range(from, from + (limit - runs.length) - 1);
      // PostgREST answers 416 for an offset past the end; the page is empty.
      if (result.error?.code === "PGRST103") return { runs, total: await this.countRuns(userId) };
      const rows = this.rows(result, "listRuns");
      total = result.count ?? 0;
      runs.push(...rows.map(runFromRow));
      if (rows.length === 0) break;
    } while (runs.length < limit && offset + runs.length < total);
    return { runs, total };
  }

  async updateRun(userId: string, runId: string, patch: RunPatch, guard: RunGuard, now: Date): Promise<TrainingRun | null> {
    assertUserId(userId);
    assertUuid(runId, "runId");
    const entries = patchEntries(validateRunPatch(patch), runPatchColumns);
    const { status, leaseOwner } = validateGuard(guard);
    const row: Row = { updated_at: now.toISOString() };
    for (const { column, value } of entries) row[column] = toJsonValue(value);
    let query = this.client.from(RUNS).update(row).eq("id", runId).eq("user_id", userId);
    if (status) query = query.in("status", [...status]);
    if (leaseOwner !== undefined) query = query.eq("lease_owner", leaseOwner);
    const result = await query.select();
    if (result.error?.code === "23505" && result.error.message.includes(ACTIVE_RUN_INDEX)) {
      const active = await this.findActiveRun(userId);
      throw new RunAlreadyActiveError(active?.id ?? "unknown", active?.status ?? "active");
    }
    const rows = this.rows(result, "updateRun");
    return rows[0] ? runFromRow(rows[0]) : null;
  }

  async claimLease(userId: string, runId: string, owner: string, expiresAt: Date, now: Date): Promise<TrainingRun | null> {
    assertUserId(userId);
    assertUuid(runId, "runId");
    const rows = this.rows(
      await this.client.rpc("deep_memory_claim_lease", {
        p_user_id: userId,
        p_run_id: runId,
        p_owner: owner,
        p_expires_at: expiresAt.toISOString(),
        p_now: now.toISOString(),
      }),
      "claimLease",
    );
    return rows[0] ? runFromRow(rows[0]) : null;
  }

  async recordChunk(userId: string, runId: string, outcome: ChunkOutcome, leaseOwner: string, now: Date): Promise<RecordChunkResult> {
    assertUserId(userId);
    assertUuid(runId, "runId");
    const o = validateOutcome(outcome);
    const rows = this.rows(
      await this.client.rpc("deep_memory_record_chunk", {
        p_user_id: userId,
        p_run_id: runId,
        p_lease_owner: leaseOwner,
        p_chunk_id: o.chunkId,
        p_status: o.status,
        p_questions: o.questions,
        p_reason: o.reason,
        p_duplicates_removed: o.duplicatesRemoved,
        p_cap_reached: o.capReached,
        p_now: now.toISOString(),
      }),
      "recordChunk",
    );
    const row = rows[0];
    if (!row) throw new StoreError(`recordChunk returned nothing for run ${runId}`);
    return { recorded: row.recorded === true, run: runFromRow(row.run as Row) };
  }

  async listRecordedChunkIds(userId: string, runId: string): Promise<string[]> {
    assertUserId(userId);
    assertUuid(runId, "runId");
    const rows = await this.allPages("listRecordedChunkIds", (from, to) =>
      this.client
        .from(OUTCOMES)
        .select("chunk_id")
        .eq("run_id", runId)
        .eq("user_id", userId)
        .order("recorded_at", { ascending: true })
        .order("chunk_id", { ascending: true })
        .range(from, to),
    );
    return rows.map((r) => String(r.chunk_id));
  }

  async listChunkIdsWithPairs(userId: string, statuses: readonly RunStatus[]): Promise<string[]> {
    assertUserId(userId);
    const valid = validateStatuses(statuses);
    if (valid.length === 0) return [];
    const rows = await this.allPages("listChunkIdsWithPairs", (from, to) =>
      this.client
        .rpc("deep_memory_chunk_ids_with_pairs", { p_user_id: userId, p_statuses: valid })
        .order("chunk_id", { ascending: true })
        .range(from, to),
    );
    return rows.map((r) => String(r.chunk_id));
  }

  async listPairs(userId: string, runIds: readonly string[]): Promise<TrainingPair[]> {
    assertUserId(userId);
    runIds.forEach((id, i) => assertUuid(id, `runIds.${i}`));
    if (runIds.length === 0) return [];
    const rows = await this.allPages("listPairs", (from, to) =>
      this.client
        .from(PAIRS)
        .select("id,run_id,user_id,chunk_id,question,created_at")
        .eq("user_id", userId)
        .in("run_id", [...runIds])
        .order("created_at", { ascending: true })
        .order("seq", { ascending: true })
        .range(from, to),
    );
    return rows.map(pairFromRow);
  }

  async getSettings(userId: string): Promise<DeepMemorySettings | null> {
    assertUserId(userId);
    const rows = this.rows(await this.client.from(SETTINGS).select("*").eq("user_id", userId), "getSettings");
    return rows[0] ? settingsFromRow(rows[0]) : null;
  }

  async saveSettings(userId: string, patch: SettingsPatch, now: Date): Promise<DeepMemorySettings> {
    assertUserId(userId);
    const row: Row = { user_id: userId, updated_at: now.toISOString() };
    for (const { column, value } of patchEntries(validateSettingsPatch(patch), settingsPatchColumns)) row[column] = toJsonValue(value);
    // An upsert merges only the columns sent, so unpatched fields keep their values.
    const result = await this.client.from(SETTINGS).upsert(row, { onConflict: "user_id" }).select();
    if (result.error?.code === "23503") throw new StoreError("Settings name a run that does not exist for this user");
    return settingsFromRow(this.rows(result, "saveSettings")[0]!);
  }

  async saveModel(input: StoredModel): Promise<void> {
    const model = validateModel(input);
    const result = await this.client.from(MODELS).upsert(
      {
        run_id: model.runId,
        user_id: model.userId,
        engine: model.engine,
        format: model.format,
        dimensions: model.dimensions,
        embedding_model: model.embeddingModel,
        weights: bytea(model.weights),
        metrics: model.metrics,
        created_at: model.createdAt.toISOString(),
      },
      { onConflict: "run_id" },
    );
    if (result.error?.code === "23503") throw new StoreError(`Run ${model.runId} not found`);
    if (result.error) throw fromPostgrestError(result, "saveModel");
  }

  async getModel(userId: string, runId: string): Promise<StoredModel | null> {
    assertUserId(userId);
    assertUuid(runId, "runId");
    const rows = this.rows(await this.client.from(MODELS).select("*").eq("run_id", runId).eq("user_id", userId), "getModel");
    const row = rows[0];
    return row ? modelFromRow(row, toBytes(row.weights)) : null;
  }

  private rows(result: PostgrestResult, action: string): Row[] {
    if (result.error) throw fromPostgrestError(result, action);
    return (result.data ?? []) as Row[];
  }

  private async countRuns(userId: string): Promise<number> {
    const result = await this.client.from(RUNS).select("id", { count: "exact", head: true }).eq("user_id", userId);
    if (result.error) throw fromPostgrestError(result, "listRuns");
    return result.count ?? 0;
  }

  /**
   * Every row of a listing, a page at a time in the query's order. Stops at an
   * empty page rather than a short one: the project's max_rows may cap pages
   * below pageSize, so a short page does not prove the end.
   */
  private async allPages(action: string, page: (from: number, to: number) => PromiseLike<PostgrestResult>): Promise<Row[]> {
    const out: Row[] = [];
    for (;;) {
      const rows = this.rows(await page(out.length, out.length + this.pageSize - 1), action);
      if (rows.length === 0) return out;
      out.push(...rows);
    }
  }
}
