import type { TrainingRun } from "../domain/run.js";
import type { JobRegistry } from "../events/job-registry.js";
import type { QueueJobRunner } from "../ports/job-runner.js";
import type { TrainingStore } from "../ports/training-store.js";
import { isQueueLeaseOwner } from "./job-runner.js";
import { holderIsGone, leaseOwnerFor, type ProcessIdentity } from "./lease-holder.js";

/**
 * Where an active run's work happens: in a job of this trainer, in a process
 * that may still be alive (its lease is current), or nowhere (the lease
 * expired, was released, or its holder is certainly gone).
 */
export type RunLiveness = "here" | "elsewhere" | "abandoned";

/** An import run is created by importPairs, never by generate; it is never resumed as a generation. */
export function isImportRun(run: TrainingRun): boolean {
  return run.generation.model.startsWith("import:");
}

/** A job still running in this process says nothing of when it ends; ask again after this long. */
const retryWhileHereMs = 5000;

/**
 * The one implementation of run leases: who holds a run, taking a lease
 * (free, expired, our own, or from a holder that is certainly gone), and
 * marking a run whose worker died as failed so it can be retried at once.
 */
export class RunLeases {
  constructor(
    private readonly store: TrainingStore,
    private readonly jobs: JobRegistry,
    private readonly self: ProcessIdentity,
    private readonly leaseMs: number,
    private readonly clock: () => Date,
    /** With a queue, a run leased by a queued job lives while the queue holds any of its tasks. */
    private readonly queue: QueueJobRunner | null = null,
  ) {}

  ownerFor(jobId: string): string {
    return leaseOwnerFor(this.self, jobId);
  }

  expiry(): Date {
    return new Date(this.clock().getTime() + this.leaseMs);
  }

  liveness(run: TrainingRun): RunLiveness {
    if (this.jobs.activeJobForRun(run.id)) return "here";
    if (run.leaseOwner === null) return "abandoned";
    if ((run.leaseExpiresAt?.getTime() ?? 0) <= this.clock().getTime()) return "abandoned";
    return holderIsGone(run.leaseOwner, this.self) ? "abandoned" : "elsewhere";
  }

  /** How long a caller refused because of this run should wait before trying again. */
  retryAfterMs(run: TrainingRun): number {
    if (this.liveness(run) === "here") return retryWhileHereMs;
    return Math.max(1000, (run.leaseExpiresAt?.getTime() ?? 0) - this.clock().getTime());
  }

  /**
   * Takes the run's lease for `owner`. Returns the run as leased, or null when
   * a holder that may be alive has it. Compare-and-set in the store either way,
   * so of two processes taking over the same dead lease only one wins.
   */
  async claim(run: TrainingRun, owner: string): Promise<TrainingRun | null> {
    const now = this.clock();
    const holder = run.leaseOwner;
    const current = holder !== null && (run.leaseExpiresAt?.getTime() ?? 0) > now.getTime() && holder !== owner;
    if (current && !this.jobs.activeJobForRun(run.id) && holderIsGone(holder, this.self)) {
      return this.store.updateRun(run.userId, run.id, { leaseOwner: owner, leaseExpiresAt: this.expiry() }, { leaseOwner: holder }, now);
    }
    return this.store.claimLease(run.userId, run.id, owner, this.expiry(), now);
  }

  /**
   * The user's active run, after marking it failed when its worker is gone
   * (with the reason, lease released), so that generate, train and import
   * can start again at once and status shows what happened. Returns the run
   * as it is now, or null when the user has no active run.
   */
  async recover(userId: string, recoverer: string): Promise<TrainingRun | null> {
    const active = await this.store.findActiveRun(userId);
    if (!active || this.liveness(active) !== "abandoned") return active;
    if (await this.queuedWorkFor(active)) return active;
    // Take the lease first: a process resuming the run right now wins and we leave it alone.
    const claimed = await this.claim(active, recoverer);
    if (!claimed) return this.store.getRun(userId, active.id);
    const failed = await this.store.updateRun(
      userId,
      active.id,
      { status: "failed", ...interruption(active), leaseOwner: null, leaseExpiresAt: null },
      { leaseOwner: recoverer, status: [active.status] },
      this.clock(),
    );
    return failed && failed.status === "failed" ? null : this.store.findActiveRun(userId);
  }

  /** True while the queue still holds a task of the job leasing this run (a busy queue, not a dead one). */
  private async queuedWorkFor(run: TrainingRun): Promise<boolean> {
    if (!this.queue || !isQueueLeaseOwner(run.leaseOwner)) return false;
    const jobId = run.status === "training" ? run.trainJobId : run.generateJobId;
    return jobId !== null && (await this.queue.hasPendingWork(jobId));
  }
}

function interruption(run: TrainingRun): Pick<TrainingRun, "error" | "failedPhase"> {
  if (run.status === "training") {
    return { failedPhase: "training", error: "Training was interrupted (the process running it stopped); start training again" };
  }
  const progress = `after ${run.processedChunks} of ${run.totalChunks} chunks`;
  if (isImportRun(run)) {
    return { failedPhase: null, error: `The import was interrupted ${progress} (the process stopped); import the pairs again` };
  }
  return {
    failedPhase: "generating",
    error: `Generation was interrupted ${progress} (the process running it stopped); generate again to resume where it stopped`,
  };
}
