/** A chunk of a generation batch: what a worker needs to ask for its questions. */
export interface JobTaskChunk {
  id: string;
  text: string;
}

/** Generation settings fixed when the job started, carried by each of its batches. */
export interface JobTaskGenerationSettings {
  questionsPerChunk: number;
  maxPairs: number;
  concurrency: number;
  delayMs: number;
  model?: string | undefined;
}

/** Part of a generation job: any worker may take it; the run's counters say when the job is done. */
export interface GenerateBatchTask {
  type: "generate-batch";
  userId: string;
  runId: string;
  jobId: string;
  /** The run's lease owner for this job, shared by every worker on it. */
  leaseOwner: string;
  chunks: JobTaskChunk[];
  settings: JobTaskGenerationSettings;
}

/** A whole training job: one worker trains, evaluates and stores the model. */
export interface TrainTask {
  type: "train";
  userId: string;
  runId: string;
  jobId: string;
  leaseOwner: string;
}

export type JobTask = GenerateBatchTask | TrainTask;

export interface JobTaskContext {
  /** Aborts when the task times out or the worker stops. */
  signal: AbortSignal;
  /** 0 on the first try, then the retry number. */
  attempt: number;
}

/** What a worker does with tasks; the trainer provides it (see runWorker). */
export interface JobTaskHandler {
  /** Runs one task; a rejection is retried by the queue (up to its retry limit). */
  run(task: JobTask, context: JobTaskContext): Promise<void>;
  /** A task that failed (or timed out) past its retries: the queue's dead letter. */
  deadLetter(task: JobTask, reason: string): Promise<void>;
}

/**
 * Jobs run by the trainer itself, detached, in the process that started them:
 * the embedded default, with no queue and no database. A process that stops
 * stops its jobs (their runs stay resumable).
 */
export interface InProcessJobRunner {
  readonly kind: "in-process";
}

/**
 * Jobs run through a queue any worker process takes tasks from: generation
 * split into batches of chunks, training one task. Retries, timeouts and
 * dead-lettering come from the queue.
 */
export interface QueueJobRunner {
  readonly kind: "queue";
  /** Enqueues tasks; resolves once they are stored (they survive this process). */
  enqueue(tasks: readonly JobTask[]): Promise<void>;
  /** Starts taking tasks in this process (a worker) until close(). */
  work(handler: JobTaskHandler): Promise<void>;
  /** Drops the job's tasks that have not started; running ones stop when they see their run ended. */
  cancel(jobId: string): Promise<void>;
  /** True while any task of the job is queued, waiting to retry, or running. */
  hasPendingWork(jobId: string): Promise<boolean>;
  /** Stops working (tasks running here are aborted and retried elsewhere) and releases the queue. */
  close(): Promise<void>;
}

export type JobRunner = InProcessJobRunner | QueueJobRunner;

