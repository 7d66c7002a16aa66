import { NotFoundError } from "../errors/errors.js";
import { isTerminalEvent, type JobEvent, type JobEventInput } from "../events/events.js";
import type { JobEventLog, NewJob } from "../events/job-event-log.js";
import type { JobInfo, JobRegistry } from "../events/job-registry.js";

/** Progress written to the event log at most this often per job and process; facts are written at once. */
export const defaultProgressIntervalMs = 1000;

interface JobWriter {
  job: NewJob;
  chain: Promise<void>;
  /** The latest progress not written yet (a snapshot: older ones are superseded). */
  pending: JobEventInput | null;
  lastProgressAt: number;
  timer: NodeJS.Timeout | null;
}

/**
 * A trainer's job events: the in-memory registry always (this process's
 * listeners, lease liveness), and the shared event log when one is configured,
 * which then is what every stream reads, so seqs agree on every replica.
 * Progress is coalesced before it reaches the log: at most one write per
 * `progressIntervalMs` per job, the latest snapshot winning, flushed before
 * any fact (started, chunk_skipped, terminal) so the order holds.
 */
export class TrainerJobEvents {
  private readonly writers = new Map<string, JobWriter>();

  constructor(
    readonly registry: JobRegistry,
    readonly log: JobEventLog | null,
    private readonly clock: () => Date,
    private readonly progressIntervalMs = defaultProgressIntervalMs,
  ) {}

  /**
   * Registers a job before any event: in the log, and in the registry when it
   * runs in this process (`local`; a queued job runs on workers).
   */
  async open(job: NewJob, local: boolean): Promise<void> {
    if (this.log) await this.log.createJob(job, this.clock());
    if (local && !this.registry.get(job.userId, job.jobId)) this.registry.create(job);
  }

  /** Records an event of a job, here or through the log; never throws (events must not fail the job). */
  emit(job: NewJob, input: JobEventInput): void {
    const local = this.registry.get(job.userId, job.jobId);
    if (local?.active) this.registry.emit(job.jobId, input);
    if (this.log) this.write(job, input);
  }

  /** Resolves once everything emitted for the job so far is in the log. */
  async flush(jobId: string): Promise<void> {
    const writer = this.writers.get(jobId);
    if (!writer) return;
    if (writer.pending) this.writePending(writer);
    await writer.chain;
  }

  async flushAll(): Promise<void> {
    await Promise.all([...this.writers.keys()].map((id) => this.flush(id)));
  }

  /** The job, wherever it runs (with a log), or when it ran in this process. */
  async getJob(userId: string, jobId: string): Promise<JobInfo | null> {
    if (this.log) return this.log.getJob(userId, jobId);
    return this.registry.get(userId, jobId);
  }

  /**
   * The job's events after `after`, then live ones until its terminal event
   * or `signal`. Reads the log when there is one, else the registry.
   * @throws NotFoundError for an unknown job or another user's.
   */
  async *stream(input: { userId: string; jobId: string; after?: number; signal?: AbortSignal }): AsyncGenerator<JobEvent> {
    if (this.log) yield* this.streamLog(this.log, input);
    else yield* this.streamRegistry(input);
  }

  private async *streamLog(
    log: JobEventLog,
    input: { userId: string; jobId: string; after?: number; signal?: AbortSignal },
  ): AsyncGenerator<JobEvent> {
    const { userId, jobId, signal } = input;
    if (!(await log.getJob(userId, jobId))) throw new NotFoundError("job", jobId);
    let cursor = input.after ?? 0;
    let dirty = true;
    let wake: (() => void) | null = null;
    const stop = log.watch(jobId, () => {
      dirty = true;
      wake?.();
    });
    const onAbort = () => wake?.();
    signal?.addEventListener("abort", onAbort);
    try {
      while (!signal?.aborted) {
        if (!dirty) {
          await new Promise<void>((resolve) => (wake = resolve));
          wake = null;
          continue;
        }
        dirty = false;
        const events = await log.read(userId, jobId, cursor);
        for (const event of events) {
          cursor = event.seq;
          yield event;
          if (isTerminalEvent(event)) return;
        }
        if (events.length > 0) {
          dirty = true;
          continue;
        }
        // Nothing after the cursor. A job that has ended wrote its terminal event before it ended: read
        // once more (it may have landed between the read above and this look), and if there is still
        // nothing, the client resumed past the end.
        const job = await log.getJob(userId, jobId);
        if (!job?.active) {
          const last = await log.read(userId, jobId, cursor);
          for (const event of last) {
            yield event;
            if (isTerminalEvent(event)) return;
          }
          return;
        }
      }
    } finally {
      stop();
      signal?.removeEventListener("abort", onAbort);
    }
  }

  private async *streamRegistry(input: { userId: string; jobId: string; after?: number; signal?: AbortSignal }): AsyncGenerator<JobEvent> {
    const queue: JobEvent[] = [];
    let wake: (() => void) | null = null;
    const unsubscribe = this.registry.subscribe(
      input.userId,
      input.jobId,
      (event) => {
        queue.push(event);
        wake?.();
      },
      input.after === undefined ? {} : { after: input.after },
    );
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
        if (!this.registry.get(input.userId, input.jobId)?.active) return;
        await new Promise<void>((resolve) => (wake = resolve));
        wake = null;
      }
    } finally {
      unsubscribe();
      input.signal?.removeEventListener("abort", onAbort);
    }
  }

  private write(job: NewJob, input: JobEventInput): void {
    let writer = this.writers.get(job.jobId);
    if (!writer) {
      writer = { job, chain: Promise.resolve(), pending: null, lastProgressAt: 0, timer: null };
      this.writers.set(job.jobId, writer);
    }
    if (input.type === "progress") {
      writer.pending = input;
      const wait = writer.lastProgressAt + this.progressIntervalMs - Date.now();
      if (wait <= 0) this.writePending(writer);
      else if (!writer.timer) {
        const w = writer;
        writer.timer = setTimeout(() => this.writePending(w), wait);
        writer.timer.unref?.();
      }
      return;
    }
    if (writer.pending) this.writePending(writer);
    const terminal = isTerminalEvent(input as JobEvent);
    this.append(writer, input, terminal ? 3 : 1);
    if (terminal) {
      const done = writer;
      void done.chain.then(() => {
        if (this.writers.get(job.jobId) === done && !done.pending) this.writers.delete(job.jobId);
      });
    }
  }

  private writePending(writer: JobWriter): void {
    if (writer.timer) clearTimeout(writer.timer);
    writer.timer = null;
    const input = writer.pending;
    if (!input) return;
    writer.pending = null;
    writer.lastProgressAt = Date.now();
    this.append(writer, input, 1);
  }

  private append(writer: JobWriter, input: JobEventInput, attempts: number): void {
    const log = this.log!;
    writer.chain = writer.chain.then(async () => {
      for (let attempt = 1; attempt <= attempts; attempt++) {
        try {
          await log.append(writer.job, input, this.clock());
          return;
        } catch {
          // A lost event write must not fail the job; the terminal event is worth a retry.
          if (attempt < attempts) await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
        }
      }
    });
  }
}
