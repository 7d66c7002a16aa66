import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { EventEmitter } from "eventemitter3";
import type { SearchHit } from "../domain/chunk.js";
import type { EvaluationResult, RunMetrics } from "../domain/metrics.js";
import type { ChunkOutcome, RunStatus, TrainingPair, TrainingRun } from "../domain/run.js";
import type { DeepMemorySettings } from "../domain/settings.js";
import type { RunStatistics, RunStatusSnapshot, SettingsView } from "../domain/views.js";
import {
  AbortedError,
  DeepMemoryError,
  InvalidRunStateError,
  NoTrainedModelError,
  NotFoundError,
  RunAlreadyActiveError,
  StoreError,
  ValidationError,
  toDeepMemoryError,
} from "../errors/errors.js";
import { parseOrThrow } from "../errors/validation.js";
import { isTerminalEvent, type JobEvent, type JobEventInput, type JobEventOf, type JobKind } from "../events/events.js";
import { JobRegistry, type JobInfo } from "../events/job-registry.js";
import { normalizeQuestion } from "../evaluation/split.js";
import type { QueryTransform } from "../ports/deep-memory-engine.js";
import type { QuestionGenerator } from "../ports/question-generator.js";
import type { NewRun, TrainingStore } from "../ports/training-store.js";
import { collectChunks, EmbeddingCache, embedQueries } from "./corpus.js";
import { generatePairs, type GenerationSettings } from "./generation.js";
import {
  evaluateInputSchema,
  generateInputSchema,
  importPairsInputSchema,
  listRunsInputSchema,
  runIdSchema,
  searchInputSchema,
  trainerConfigSchema,
  trainInputSchema,
  updateSettingsInputSchema,
  userIdSchema,
  type DeepMemoryTrainerConfig,
  type EvaluateInput,
  type GenerateInput,
  type ImportPairsInput,
  type ListRunsInput,
  type ResolvedTrainerOptions,
  type SearchInput,
  type TrainInput,
  type UpdateSettingsInput,
} from "./options.js";
import { runStatistics, samplePairs } from "./run-statistics.js";
import { evaluateWithStore, trainAndEvaluate, type TrainingPhaseProgress } from "./training.js";

export interface GenerateResult {
  jobId: string;
  runId: string;
  /** Chunks this run processes (only new ones when earlier completed runs cover the rest). */
  totalChunks: number;
  /** Chunks skipped because earlier completed runs already have pairs for them. */
  existingChunks: number;
  /** True when this call continued an unfinished run instead of starting a new one. */
  resumed: boolean;
}

export interface TrainResult {
  jobId: string;
  runId: string;
}

export interface ImportPairsResult {
  runId: string;
  imported: number;
  duplicatesRemoved: number;
  /** Pairs not imported because their chunk is not in the user's knowledge base. */
  unknownChunkIds: string[];
}

export interface RunDetail {
  run: TrainingRun;
  samplePairs: Pick<TrainingPair, "id" | "chunkId" | "question">[];
  statistics: RunStatistics;
}

export interface SearchResult {
  hits: SearchHit[];
  deepMemory: {
    used: boolean;
    modelRunId: string | null;
    /** Why deep memory was not applied, when it was not. */
    reason: string | null;
  };
}

export interface CompareSearchResult {
  withDeepMemory: SearchHit[];
  withoutDeepMemory: SearchHit[];
  modelRunId: string | null;
  /** Set when no model could be applied (then both lists are plain search). */
  reason: string | null;
}

export type TrainerEvents = {
  [T in JobEvent["type"]]: [JobEventOf<T>];
} & { event: [JobEvent] };

interface RunningJob {
  info: JobInfo;
  controller: AbortController;
  done: Promise<void>;
  leaseOwner: string;
  /** Set by close({ releaseLeases: false }): leave the lease to expire, as a crash would. */
  keepLease: boolean;
}

const completedOnly = ["completed"] as const satisfies readonly RunStatus[];

interface ActiveModel {
  transform: QueryTransform;
  modelRunId: string;
}

/**
 * Generates training questions for a knowledge base, trains a query-side deep
 * memory on them, evaluates it on held-out questions, and applies it at search
 * time for users who enabled it. Long operations return at once with a job id
 * and report through typed events (`trainer.on("progress", ...)` or
 * `subscribe` for one job, with replay).
 */
export class DeepMemoryTrainer extends EventEmitter<TrainerEvents> {
  readonly options: ResolvedTrainerOptions;
  private readonly config: ReturnType<typeof trainerConfigSchema.parse>;
  private readonly clock: () => Date;
  private readonly instanceId: string;
  private readonly jobs: JobRegistry;
  private readonly running = new Map<string, RunningJob>();
  private readonly cache = new EmbeddingCache();
  private readonly transforms = new Map<string, QueryTransform>();
  private closed = false;

  constructor(config: DeepMemoryTrainerConfig) {
    super();
    this.config = parseOrThrow(trainerConfigSchema, config, "DeepMemoryTrainer config");
    this.options = this.config.options;
    this.clock = this.config.clock ?? (() => new Date());
    this.instanceId = this.config.instanceId ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    this.jobs = new JobRegistry({ clock: this.clock });
    this.jobs.all.on("event", (event) => {
      this.emit("event", event);
      (this.emit as (type: string, event: JobEvent) => boolean)(event.type, event);
    });
  }

  private get store(): TrainingStore {
    return this.config.store;
  }

  // ---------------------------------------------------------------- generate

  /**
   * Starts generating question/chunk pairs for the user's knowledge base and
   * returns at once. Continues an unfinished run of the user when its worker
   * died (expired lease) or it failed while generating; otherwise starts a new
   * run over the chunks no completed run covers yet.
   * @throws RunAlreadyActiveError when a live job is already working for the user.
   */
  async generate(input: GenerateInput): Promise<GenerateResult> {
    const { userId, ...overrides } = parseOrThrow(generateInputSchema, input, "generate input");
    const generator = this.requireGenerator();
    this.assertOpen();
    const settings: GenerationSettings = {
      questionsPerChunk: overrides.questionsPerChunk ?? this.options.questionsPerChunk,
      maxPairs: overrides.maxPairs ?? this.options.maxPairs,
      concurrency: overrides.concurrency ?? this.options.concurrency,
      delayMs: overrides.delayMs ?? this.options.delayMs,
      model: overrides.model ?? this.options.generationModel,
    };

    const active = await this.store.findActiveRun(userId);
    if (active) {
      if (this.isLive(active)) throw new RunAlreadyActiveError(active.id, active.status);
      if (active.status === "training") await this.failAbandonedTraining(active);
      else return this.startGeneration(userId, active, settings, generator);
    } else {
      const latest = (await this.store.listRuns(userId, { limit: 1, offset: 0 })).runs[0];
      if (latest?.status === "failed" && latest.failedPhase === "generating") {
        return this.startGeneration(userId, latest, settings, generator);
      }
    }
    return this.startGeneration(userId, null, settings, generator);
  }

  private async startGeneration(
    userId: string,
    existing: TrainingRun | null,
    settings: GenerationSettings,
    generator: QuestionGenerator,
  ): Promise<GenerateResult> {
    const jobId = randomUUID();
    const leaseOwner = `${this.instanceId}/${jobId}`;
    const now = this.clock();
    const chunks = await collectChunks(this.config.vectorStore, userId, { pageSize: this.options.pageSize, includeEmbeddings: false });
    const covered = new Set(await this.store.listChunkIdsWithPairs(userId, completedOnly));

    let run: TrainingRun;
    let recorded = new Set<string>();
    if (existing) {
      const claimed = await this.store.claimLease(userId, existing.id, leaseOwner, this.leaseExpiry(), now);
      if (!claimed) throw new RunAlreadyActiveError(existing.id, existing.status);
      recorded = new Set(await this.store.listRecordedChunkIds(userId, existing.id));
      const pendingCount = chunks.filter((c) => !covered.has(c.id) && !recorded.has(c.id)).length;
      const resumed = await this.store.updateRun(
        userId,
        existing.id,
        {
          status: "generating",
          error: null,
          failedPhase: null,
          generateJobId: jobId,
          totalChunks: claimed.processedChunks + pendingCount,
        },
        { leaseOwner, status: ["pending", "generating", "failed"] },
        now,
      );
      if (!resumed) throw new RunAlreadyActiveError(existing.id, existing.status);
      run = resumed;
    } else {
      const pendingCount = chunks.filter((c) => !covered.has(c.id)).length;
      const newRun: NewRun = {
        id: randomUUID(),
        userId,
        status: "pending",
        totalChunks: pendingCount,
        existingChunks: chunks.length - pendingCount,
        generation: {
          questionsPerChunk: settings.questionsPerChunk,
          maxPairs: settings.maxPairs,
          model: settings.model ?? generator.model,
        },
        generateJobId: jobId,
        leaseOwner,
        leaseExpiresAt: this.leaseExpiry(),
      };
      const created = await this.store.createRun(newRun, now);
      const started = await this.store.updateRun(userId, created.id, { status: "generating" }, { leaseOwner, status: ["pending"] }, now);
      if (!started) throw new StoreError(`Run ${created.id} changed while starting`);
      run = started;
    }

    const pending = chunks.filter((c) => !covered.has(c.id) && !recorded.has(c.id));
    const knownQuestions = new Set((await this.store.listPairs(userId, [run.id])).map((p) => normalizeQuestion(p.question)));
    this.startJob({ jobId, runId: run.id, userId, kind: "generate" }, leaseOwner, async (signal) => {
      this.emitJob(jobId, { type: "started", totalChunks: run.totalChunks, resumed: existing !== null });
      this.emitGenerationProgress(jobId, run);
      try {
        let latest = run;
        await generatePairs({
          generator,
          pending,
          run,
          knownQuestions,
          settings,
          options: this.options,
          signal,
          callbacks: {
            record: async (outcome) => {
              const result = await this.store.recordChunk(userId, run.id, outcome, leaseOwner, this.clock());
              return result.run;
            },
            onRecorded: (stored, outcome) => {
              latest = stored;
              if (outcome.status === "skipped") {
                this.emitJob(jobId, { type: "chunk_skipped", chunkId: outcome.chunkId, reason: outcome.reason ?? "skipped" });
              }
              this.emitGenerationProgress(jobId, stored);
            },
          },
        });
        const finished = await this.store.updateRun(
          userId,
          run.id,
          { status: "generated", generatedAt: this.clock(), leaseOwner: null, leaseExpiresAt: null },
          { leaseOwner, status: ["generating"] },
          this.clock(),
        );
        if (!finished) throw new StoreError(`Lost the lease on run ${run.id} before it finished generating`);
        latest = finished;
        this.emitJob(jobId, {
          type: "completed",
          status: "generated",
          pairCount: latest.pairCount,
          processedChunks: latest.processedChunks,
          totalChunks: latest.totalChunks,
          capReached: latest.capReached,
        });
      } catch (error) {
        await this.failJob(userId, run.id, jobId, leaseOwner, "generating", error, signal);
      }
    });
    return { jobId, runId: run.id, totalChunks: run.totalChunks, existingChunks: run.existingChunks, resumed: existing !== null };
  }

  // ---------------------------------------------------------------- import

  /**
   * Stores real (question, chunk id) pairs, e.g. from chat logs where a user
   * found the cited chunk helpful, as a run ready to train (status "generated").
   */
  async importPairs(input: ImportPairsInput): Promise<ImportPairsResult> {
    const { userId, pairs, source } = parseOrThrow(importPairsInputSchema, input, "importPairs input");
    this.assertOpen();
    const chunks = await collectChunks(this.config.vectorStore, userId, { pageSize: this.options.pageSize, includeEmbeddings: false });
    const known = new Set(chunks.map((c) => c.id));
    const byChunk = new Map<string, string[]>();
    const unknown = new Set<string>();
    for (const pair of pairs) {
      if (!known.has(pair.chunkId)) unknown.add(pair.chunkId);
      else byChunk.set(pair.chunkId, [...(byChunk.get(pair.chunkId) ?? []), pair.question]);
    }
    if (byChunk.size === 0) {
      throw new ValidationError("None of the imported pairs names a chunk in this knowledge base", [
        { path: "pairs", message: `unknown chunk ids: ${[...unknown].slice(0, 10).join(", ")}` },
      ]);
    }
    const active = await this.store.findActiveRun(userId);
    if (active && this.isLive(active)) throw new RunAlreadyActiveError(active.id, active.status);
    const jobId = randomUUID();
    const leaseOwner = `${this.instanceId}/${jobId}`;
    const now = this.clock();
    const run = await this.store.createRun(
      {
        id: randomUUID(),
        userId,
        status: "pending",
        totalChunks: byChunk.size,
        existingChunks: 0,
        generation: { questionsPerChunk: 1, maxPairs: pairs.length, model: `import:${source}` },
        generateJobId: null,
        leaseOwner,
        leaseExpiresAt: this.leaseExpiry(),
      },
      now,
    );
    const seen = new Set<string>();
    let duplicatesRemoved = 0;
    let imported = 0;
    for (const [chunkId, questions] of byChunk) {
      const kept: string[] = [];
      for (const q of questions) {
        const key = `${normalizeQuestion(q)}\0${chunkId}`;
        if (seen.has(key)) duplicatesRemoved++;
        else {
          seen.add(key);
          kept.push(q);
        }
      }
      imported += kept.length;
      const outcome: ChunkOutcome = { chunkId, status: "done", questions: kept, reason: null, duplicatesRemoved: questions.length - kept.length, capReached: false };
      await this.store.recordChunk(userId, run.id, outcome, leaseOwner, this.clock());
    }
    await this.store.updateRun(
      userId,
      run.id,
      { status: "generated", generatedAt: this.clock(), leaseOwner: null, leaseExpiresAt: null },
      { leaseOwner },
      this.clock(),
    );
    return { runId: run.id, imported, duplicatesRemoved, unknownChunkIds: [...unknown] };
  }

  // ---------------------------------------------------------------- train

  /**
   * Trains deep memory on this run's pairs plus every earlier completed run's,
   * holding out a deterministic 10% of questions for evaluation. Returns at once.
   * @throws InvalidRunStateError unless the run's status is "generated" (or it failed while training).
   */
  async train(input: TrainInput): Promise<TrainResult> {
    const { userId, runId } = parseOrThrow(trainInputSchema, input, "train input");
    this.assertOpen();
    const run = await this.store.getRun(userId, runId);
    if (!run) throw new NotFoundError("run", runId);
    const retryable = run.status === "failed" && run.failedPhase === "training";
    if (run.status !== "generated" && !retryable) throw new InvalidRunStateError(run.id, run.status, ["generated"], "train");
    const active = await this.store.findActiveRun(userId);
    if (active && active.id !== run.id) {
      if (this.isLive(active)) throw new RunAlreadyActiveError(active.id, active.status);
      if (active.status === "training") await this.failAbandonedTraining(active);
      else throw new RunAlreadyActiveError(active.id, active.status);
    }
    const jobId = randomUUID();
    const leaseOwner = `${this.instanceId}/${jobId}`;
    const claimed = await this.store.claimLease(userId, run.id, leaseOwner, this.leaseExpiry(), this.clock());
    if (!claimed) throw new RunAlreadyActiveError(run.id, run.status);
    const started = await this.store.updateRun(
      userId,
      run.id,
      { status: "training", trainJobId: jobId, error: null, failedPhase: null },
      { leaseOwner, status: [run.status] },
      this.clock(),
    );
    if (!started) throw new InvalidRunStateError(run.id, "changed", ["generated"], "train");

    this.startJob({ jobId, runId, userId, kind: "train" }, leaseOwner, async (signal) => {
      this.emitJob(jobId, { type: "started", totalChunks: started.totalChunks, resumed: false });
      try {
        const earlier = await this.completedRunIds(userId);
        const pairs = await this.store.listPairs(userId, [runId, ...earlier.filter((id) => id !== runId)]);
        const chunks = await collectChunks(this.config.vectorStore, userId, {
          pageSize: this.options.pageSize,
          includeEmbeddings: true,
          signal,
        });
        const progress = (p: TrainingPhaseProgress) => this.emitTrainingProgress(jobId, started, p);
        const { model, metrics } = await trainAndEvaluate({
          userId,
          pairs,
          chunks,
          vectorStore: this.config.vectorStore,
          embedder: this.config.embedder,
          engine: this.config.engine,
          cache: this.cache,
          options: this.options,
          signal,
          onProgress: progress,
        });
        const now = this.clock();
        await this.store.saveModel({
          runId,
          userId,
          engine: this.config.engine.name,
          format: model.format,
          dimensions: model.dimensions,
          embeddingModel: this.config.embedder.model,
          weights: model.weights,
          metrics: metrics as unknown as Record<string, unknown>,
          createdAt: now,
        });
        const done = await this.store.updateRun(
          userId,
          runId,
          { status: "completed", metrics, completedAt: now, leaseOwner: null, leaseExpiresAt: null },
          { leaseOwner, status: ["training"] },
          now,
        );
        if (!done) throw new StoreError(`Lost the lease on run ${runId} before it finished training`);
        await this.store.saveSettings(
          userId,
          {
            lastTrainedAt: now,
            lastTrainingRunId: runId,
            ...(metrics.verdict === "improved" ? { modelRunId: runId } : {}),
          },
          now,
        );
        this.emitJob(jobId, {
          type: "completed",
          status: "completed",
          pairCount: done.pairCount,
          processedChunks: done.processedChunks,
          totalChunks: done.totalChunks,
          capReached: done.capReached,
          metrics,
        });
      } catch (error) {
        await this.failJob(userId, runId, jobId, leaseOwner, "training", error, signal);
      }
    });
    return { jobId, runId };
  }

  // ---------------------------------------------------------------- evaluate & search

  /**
   * Recall@k (Activeloop's definition), nDCG@10 and MRR@10 with and without
   * deep memory for the given questions.
   */
  async evaluate(input: EvaluateInput): Promise<EvaluationResult> {
    const { userId, queries, relevance, topK, runId } = parseOrThrow(evaluateInputSchema, input, "evaluate input");
    const settings = await this.store.getSettings(userId);
    const modelRunId = runId ?? settings?.modelRunId ?? settings?.lastTrainingRunId ?? null;
    if (!modelRunId) throw new NoTrainedModelError("No trained deep memory to evaluate: train a run first");
    const transform = await this.loadTransform(userId, modelRunId);
    if ("reason" in transform) throw new NoTrainedModelError(transform.reason);
    const vectors = await embedQueries(this.config.embedder, queries, this.options.embedBatchSize);
    return evaluateWithStore({
      userId,
      vectorStore: this.config.vectorStore,
      queryVectors: vectors,
      relevant: relevance.map((list) => new Set(list.filter(([, score]) => score > 0).map(([id]) => id))),
      transform: transform.transform,
      topK,
    });
  }

  /**
   * What the host's chat retrieval calls: embeds the query, applies the user's
   * deep memory when enabled, and searches the vector store.
   */
  async search(input: SearchInput): Promise<SearchResult> {
    const { userId, query, k, deepMemory } = parseOrThrow(searchInputSchema, input, "search input");
    const [vector] = await embedQueries(this.config.embedder, [query], 1);
    let model: ActiveModel | { reason: string } = { reason: "deep memory was turned off for this search" };
    if (deepMemory !== "off") {
      const settings = await this.store.getSettings(userId);
      model = deepMemory === "auto" && !settings?.enabled ? { reason: "deep memory is disabled for this user" } : await this.activeModel(userId, settings);
    }
    if ("reason" in model) {
      const hits = await this.config.vectorStore.search({ userId, embedding: vector!, k });
      return { hits, deepMemory: { used: false, modelRunId: null, reason: model.reason } };
    }
    const hits = await this.config.vectorStore.search({ userId, embedding: model.transform.apply(vector!), k });
    return { hits, deepMemory: { used: true, modelRunId: model.modelRunId, reason: null } };
  }

  /** The same query with and without deep memory, for admin screens. */
  async compareSearch(input: Omit<SearchInput, "deepMemory">): Promise<CompareSearchResult> {
    const { userId, query, k } = parseOrThrow(searchInputSchema, input, "search input");
    const [vector] = await embedQueries(this.config.embedder, [query], 1);
    const model = await this.activeModel(userId, await this.store.getSettings(userId));
    const without = await this.config.vectorStore.search({ userId, embedding: vector!, k });
    if ("reason" in model) return { withDeepMemory: without, withoutDeepMemory: without, modelRunId: null, reason: model.reason };
    const withModel = await this.config.vectorStore.search({ userId, embedding: model.transform.apply(vector!), k });
    return { withDeepMemory: withModel, withoutDeepMemory: without, modelRunId: model.modelRunId, reason: null };
  }

  // ---------------------------------------------------------------- runs, status, settings

  async listRuns(input: ListRunsInput): Promise<{ runs: TrainingRun[]; total: number; limit: number; offset: number }> {
    const { userId, limit, offset } = parseOrThrow(listRunsInputSchema, input, "listRuns input");
    const { runs, total } = await this.store.listRuns(userId, { limit, offset });
    return { runs, total, limit, offset };
  }

  /** The run alone, without its pairs: one store read, cheap enough to poll. */
  async getRunSummary(input: { userId: string; runId: string }): Promise<TrainingRun> {
    const userId = parseOrThrow(userIdSchema, input.userId, "userId");
    const runId = parseOrThrow(runIdSchema, input.runId, "runId");
    const run = await this.store.getRun(userId, runId);
    if (!run) throw new NotFoundError("run", runId);
    return run;
  }

  /** The run with a sample of its pairs and statistics over all of them, for review. */
  async getRun(input: { userId: string; runId: string }): Promise<RunDetail> {
    const run = await this.getRunSummary(input);
    const pairs = await this.store.listPairs(run.userId, [run.id]);
    return {
      run,
      samplePairs: samplePairs(pairs, this.options.samplePairs, this.options.seed).map(({ id, chunkId, question }) => ({ id, chunkId, question })),
      statistics: runStatistics(run, pairs),
    };
  }

  /** Status by job id or run id. */
  async getStatus(input: { userId: string; id: string }): Promise<RunStatusSnapshot> {
    const userId = parseOrThrow(userIdSchema, input.userId, "userId");
    const id = parseOrThrow(runIdSchema, input.id, "id");
    const job = this.jobs.get(userId, id);
    const run = job
      ? await this.store.getRun(userId, job.runId)
      : ((await this.store.getRun(userId, id)) ?? (await this.store.findRunByJobId(userId, id)));
    if (!run) throw new NotFoundError("run", id);
    const current = job ?? this.jobs.activeJobForRun(run.id) ?? this.lastJobOf(userId, run);
    const events = current ? this.jobs.history(userId, current.jobId) : [];
    const lastProgress = events.findLast((e): e is JobEventOf<"progress"> => e.type === "progress");
    const terminal = events.find(isTerminalEvent);
    const percent = run.status === "completed" || run.status === "generated" ? 100 : (lastProgress?.percent ?? 0);
    return {
      runId: run.id,
      jobId: current?.jobId ?? (run.trainJobId ?? run.generateJobId),
      kind: current?.kind ?? null,
      status: run.status,
      active: (current?.active ?? false) && !terminal,
      phase: lastProgress?.phase ?? null,
      processedChunks: run.processedChunks,
      totalChunks: run.totalChunks,
      pairCount: run.pairCount,
      percent,
      error: run.error,
      metrics: run.metrics,
    };
  }

  async getSettings(input: { userId: string }): Promise<SettingsView> {
    const userId = parseOrThrow(userIdSchema, input.userId, "userId");
    return this.settingsView(userId, await this.store.getSettings(userId));
  }

  /**
   * Turns deep memory on or off for the user. Search picks the change up on
   * its next call; nothing is re-indexed.
   * @throws NoTrainedModelError when enabling with no completed run that beat the baseline.
   */
  async updateSettings(input: UpdateSettingsInput): Promise<SettingsView> {
    const { userId, enabled } = parseOrThrow(updateSettingsInputSchema, input, "settings");
    // Whether enabling is allowed does not depend on `enabled` itself: work it out once for the check and the answer.
    const blocker = await this.enableBlocker(userId, await this.store.getSettings(userId));
    if (enabled && blocker) throw new NoTrainedModelError(blocker);
    return this.settingsView(userId, await this.store.saveSettings(userId, { enabled }, this.clock()), blocker);
  }

  // ---------------------------------------------------------------- job events

  /**
   * Replays the job's events after `after` (a seq, e.g. SSE Last-Event-ID),
   * then follows it live until its terminal event. Returns the unsubscribe.
   * @throws NotFoundError for an unknown job or another user's.
   */
  subscribe(input: { userId: string; jobId: string; after?: number }, listener: (event: JobEvent) => void): () => void {
    return this.jobs.subscribe(input.userId, input.jobId, listener, input.after === undefined ? {} : { after: input.after });
  }

  /** The job's events as an async iterable that ends after the terminal event or when `signal` aborts. */
  async *jobEvents(input: { userId: string; jobId: string; after?: number; signal?: AbortSignal }): AsyncGenerator<JobEvent> {
    const queue: JobEvent[] = [];
    let wake: (() => void) | null = null;
    const unsubscribe = this.subscribe(input, (event) => {
      queue.push(event);
      wake?.();
    });
    const onAbort = () => wake?.();
    input.signal?.addEventListener("abort", onAbort);
    try {
      while (!input.signal?.aborted) {
        const event = queue.shift();
        if (event) {
          yield event;
          if (isTerminalEvent(event)) return;
          continue;
        }
        if (!this.jobs.get(input.userId, input.jobId)?.active) return;
        await new Promise<void>((resolve) => (wake = resolve));
        wake = null;
      }
    } finally {
      unsubscribe();
      input.signal?.removeEventListener("abort", onAbort);
    }
  }

  /** The job if it ran in this process and belongs to the user. */
  getJob(input: { userId: string; jobId: string }): JobInfo | null {
    return this.jobs.get(input.userId, input.jobId);
  }

  /** Live listeners on a job (servers use it to prove streams are released). */
  jobListenerCount(jobId: string): number {
    return this.jobs.listenerCount(jobId);
  }

  /** Resolves with the job's terminal event. */
  async waitForJob(input: { userId: string; jobId: string }): Promise<JobEventOf<"completed" | "failed">> {
    for await (const event of this.jobEvents(input)) if (isTerminalEvent(event)) return event;
    throw new NotFoundError("job", input.jobId);
  }

  /**
   * Stops background jobs. With `releaseLeases` (the default) their runs are
   * left resumable at once by another process; without it they stay leased
   * until the lease expires, as after a crash.
   */
  async close(options: { releaseLeases?: boolean } = {}): Promise<void> {
    this.closed = true;
    const release = options.releaseLeases ?? true;
    const jobs = [...this.running.values()];
    for (const job of jobs) {
      job.keepLease = !release;
      job.controller.abort(new AbortedError("The trainer was closed"));
    }
    await Promise.allSettled(jobs.map((j) => j.done));
  }

  // ---------------------------------------------------------------- internals

  private startJob(
    info: Omit<JobInfo, "active" | "createdAt">,
    leaseOwner: string,
    work: (signal: AbortSignal) => Promise<void>,
  ): RunningJob {
    this.jobs.create(info);
    const controller = new AbortController();
    const heartbeat = setInterval(() => {
      void this.store
        .updateRun(info.userId, info.runId, { leaseExpiresAt: this.leaseExpiry() }, { leaseOwner }, this.clock())
        .then((run) => {
          if (!run) controller.abort(new StoreError("Another worker took over this run"));
        })
        .catch(() => {
          // A missed heartbeat is retried on the next tick; the lease outlives several ticks.
        });
    }, Math.max(50, Math.floor(this.options.leaseMs / 3)));
    heartbeat.unref?.();
    const job: RunningJob = { info: this.jobs.get(info.userId, info.jobId)!, controller, leaseOwner, keepLease: false, done: Promise.resolve() };
    job.done = (async () => {
      try {
        await work(controller.signal);
      } finally {
        clearInterval(heartbeat);
        this.running.delete(info.jobId);
      }
    })();
    this.running.set(info.jobId, job);
    return job;
  }

  private async failJob(
    userId: string,
    runId: string,
    jobId: string,
    leaseOwner: string,
    phase: "generating" | "training",
    error: unknown,
    signal: AbortSignal,
  ): Promise<void> {
    const running = this.running.get(jobId);
    const closing = signal.aborted && this.closed;
    const failure = toDeepMemoryError(closing ? (signal.reason ?? error) : error);
    try {
      if (closing) {
        // Shutting down is not a failure of the run: leave it resumable.
        if (!running?.keepLease) {
          await this.store.updateRun(userId, runId, { leaseOwner: null, leaseExpiresAt: null }, { leaseOwner }, this.clock());
        }
      } else {
        await this.store.updateRun(
          userId,
          runId,
          { status: "failed", error: failure.message, failedPhase: phase, leaseOwner: null, leaseExpiresAt: null },
          { leaseOwner },
          this.clock(),
        );
      }
    } catch {
      // The store itself is failing; the expired lease lets the next call resume the run.
    }
    this.emitJob(jobId, { type: "failed", error: { code: failure.code, message: failure.message } });
  }

  private emitJob(jobId: string, event: JobEventInput): void {
    this.jobs.emit(jobId, event);
  }

  private emitGenerationProgress(jobId: string, run: TrainingRun): void {
    this.emitJob(jobId, {
      type: "progress",
      phase: "generating",
      processed: run.processedChunks,
      total: run.totalChunks,
      percent: run.totalChunks === 0 ? 100 : Math.min(100, (run.processedChunks / run.totalChunks) * 100),
      pairCount: run.pairCount,
      skippedChunks: run.skippedChunks,
    });
  }

  private emitTrainingProgress(jobId: string, run: TrainingRun, p: TrainingPhaseProgress): void {
    // Embedding takes the first 20% of the bar, training 70%, evaluation the rest.
    const base = { pairCount: run.pairCount, skippedChunks: run.skippedChunks };
    if (p.phase === "training") {
      const fraction = p.epochs === 0 ? 1 : p.epoch / p.epochs;
      this.emitJob(jobId, {
        type: "progress",
        phase: "training",
        processed: p.epoch,
        total: p.epochs,
        percent: 20 + 70 * fraction,
        epoch: p.epoch,
        loss: p.loss,
        validationRecallAt10: p.validationRecallAt10,
        ...base,
      });
    } else {
      const fraction = p.total === 0 ? 1 : p.done / p.total;
      this.emitJob(jobId, {
        type: "progress",
        phase: p.phase,
        processed: p.done,
        total: p.total,
        percent: p.phase === "embedding" ? 20 * fraction : 90 + 10 * fraction,
        ...base,
      });
    }
  }

  private lastJobOf(userId: string, run: TrainingRun): JobInfo | null {
    for (const id of [run.trainJobId, run.generateJobId]) {
      const job = id ? this.jobs.get(userId, id) : null;
      if (job) return job;
    }
    return null;
  }

  private isLive(run: TrainingRun): boolean {
    if (this.jobs.activeJobForRun(run.id)) return true;
    return run.leaseOwner !== null && (run.leaseExpiresAt?.getTime() ?? 0) > this.clock().getTime();
  }

  private async failAbandonedTraining(run: TrainingRun): Promise<void> {
    await this.store.updateRun(
      run.userId,
      run.id,
      {
        status: "failed",
        failedPhase: "training",
        error: "Training was interrupted (its process stopped); start training again",
        leaseOwner: null,
        leaseExpiresAt: null,
      },
      { status: ["training"] },
      this.clock(),
    );
  }

  private async completedRunIds(userId: string): Promise<string[]> {
    const ids: string[] = [];
    for (let offset = 0; ; offset += 100) {
      const { runs, total } = await this.store.listRuns(userId, { limit: 100, offset });
      ids.push(...runs.filter((r) => r.status === "completed").map((r) => r.id));
      if (offset + 100 >= total || runs.length === 0) return ids;
    }
  }

  private async settingsView(userId: string, settings: DeepMemorySettings | null, knownBlocker?: string | null): Promise<SettingsView> {
    const [chunks, covered, blocker] = await Promise.all([
      collectChunks(this.config.vectorStore, userId, { pageSize: this.options.pageSize, includeEmbeddings: false }),
      this.store.listChunkIdsWithPairs(userId, completedOnly),
      knownBlocker !== undefined ? knownBlocker : this.enableBlocker(userId, settings),
    ]);
    const coveredSet = new Set(covered);
    return {
      enabled: settings?.enabled ?? false,
      lastTrainedAt: settings?.lastTrainedAt ?? null,
      lastTrainingRunId: settings?.lastTrainingRunId ?? null,
      modelRunId: settings?.modelRunId ?? null,
      canEnable: blocker === null,
      cannotEnableReason: blocker,
      newChunksSinceLastTraining: chunks.filter((c) => !coveredSet.has(c.id)).length,
    };
  }

  private async enableBlocker(userId: string, settings: DeepMemorySettings | null): Promise<string | null> {
    if (!settings?.lastTrainingRunId) return "No completed training run yet: generate training data and train first";
    if (!settings.modelRunId) {
      const last = await this.store.getRun(userId, settings.lastTrainingRunId);
      return last?.metrics?.reason ?? "No trained model beats plain search on held-out questions";
    }
    const model = await this.activeModel(userId, settings);
    return "reason" in model ? model.reason : null;
  }

  /** The model search applies for the user's settings, or why there is none. */
  private async activeModel(userId: string, settings: DeepMemorySettings | null): Promise<ActiveModel | { reason: string }> {
    const modelRunId = settings?.modelRunId ?? null;
    if (!modelRunId) return { reason: "no trained deep memory that beats plain search" };
    const loaded = await this.loadTransform(userId, modelRunId);
    return "reason" in loaded ? loaded : { transform: loaded.transform, modelRunId };
  }

  private async loadTransform(userId: string, runId: string): Promise<{ transform: QueryTransform } | { reason: string }> {
    const cached = this.transforms.get(`${userId}\0${runId}`);
    if (cached) return { transform: cached };
    const model = await this.store.getModel(userId, runId);
    if (!model) return { reason: `Run ${runId} has no stored deep memory model` };
    if (model.embeddingModel !== this.config.embedder.model) {
      return {
        reason: `The model of run ${runId} was trained on ${model.embeddingModel} embeddings, but the embedder is ${this.config.embedder.model}; train again`,
      };
    }
    const transform = this.config.engine.load(model);
    if (this.transforms.size >= 64) this.transforms.delete(this.transforms.keys().next().value!);
    this.transforms.set(`${userId}\0${runId}`, transform);
    return { transform };
  }

  private requireGenerator(): QuestionGenerator {
    if (!this.config.generator) {
      throw new ValidationError("This trainer has no question generator; pass `generator` to generate pairs, or use importPairs", [
        { path: "generator", message: "required for generate" },
      ]);
    }
    return this.config.generator;
  }

  private leaseExpiry(): Date {
    return new Date(this.clock().getTime() + this.options.leaseMs);
  }

  private assertOpen(): void {
    if (this.closed) throw new DeepMemoryError("ABORTED", "This trainer was closed");
  }
}
