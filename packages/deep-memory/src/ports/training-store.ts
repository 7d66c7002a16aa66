import type { ChunkOutcome, GenerationSettings, RunPatch, RunStatus, TrainingPair, TrainingRun } from "../domain/run.js";
import type { DeepMemorySettings, SettingsPatch, StoredModel } from "../domain/settings.js";

export interface NewRun {
  id: string;
  userId: string;
  status: RunStatus;
  totalChunks: number;
  existingChunks: number;
  generation: GenerationSettings;
  generateJobId: string | null;
  leaseOwner: string | null;
  leaseExpiresAt: Date | null;
}

/** Conditions an update must meet; a store applies the patch only when all hold (compare-and-set). */
export interface RunGuard {
  status?: readonly RunStatus[];
  /** The caller must hold the lease. */
  leaseOwner?: string;
}

export interface RecordChunkResult {
  /** False when the chunk was already recorded for this run (a resumed duplicate): nothing was written. */
  recorded: boolean;
  run: TrainingRun;
}

/**
 * Persistence for runs, pairs, settings and models. Every method is scoped by
 * `userId`: a run of another user is indistinguishable from a missing one.
 * Implementations must make each method atomic (one transaction).
 */
export interface TrainingStore {
  /**
   * Inserts a run. Throws RunAlreadyActiveError when the user already has a run
   * in an active status (pending, generating, training): one active run per user.
   */
  createRun(run: NewRun, now: Date): Promise<TrainingRun>;
  getRun(userId: string, runId: string): Promise<TrainingRun | null>;
  findRunByJobId(userId: string, jobId: string): Promise<TrainingRun | null>;
  /** The user's run in an active status, if any. */
  findActiveRun(userId: string): Promise<TrainingRun | null>;
  /** Newest first. */
  listRuns(userId: string, page: { limit: number; offset: number }): Promise<{ runs: TrainingRun[]; total: number }>;
  /**
   * Applies `patch` when `guard` holds; returns the updated run, or null when the
   * run is missing or the guard failed. Throws RunAlreadyActiveError when the
   * patch would give the user a second run in an active status.
   */
  updateRun(userId: string, runId: string, patch: RunPatch, guard: RunGuard, now: Date): Promise<TrainingRun | null>;
  /**
   * Takes the run's lease for `owner` until `expiresAt` when it is free, expired
   * or already `owner`'s. Returns the run, or null when another live owner holds it.
   */
  claimLease(userId: string, runId: string, owner: string, expiresAt: Date, now: Date): Promise<TrainingRun | null>;
  /**
   * Stores one chunk's outcome and its questions as pairs, and advances the
   * run's counters, in one transaction. Idempotent per (run, chunk): a chunk
   * recorded before is left alone (`recorded: false`). Requires the lease.
   */
  recordChunk(userId: string, runId: string, outcome: ChunkOutcome, leaseOwner: string, now: Date): Promise<RecordChunkResult>;
  /** Chunk ids this run has recorded (done or skipped). */
  listRecordedChunkIds(userId: string, runId: string): Promise<string[]>;
  /** Chunk ids with at least one pair in the user's runs with the given statuses. */
  listChunkIdsWithPairs(userId: string, statuses: readonly RunStatus[]): Promise<string[]>;
  /** Pairs of the given runs, oldest first. */
  listPairs(userId: string, runIds: readonly string[]): Promise<TrainingPair[]>;
  getSettings(userId: string): Promise<DeepMemorySettings | null>;
  /** Creates or updates the user's settings. */
  saveSettings(userId: string, patch: SettingsPatch, now: Date): Promise<DeepMemorySettings>;
  /** Stores a run's model, replacing an earlier one for the same run. */
  saveModel(model: StoredModel): Promise<void>;
  getModel(userId: string, runId: string): Promise<StoredModel | null>;
}
