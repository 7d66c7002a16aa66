import { randomUUID } from "node:crypto";
import type { RunPatch, RunStatus, TrainingPair, TrainingRun, ChunkOutcome } from "../../domain/run.js";
import { activeRunStatuses } from "../../domain/run.js";
import type { DeepMemorySettings, SettingsPatch, StoredModel } from "../../domain/settings.js";
import { RunAlreadyActiveError, StoreError } from "../../errors/errors.js";
import type { NewRun, RecordChunkResult, RunGuard, TrainingStore } from "../../ports/training-store.js";

interface ChunkRecord {
  runId: string;
  chunkId: string;
  status: "done" | "skipped";
  reason: string | null;
}

const isActive = (status: RunStatus) => (activeRunStatuses as readonly RunStatus[]).includes(status);

/**
 * A TrainingStore in process memory: for tests, demos and single-process hosts
 * that do not need runs to survive a restart. Every method completes without
 * awaiting in between, so each one is atomic like a SQL transaction.
 */
export class InMemoryTrainingStore implements TrainingStore {
  private readonly runs = new Map<string, TrainingRun>();
  private readonly pairs = new Map<string, TrainingPair[]>();
  private readonly chunks = new Map<string, Map<string, ChunkRecord>>();
  private readonly settings = new Map<string, DeepMemorySettings>();
  private readonly models = new Map<string, StoredModel>();

  async createRun(input: NewRun, now: Date): Promise<TrainingRun> {
    if (this.runs.has(input.id)) throw new StoreError(`Run ${input.id} already exists`);
    if (isActive(input.status)) this.assertNoOtherActive(input.userId, input.id);
    const run: TrainingRun = {
      ...input,
      processedChunks: 0,
      skippedChunks: 0,
      pairCount: 0,
      duplicatesRemoved: 0,
      capReached: false,
      metrics: null,
      error: null,
      failedPhase: null,
      trainJobId: null,
      createdAt: now,
      updatedAt: now,
      generatedAt: null,
      completedAt: null,
    };
    this.runs.set(run.id, run);
    return structuredClone(run);
  }

  async getRun(userId: string, runId: string): Promise<TrainingRun | null> {
    const run = this.ownRun(userId, runId);
    return run ? structuredClone(run) : null;
  }

  async findRunByJobId(userId: string, jobId: string): Promise<TrainingRun | null> {
    for (const run of this.runs.values()) {
      if (run.userId === userId && (run.generateJobId === jobId || run.trainJobId === jobId)) return structuredClone(run);
    }
    return null;
  }

  async findActiveRun(userId: string): Promise<TrainingRun | null> {
    for (const run of this.runs.values()) if (run.userId === userId && isActive(run.status)) return structuredClone(run);
    return null;
  }

  async listRuns(userId: string, page: { limit: number; offset: number }) {
    const own = [...this.runs.values()]
      .filter((r) => r.userId === userId)
      .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : -1));
    return { runs: own.slice(page.offset, page.offset + page.limit).map((r) => structuredClone(r)), total: own.length };
  }

  async updateRun(userId: string, runId: string, patch: RunPatch, guard: RunGuard, now: Date) {
    const run = this.ownRun(userId, runId);
    if (!run || !guardHolds(run, guard)) return null;
    if (patch.status && isActive(patch.status) && !isActive(run.status)) this.assertNoOtherActive(userId, runId);
    Object.assign(run, structuredClone(patch), { updatedAt: now });
    return structuredClone(run);
  }

  async claimLease(userId: string, runId: string, owner: string, expiresAt: Date, now: Date) {
    const run = this.ownRun(userId, runId);
    if (!run) return null;
    const free = run.leaseOwner === null || run.leaseOwner === owner || (run.leaseExpiresAt?.getTime() ?? 0) <= now.getTime();
    if (!free) return null;
    Object.assign(run, { leaseOwner: owner, leaseExpiresAt: expiresAt, updatedAt: now });
    return structuredClone(run);
  }

  async recordChunk(userId: string, runId: string, outcome: ChunkOutcome, leaseOwner: string, now: Date): Promise<RecordChunkResult> {
    const run = this.ownRun(userId, runId);
    if (!run) throw new StoreError(`Run ${runId} not found`);
    if (run.leaseOwner !== leaseOwner) throw new StoreError(`Lease on run ${runId} is held by another worker`);
    const recorded = this.chunks.get(runId) ?? new Map<string, ChunkRecord>();
    this.chunks.set(runId, recorded);
    if (recorded.has(outcome.chunkId)) return { recorded: false, run: structuredClone(run) };
    recorded.set(outcome.chunkId, { runId, chunkId: outcome.chunkId, status: outcome.status, reason: outcome.reason });
    const list = this.pairs.get(runId) ?? [];
    this.pairs.set(runId, list);
    for (const question of outcome.questions) {
      list.push({ id: randomUUID(), runId, userId, chunkId: outcome.chunkId, question, createdAt: now });
    }
    run.processedChunks += 1;
    run.skippedChunks += outcome.status === "skipped" ? 1 : 0;
    run.pairCount += outcome.questions.length;
    run.duplicatesRemoved += outcome.duplicatesRemoved;
    run.capReached ||= outcome.capReached;
    run.updatedAt = now;
    return { recorded: true, run: structuredClone(run) };
  }

  async listRecordedChunkIds(userId: string, runId: string): Promise<string[]> {
    if (!this.ownRun(userId, runId)) return [];
    return [...(this.chunks.get(runId)?.keys() ?? [])];
  }

  async listChunkIdsWithPairs(userId: string, statuses: readonly RunStatus[]): Promise<string[]> {
    const ids = new Set<string>();
    for (const run of this.runs.values()) {
      if (run.userId !== userId || !statuses.includes(run.status)) continue;
      for (const pair of this.pairs.get(run.id) ?? []) ids.add(pair.chunkId);
    }
    return [...ids];
  }

  async listPairs(userId: string, runIds: readonly string[]): Promise<TrainingPair[]> {
    const out: TrainingPair[] = [];
    for (const runId of runIds) if (this.ownRun(userId, runId)) out.push(...(this.pairs.get(runId) ?? []));
    return structuredClone(out).sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
  }

  async getSettings(userId: string): Promise<DeepMemorySettings | null> {
    const s = this.settings.get(userId);
    return s ? structuredClone(s) : null;
  }

  async saveSettings(userId: string, patch: SettingsPatch, now: Date): Promise<DeepMemorySettings> {
    const current = this.settings.get(userId) ?? {
      userId,
      enabled: false,
      lastTrainedAt: null,
      lastTrainingRunId: null,
      modelRunId: null,
      updatedAt: now,
    };
    const next = { ...current, ...structuredClone(patch), userId, updatedAt: now };
    this.settings.set(userId, next);
    return structuredClone(next);
  }

  async saveModel(model: StoredModel): Promise<void> {
    if (!this.ownRun(model.userId, model.runId)) throw new StoreError(`Run ${model.runId} not found`);
    this.models.set(model.runId, { ...structuredClone(model), weights: model.weights.slice() });
  }

  async getModel(userId: string, runId: string): Promise<StoredModel | null> {
    const model = this.models.get(runId);
    return model && model.userId === userId ? { ...structuredClone(model), weights: model.weights.slice() } : null;
  }

  private ownRun(userId: string, runId: string): TrainingRun | undefined {
    const run = this.runs.get(runId);
    return run && run.userId === userId ? run : undefined;
  }

  private assertNoOtherActive(userId: string, runId: string): void {
    for (const run of this.runs.values()) {
      if (run.userId === userId && run.id !== runId && isActive(run.status)) throw new RunAlreadyActiveError(run.id, run.status);
    }
  }
}

function guardHolds(run: TrainingRun, guard: RunGuard): boolean {
  if (guard.status && !guard.status.includes(run.status)) return false;
  if (guard.leaseOwner !== undefined && run.leaseOwner !== guard.leaseOwner) return false;
  return true;
}
