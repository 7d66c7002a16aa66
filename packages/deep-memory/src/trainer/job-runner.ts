import { randomUUID } from "node:crypto";
import { AbortedError, StoreError, toDeepMemoryError } from "../errors/errors.js";
import type { JobEventInput } from "../events/events.js";
import type { NewJob } from "../events/job-event-log.js";
import type { JobTask, QueueJobRunner } from "../ports/job-runner.js";
import type { TrainingStore } from "../ports/training-store.js";
import type { TrainerJobEvents } from "./job-events.js";
import { holdLeaseOwner } from "./lease-holder.js";
import { CANCELLED_PREFIX, isCancelledRun, JobCancellation } from "./cancel.js";
import type { RunLeases } from "./run-leases.js";

/** A job id and its lease owner, held live in this process from before its run is leased. */
export interface JobTicket {
  jobId: string;
  leaseOwner: string;
  /** Ends the live hold; called when the job ends, or when it never starts. */
  release(): void;
}

interface RunningJob {
  controller: AbortController;
  done: Promise<void>;
  /** Set by close({ releaseLeases: false }): leave the lease to expire, as a crash would. */
  keepLease: boolean;
}

/**
 * A run worked on through a queue is leased by the job, not by a process:
 * every worker taking one of its tasks holds the lease under this name, and
 * the queue (not the lease) says whether a worker died.
 */
export function queueLeaseOwner(jobId: string): string {
  return `deep-memory-queue@queue/${jobId}`;
}

export function isQueueLeaseOwner(owner: string | null): boolean {
  return owner?.startsWith("deep-memory-queue@queue/") ?? false;
}

/**
 * Background jobs of one trainer. In-process (the default), each job runs
 * detached from the call that started it, renews its run's lease while it
 * works, and reports through the job events; with a queue, the job's tasks
 * are enqueued and workers run them (see worker-tasks.ts). Stopping (close)
 * aborts what runs here and leaves the runs resumable.
 */
export class JobRunner {
  private readonly running = new Map<string, RunningJob>();
  private closed = false;

  constructor(
    private readonly store: TrainingStore,
    readonly events: TrainerJobEvents,
    private readonly leases: RunLeases,
    private readonly leaseMs: number,
    private readonly clock: () => Date,
    readonly queue: QueueJobRunner | null = null,
  ) {}

  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * A new job id whose lease owner counts as alive in this process at once:
   * a second call racing this one must not mistake the run for abandoned in
   * the moment between leasing it and starting the job.
   */
  ticket(): JobTicket {
    const jobId = randomUUID();
    const leaseOwner = this.queue ? queueLeaseOwner(jobId) : this.leases.ownerFor(jobId);
    return { jobId, leaseOwner, release: holdLeaseOwner(leaseOwner) };
  }

  /**
   * Starts a job: with a queue, registers it, lets `announce` emit its first
   * events and enqueues `tasks()`; otherwise runs `work` detached here.
   */
  async dispatch(
    info: NewJob,
    ticket: JobTicket,
    job: { work: (signal: AbortSignal) => Promise<void>; tasks: () => JobTask[]; announce?: () => void },
  ): Promise<void> {
    if (!this.queue) return this.start(info, ticket, job.work);
    await this.events.open(info, false);
    job.announce?.();
    await this.events.flush(info.jobId);
    await this.queue.enqueue(job.tasks());
    ticket.release();
  }

  async start(info: NewJob, ticket: JobTicket, work: (signal: AbortSignal) => Promise<void>): Promise<void> {
    await this.events.open(info, true);
    const controller = new AbortController();
    const stopHeartbeat = this.heartbeat(info, ticket.leaseOwner, controller);
    const job: RunningJob = { controller, keepLease: false, done: Promise.resolve() };
    job.done = (async () => {
      try {
        await work(controller.signal);
      } finally {
        stopHeartbeat();
        this.running.delete(info.jobId);
        ticket.release();
      }
    })();
    this.running.set(info.jobId, job);
  }

  /** Renews the run's lease every third of its length; aborts `controller` when the lease was lost. */
  heartbeat(info: { userId: string; runId: string }, leaseOwner: string, controller: AbortController): () => void {
    const timer = setInterval(() => {
      void this.store
        .updateRun(info.userId, info.runId, { leaseExpiresAt: this.leases.expiry() }, { leaseOwner }, this.clock())
        .then((run) => {
          if (!run) controller.abort(new StoreError("Another worker took over this run"));
        })
        .catch(() => {
          // A missed heartbeat is retried on the next tick; the lease outlives several ticks.
        });
    }, Math.max(50, Math.floor(this.leaseMs / 3)));
    timer.unref?.();
    return () => clearInterval(timer);
  }

  emit(job: NewJob, event: JobEventInput): void {
    this.events.emit(job, event);
  }

  /**
   * Ends a job that threw: the run is marked failed with the error (resumable
   * by the next generate or train), unless the trainer is closing, in which
   * case the run is only released. Emits the job's `failed` event either way.
   * A queued job's task that was aborted (its worker stopping, its timeout)
   * is left alone: the queue retries it.
   */
  async fail(
    info: NewJob & { leaseOwner: string },
    failedPhase: "generating" | "training",
    error: unknown,
    signal: AbortSignal,
  ): Promise<void> {
    if (signal.aborted && signal.reason instanceof JobCancellation) return this.cancelled(info, failedPhase, signal.reason.reason);
    if (signal.aborted && isQueueLeaseOwner(info.leaseOwner)) return;
    const running = this.running.get(info.jobId);
    const closing = signal.aborted && this.closed;
    const failure = toDeepMemoryError(closing ? (signal.reason ?? error) : error);
    const guard = { leaseOwner: info.leaseOwner };
    try {
      if (closing) {
        // Shutting down is not a failure of the run: leave it resumable.
        if (!running?.keepLease) {
          await this.store.updateRun(info.userId, info.runId, { leaseOwner: null, leaseExpiresAt: null }, guard, this.clock());
        }
      } else {
        const failed = await this.store.updateRun(
          info.userId,
          info.runId,
          { status: "failed", error: failure.message, failedPhase, leaseOwner: null, leaseExpiresAt: null },
          guard,
          this.clock(),
        );
        // Lost the lease because another process cancelled the job: report the cancellation, not the lost lease.
        const run = failed ? null : await this.store.getRun(info.userId, info.runId);
        if (run && isCancelledRun(run)) {
          this.emit(info, { type: "cancelled", reason: run.error!.slice(CANCELLED_PREFIX.length), phase: failedPhase });
          return;
        }
      }
    } catch {
      // The store itself is failing; the expired lease lets the next call recover the run.
    }
    this.emit(info, { type: "failed", error: { code: failure.code, message: failure.message } });
  }

  /** Stores the run of a job cancelled here as cancelled (failed, resumable) and emits `cancelled`. */
  private async cancelled(
    info: NewJob & { leaseOwner: string },
    phase: "generating" | "training",
    reason: string,
  ): Promise<void> {
    try {
      await this.store.updateRun(
        info.userId,
        info.runId,
        { status: "failed", error: `${CANCELLED_PREFIX}${reason}`, failedPhase: phase, leaseOwner: null, leaseExpiresAt: null },
        { leaseOwner: info.leaseOwner },
        this.clock(),
      );
    } catch {
      // The store is failing: the lease expires and the next generate or train recovers the run.
    }
    this.emit(info, { type: "cancelled", reason, phase });
  }

  /**
   * Aborts a job running in this process with `cancellation` and waits until
   * it has stored its run and emitted `cancelled`. False when no such job runs here.
   */
  async cancel(jobId: string, cancellation: JobCancellation): Promise<boolean> {
    const job = this.running.get(jobId);
    if (!job) return false;
    job.controller.abort(cancellation);
    await job.done;
    return true;
  }

  async close(options: { releaseLeases?: boolean } = {}): Promise<void> {
    this.closed = true;
    const release = options.releaseLeases ?? true;
    const jobs = [...this.running.values()];
    for (const job of jobs) {
      job.keepLease = !release;
      job.controller.abort(new AbortedError("The trainer was closed"));
    }
    await Promise.allSettled(jobs.map((j) => j.done));
    await this.queue?.close();
    await this.events.flushAll();
  }
}
