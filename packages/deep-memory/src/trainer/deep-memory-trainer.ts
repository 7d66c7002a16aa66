import { EventEmitter } from "eventemitter3";
import type { EvaluationResult } from "../domain/metrics.js";
import type { TrainingRun } from "../domain/run.js";
import type { RunStatusSnapshot, SettingsView } from "../domain/views.js";
import { AbortedError, NotFoundError, ValidationError } from "../errors/errors.js";
import { parseOrThrow } from "../errors/validation.js";
import { isTerminalEvent, type JobEvent, type JobEventOf, type TerminalJobEvent } from "../events/events.js";
import { JobRegistry, type JobInfo } from "../events/job-registry.js";
import { cancelJob, type CancelInput, type CancelResult } from "./cancel.js";
import type { TrainerContext } from "./context.js";
import { EmbeddingCache } from "./corpus.js";
import { generate, type GenerateResult } from "./generate-run.js";
import { importPairs, type ImportPairsResult } from "./import-pairs.js";
import { TrainerJobEvents } from "./job-events.js";
import { JobRunner } from "./job-runner.js";
import { currentProcess } from "./lease-holder.js";
import { ModelCache } from "./model-cache.js";
import { exportModel, importModel, type ExportModelInput, type ImportModelInput, type ImportModelResult } from "./model-files.js";
import {
  trainerConfigSchema,
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
import { RunLeases } from "./run-leases.js";
import { getRun, getRunSummary, getStatus, listRuns, type RunDetail, type RunPage } from "./run-views.js";
import {
  applyDeepMemory,
  getQueryTransform,
  type ApplyDeepMemoryInput,
  type ApplyDeepMemoryResult,
  type GetQueryTransformInput,
  type QueryTransformLookup,
} from "./query-transform.js";
import { Retrieval, type CompareSearchResult, type SearchResult } from "./search.js";
import { SettingsService } from "./settings.js";
import { train, type TrainResult } from "./train-run.js";
import { workerTaskHandler } from "./worker-tasks.js";

export type { CancelInput, CancelResult } from "./cancel.js";
export type { GenerateResult } from "./generate-run.js";
export type { ImportPairsResult } from "./import-pairs.js";
export type { ExportModelInput, ImportModelInput, ImportModelResult } from "./model-files.js";
export type { ApplyDeepMemoryInput, ApplyDeepMemoryResult, GetQueryTransformInput, QueryTransformLookup } from "./query-transform.js";
export type { RunDetail, RunPage } from "./run-views.js";
export type { CompareSearchResult, SearchResult } from "./search.js";
export type { TrainResult } from "./train-run.js";

/** Aborting it cancels the job the call started or joined (as `trainer.cancel` does), with the signal's reason. */
export interface JobSignalOption {
  signal?: AbortSignal;
}

export type TrainerEvents = {
  [T in JobEvent["type"]]: [JobEventOf<T>];
} & { event: [JobEvent] };

/**
 * Generates training questions for a knowledge base, trains a query-side deep
 * memory on them, evaluates it on held-out questions, and applies it at search
 * time for users who enabled it. Long operations return at once with a job id
 * and report through typed events (`trainer.on("progress", ...)` or
 * `subscribe` for one job, with replay).
 *
 * A facade: each job lives in its own module (generate-run, import-pairs,
 * train-run), beside run leases, retrieval, settings and run views.
 */
export class DeepMemoryTrainer extends EventEmitter<TrainerEvents> {
  readonly options: ResolvedTrainerOptions;
  private readonly ctx: TrainerContext;
  private readonly retrieval: Retrieval;
  private readonly settings: SettingsService;

  constructor(config: DeepMemoryTrainerConfig) {
    super();
    const resolved = parseOrThrow(trainerConfigSchema, config, "DeepMemoryTrainer config");
    this.options = resolved.options;
    const clock = resolved.clock ?? (() => new Date());
    const jobs = new JobRegistry({ clock });
    const queue = resolved.jobRunner?.kind === "queue" ? resolved.jobRunner : null;
    if (queue && !resolved.events) {
      throw new ValidationError("A queue jobRunner needs `events` (a shared job event log): workers report through it", [
        { path: "events", message: "required with a queue jobRunner" },
      ]);
    }
    const events = new TrainerJobEvents(jobs, resolved.events ?? null, clock, this.options.progressIntervalMs);
    const leases = new RunLeases(resolved.store, jobs, currentProcess(resolved.instanceId), this.options.leaseMs, clock, queue);
    const runner = new JobRunner(resolved.store, events, leases, this.options.leaseMs, clock, queue);
    this.ctx = { config: resolved, options: this.options, clock, jobs, runner, leases, cache: new EmbeddingCache() };
    this.retrieval = new Retrieval(this.ctx, new ModelCache());
    this.settings = new SettingsService(this.ctx, this.retrieval);
    jobs.all.on("event", (event) => {
      this.emit("event", event);
      (this.emit as (type: string, event: JobEvent) => boolean)(event.type, event);
    });
  }

  /**
   * Starts generating question/chunk pairs for the chunks no run covers yet and
   * returns at once. While a job already generates for the user, returns that
   * job (`joined`); a run whose worker died or that failed while generating is
   * resumed where it stopped (`resumed`).
   * @throws NothingToGenerateError when every chunk already has pairs.
   * @throws RunAlreadyActiveError while the user's run trains or imports (with `retryAfterMs`).
   */
  generate(input: GenerateInput & JobSignalOption): Promise<GenerateResult> {
    const { signal, ...rest } = input;
    return this.startJob(signal, rest.userId, () => generate(this.ctx, rest));
  }

  /** Stores real (question, chunk id) pairs as a run ready to train (status "generated"). */
  importPairs(input: ImportPairsInput): Promise<ImportPairsResult> {
    return this.open(() => importPairs(this.ctx, input));
  }

  /**
   * Trains deep memory on this run's pairs plus every other finished run's,
   * holding out a deterministic 10% of questions for evaluation. Returns at once.
   * @throws InvalidRunStateError unless the run's status is "generated" (or it failed while training).
   */
  train(input: TrainInput & JobSignalOption): Promise<TrainResult> {
    const { signal, ...rest } = input;
    return this.startJob(signal, rest.userId, () => train(this.ctx, rest));
  }

  /**
   * Cancels a generate or train job, promptly: calls to the LLM in flight are
   * aborted, a training thread is stopped. The run is stored as failed with
   * the reason (error "Cancelled: ..."): generate resumes a cancelled
   * generation where it stopped, train trains a cancelled training run again.
   * The job ends with a `cancelled` event. Works for a job of another process
   * too (it stops when it next renews its lease).
   * @throws NotFoundError for an unknown job or another user's.
   * @throws InvalidRunStateError when the job has finished already.
   */
  cancel(input: CancelInput): Promise<CancelResult> {
    return cancelJob(this.ctx, input);
  }

  /** Recall@k, nDCG@10 and MRR@10 with and without deep memory for the given questions. */
  evaluate(input: EvaluateInput): Promise<EvaluationResult> {
    return this.retrieval.evaluate(input);
  }

  /** What the host's chat retrieval calls: applies the user's deep memory when enabled. */
  search(input: SearchInput): Promise<SearchResult> {
    return this.retrieval.search(input);
  }

  /** The same query with and without deep memory, for admin screens. */
  compareSearch(input: Omit<SearchInput, "deepMemory">): Promise<CompareSearchResult> {
    return this.retrieval.compareSearch(input);
  }

  /**
   * The user's deep memory as a function of a query embedding, for hosts that
   * search with their own client (LangChain, raw pgvector). `transform` is
   * null, with the reason, when none applies (disabled, no model, another
   * embedding model); apply it to unit-length query embeddings.
   */
  getQueryTransform(input: GetQueryTransformInput): Promise<QueryTransformLookup> {
    return getQueryTransform(this.ctx, this.retrieval, input);
  }

  /** The embedding to search with: transformed when the user's deep memory applies, else the input unchanged. */
  applyDeepMemory(input: ApplyDeepMemoryInput): Promise<ApplyDeepMemoryResult> {
    return applyDeepMemory(this.ctx, this.retrieval, input);
  }

  /**
   * A run's trained model as a portable file (bytes; format in docs/integrations/model-files.md).
   * Without `runId`, the model search applies for the user.
   */
  exportModel(input: ExportModelInput): Promise<Uint8Array> {
    return exportModel(this.ctx, input);
  }

  /**
   * Stores a model file as a completed run the user can enable; with
   * `activate` (the default) search applies it once enabled. The same file
   * imported again changes nothing.
   * @throws ModelFileInvalidError for a damaged or foreign file.
   * @throws ModelIncompatibleError for a model of another embedding model, dimension or engine.
   */
  importModel(input: ImportModelInput): Promise<ImportModelResult> {
    return this.open(() => importModel(this.ctx, input));
  }

  listRuns(input: ListRunsInput): Promise<RunPage> {
    return listRuns(this.ctx, input);
  }

  /** The run alone, without its pairs: one store read, cheap enough to poll. */
  getRunSummary(input: { userId: string; runId: string }): Promise<TrainingRun> {
    return getRunSummary(this.ctx, input);
  }

  /** The run with a sample of its pairs and statistics over all of them, for review. */
  getRun(input: { userId: string; runId: string }): Promise<RunDetail> {
    return getRun(this.ctx, input);
  }

  /** Status by job id or run id. */
  getStatus(input: { userId: string; id: string }): Promise<RunStatusSnapshot> {
    return getStatus(this.ctx, input);
  }

  getSettings(input: { userId: string }): Promise<SettingsView> {
    return this.settings.get(input);
  }

  /**
   * Turns deep memory on or off for the user. Search picks the change up on
   * its next call; nothing is re-indexed.
   * @throws NoTrainedModelError when enabling with no completed run that beat the baseline.
   */
  updateSettings(input: UpdateSettingsInput): Promise<SettingsView> {
    return this.settings.update(input);
  }

  /**
   * Replays the job's events after `after` (a seq, e.g. SSE Last-Event-ID),
   * then follows it live until its terminal event. Returns the unsubscribe.
   * With an event log (`events`) it reads the log, so it follows jobs of any
   * process; an unknown job then delivers nothing (use jobEvents to be told).
   * @throws NotFoundError for an unknown job or another user's (without an event log).
   */
  subscribe(input: { userId: string; jobId: string; after?: number }, listener: (event: JobEvent) => void): () => void {
    if (!this.ctx.runner.events.log) {
      return this.ctx.jobs.subscribe(input.userId, input.jobId, listener, input.after === undefined ? {} : { after: input.after });
    }
    const controller = new AbortController();
    void (async () => {
      for await (const event of this.jobEvents({ ...input, signal: controller.signal })) listener(event);
    })().catch(() => {});
    return () => controller.abort();
  }

  /**
   * The job's events as an async iterable that ends after the terminal event
   * or when `signal` aborts: what an SSE endpoint streams. With an event log
   * it reads the log, so any replica streams any job, seqs the same everywhere.
   * @throws NotFoundError for an unknown job or another user's.
   */
  jobEvents(input: { userId: string; jobId: string; after?: number; signal?: AbortSignal }): AsyncGenerator<JobEvent> {
    return this.ctx.runner.events.stream(input);
  }

  /** The job if it ran in this process and belongs to the user (see findJob for jobs of any process). */
  getJob(input: { userId: string; jobId: string }): JobInfo | null {
    return this.ctx.jobs.get(input.userId, input.jobId);
  }

  /** True when job events go through a shared event log (`events`): stream with jobEvents/findJob, which then see every process's jobs. */
  get sharesJobEvents(): boolean {
    return this.ctx.runner.events.log !== null;
  }

  /** The job wherever it runs when there is an event log, else as getJob; null for an unknown job or another user's. */
  findJob(input: { userId: string; jobId: string }): Promise<JobInfo | null> {
    return this.ctx.runner.events.getJob(input.userId, input.jobId);
  }

  /** Live listeners on a job (servers use it to prove streams are released). */
  jobListenerCount(jobId: string): number {
    return this.ctx.jobs.listenerCount(jobId);
  }

  /** Resolves with the job's terminal event. */
  async waitForJob(input: { userId: string; jobId: string }): Promise<TerminalJobEvent> {
    for await (const event of this.jobEvents(input)) if (isTerminalEvent(event)) return event;
    throw new NotFoundError("job", input.jobId);
  }

  /**
   * Stops background jobs. With `releaseLeases` (the default) their runs are
   * left resumable at once by another process; without it they stay leased
   * until the lease expires, as after a crash.
   */
  close(options: { releaseLeases?: boolean } = {}): Promise<void> {
    return this.ctx.runner.close(options);
  }

  /**
   * Makes this process a worker: takes generation batches and training tasks
   * from the trainer's queue (`jobRunner`) until close(). See runWorker.
   * @throws ValidationError without a queue jobRunner.
   */
  async startWorker(): Promise<void> {
    const queue = this.ctx.runner.queue;
    if (!queue) throw new ValidationError("startWorker needs a queue jobRunner (e.g. PgBossJobRunner)", [{ path: "jobRunner", message: "required" }]);
    if (this.ctx.runner.isClosed) throw new AbortedError("This trainer was closed");
    await queue.work(workerTaskHandler(this.ctx));
  }

  /** Starts a job unless the call's signal is aborted already; aborting it later cancels the job. */
  private startJob<T extends { jobId: string }>(signal: AbortSignal | undefined, userId: string, start: () => Promise<T>): Promise<T> {
    return this.open(async () => {
      if (signal?.aborted) throw new AbortedError("The call's signal was aborted before the job started");
      return this.cancelOnAbort(signal, userId, await start());
    });
  }

  /** Cancels the job when `signal` aborts, until the job ends. */
  private cancelOnAbort<T extends { jobId: string }>(signal: AbortSignal | undefined, userId: string, result: T): T {
    if (!signal) return result;
    const { jobId } = result;
    const onAbort = () => {
      cleanup();
      const why: unknown = signal.reason;
      const reason = typeof why === "string" ? why : why instanceof Error && why.name !== "AbortError" ? why.message : "aborted by the caller";
      this.cancel({ userId, jobId, reason: reason.trim().slice(0, 500) || "aborted by the caller" }).catch(() => {
        // Finished before the abort reached it: nothing to cancel.
      });
    };
    const onEvent = (event: JobEvent) => {
      if (event.jobId === jobId && isTerminalEvent(event)) cleanup();
    };
    const cleanup = () => {
      signal.removeEventListener("abort", onAbort);
      this.off("event", onEvent);
    };
    if (signal.aborted) onAbort();
    else {
      signal.addEventListener("abort", onAbort, { once: true });
      this.on("event", onEvent);
    }
    return result;
  }

  private open<T>(work: () => Promise<T>): Promise<T> {
    if (this.ctx.runner.isClosed) return Promise.reject(new AbortedError("This trainer was closed"));
    return work();
  }
}
