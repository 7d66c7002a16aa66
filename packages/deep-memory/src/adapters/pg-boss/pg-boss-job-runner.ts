import PgBoss from "pg-boss";
import { AbortedError, UpstreamError, ValidationError } from "../../errors/errors.js";
import type { JobTask, JobTaskHandler, QueueJobRunner } from "../../ports/job-runner.js";

/** Retries and timeout of one kind of task; the queue applies them, not our code. */
export interface PgBossTaskPolicy {
  /** A task running longer is aborted, and pg-boss fails it and retries it (also how a killed worker's task comes back). */
  expireInSeconds?: number;
  /** Tries after the first before the task goes to the dead-letter queue. */
  retryLimit?: number;
  /** Seconds before a retry. */
  retryDelay?: number;
}

export interface PgBossJobRunnerOptions {
  /** A pg-boss 10 instance you manage (started by you); close() then only stops this runner's workers. */
  boss?: PgBoss;
  /** The host's PostgreSQL (Supabase's direct connection works); the runner creates, starts and stops pg-boss. */
  connectionString?: string;
  /** Options for the pg-boss the runner creates (schema, pool size, maintenance interval...). */
  bossOptions?: Omit<PgBoss.ConstructorOptions, "connectionString">;
  /** Prefix of the queue names (letters, digits, underscores). Default "deep_memory". */
  queuePrefix?: string;
  /** Generation batches one worker process runs at once (each with the trainer's own `concurrency`). Default 2. */
  batchConcurrency?: number;
  /** Training tasks one worker process runs at once. Default 1. */
  trainConcurrency?: number;
  /** Default: 600 s, 3 retries, 5 s apart. */
  generateBatch?: PgBossTaskPolicy;
  /** Default: 3,600 s, 1 retry, 5 s apart. */
  train?: PgBossTaskPolicy;
  /** How often an idle worker asks for a task. Default 1 s. */
  pollingIntervalSeconds?: number;
  /** pg-boss's own errors (a failed poll, maintenance); default: ignored (it retries). */
  onError?: (error: Error) => void;
}

type Queues = { batch: string; train: string; dead: string };

/**
 * Jobs on pg-boss (a PostgreSQL job queue) in the host's database: generation
 * as batches of chunks any worker takes, training as one task, each with the
 * queue's retries, expiry (a worker killed mid-task has its task retried
 * elsewhere once it expires) and a dead-letter queue the trainer turns into a
 * failed job. Enqueue from API processes; call `trainer.startWorker()` (or
 * runWorker) in worker processes.
 */
export class PgBossJobRunner implements QueueJobRunner {
  readonly kind = "queue" as const;
  readonly boss: PgBoss;
  readonly queues: Queues;
  private readonly ownsBoss: boolean;
  private readonly batchPolicy: Required<PgBossTaskPolicy>;
  private readonly trainPolicy: Required<PgBossTaskPolicy>;
  private starting: Promise<void> | null = null;
  private readonly running = new Set<AbortController>();
  private readonly workerIds: string[] = [];
  private closed = false;

  constructor(private readonly options: PgBossJobRunnerOptions) {
    if (!options.boss && !options.connectionString) throw new ValidationError("PgBossJobRunner needs a boss or a connectionString");
    const prefix = options.queuePrefix ?? "deep_memory";
    if (!/^[A-Za-z_]\w{0,30}$/.test(prefix)) throw new ValidationError("queuePrefix: letters, digits and underscores, at most 31");
    this.queues = { batch: `${prefix}_generate`, train: `${prefix}_train`, dead: `${prefix}_dead` };
    this.ownsBoss = !options.boss;
    this.boss =
      options.boss ??
      new PgBoss({ maintenanceIntervalSeconds: 30, ...options.bossOptions, connectionString: options.connectionString! });
    this.boss.on("error", (error) => options.onError?.(error));
    this.batchPolicy = { expireInSeconds: 600, retryLimit: 3, retryDelay: 5, ...options.generateBatch };
    this.trainPolicy = { expireInSeconds: 3600, retryLimit: 1, retryDelay: 5, ...options.train };
  }

  /** Starts pg-boss when the runner owns it (creating its schema once) and creates the queues. */
  start(): Promise<void> {
    this.starting ??= (async () => {
      if (this.ownsBoss) await this.boss.start();
      await this.boss.createQueue(this.queues.dead, { name: this.queues.dead, retryLimit: 3, retryDelay: 5 });
      await this.boss.createQueue(this.queues.batch, { name: this.queues.batch, ...this.batchPolicy, deadLetter: this.queues.dead });
      await this.boss.createQueue(this.queues.train, { name: this.queues.train, ...this.trainPolicy, deadLetter: this.queues.dead });
    })();
    return this.starting;
  }

  async enqueue(tasks: readonly JobTask[]): Promise<void> {
    if (this.closed) throw new AbortedError("The job runner was closed");
    await this.start();
    const jobs = tasks.map((task) => {
      const policy = task.type === "train" ? this.trainPolicy : this.batchPolicy;
      return {
        name: task.type === "train" ? this.queues.train : this.queues.batch,
        data: task,
        ...policy,
        deadLetter: this.queues.dead,
      };
    });
    // One insert per thousand tasks: a 100,000-chunk run is a few round trips.
    for (let i = 0; i < jobs.length; i += 1000) await this.boss.insert(jobs.slice(i, i + 1000));
  }

  async work(handler: JobTaskHandler): Promise<void> {
    if (this.closed) throw new AbortedError("The job runner was closed");
    await this.start();
    const polling = { pollingIntervalSeconds: this.options.pollingIntervalSeconds ?? 1, includeMetadata: true as const, batchSize: 1 };
    const take = (queue: string, count: number) =>
      Promise.all(
        Array.from({ length: count }, () =>
          this.boss.work<JobTask>(queue, polling, async ([job]) => {
            if (job) await this.runTask(handler, job);
          }),
        ),
      );
    this.workerIds.push(...(await take(this.queues.batch, this.options.batchConcurrency ?? 2)));
    this.workerIds.push(...(await take(this.queues.train, this.options.trainConcurrency ?? 1)));
    this.workerIds.push(
      await this.boss.work<JobTask>(this.queues.dead, polling, async ([job]) => {
        if (job) await handler.deadLetter(job.data, failureReason(job.output));
      }),
    );
  }

  async cancel(jobId: string): Promise<void> {
    await this.start();
    const { rows } = await this.boss
      .getDb()
      .executeSql(`select id, name from ${this.schema}.job where name = any($1::text[]) and state < 'active' and data->>'jobId' = $2`, [
        [this.queues.batch, this.queues.train],
        jobId,
      ]);
    for (const queue of [this.queues.batch, this.queues.train]) {
      const ids = (rows as { id: string; name: string }[]).filter((r) => r.name === queue).map((r) => r.id);
      if (ids.length > 0) await this.boss.cancel(queue, ids);
    }
  }

  async hasPendingWork(jobId: string): Promise<boolean> {
    await this.start();
    const { rows } = await this.boss
      .getDb()
      .executeSql(`select 1 from ${this.schema}.job where name = any($1::text[]) and state < 'completed' and data->>'jobId' = $2 limit 1`, [
        [this.queues.batch, this.queues.train],
        jobId,
      ]);
    return rows.length > 0;
  }

  /** Stops taking tasks; tasks running here are aborted, and the queue retries them (now or once they expire). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (!this.starting) return;
    await this.starting.catch(() => {});
    for (const controller of this.running) controller.abort(new AbortedError("The worker is stopping"));
    if (this.ownsBoss) {
      await this.boss.stop({ graceful: true, wait: true, timeout: 10_000 });
      return;
    }
    for (const id of this.workerIds) await this.boss.offWork({ id });
  }

  private get schema(): string {
    return this.options.bossOptions?.schema ?? "pgboss";
  }

  private async runTask(handler: JobTaskHandler, job: PgBoss.JobWithMetadata<JobTask>): Promise<void> {
    const controller = new AbortController();
    const timeout = setTimeout(
      () => controller.abort(new UpstreamError("job-queue", `The task ran past its ${job.expireInSeconds} s limit`, { retryable: true })),
      job.expireInSeconds * 1000,
    );
    this.running.add(controller);
    try {
      await handler.run(job.data, { signal: controller.signal, attempt: job.retryCount });
    } finally {
      clearTimeout(timeout);
      this.running.delete(controller);
    }
  }
}

function failureReason(output: unknown): string {
  const o = output as { message?: unknown; value?: { message?: unknown } } | null;
  const message = o?.message ?? o?.value?.message;
  return typeof message === "string" && message.length > 0 ? message : "no reason recorded";
}
