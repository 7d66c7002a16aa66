import { EventEmitter } from "eventemitter3";
import { NotFoundError } from "../errors/errors.js";
import { isTerminalEvent, type JobEvent, type JobEventInput, type JobKind } from "./events.js";

export interface JobInfo {
  jobId: string;
  runId: string;
  userId: string;
  kind: JobKind;
  /** False once a terminal event (completed or failed) was emitted. */
  active: boolean;
  createdAt: Date;
}

export type JobListener = (event: JobEvent) => void;

interface JobEntry extends JobInfo {
  events: JobEvent[];
  /** Progress reduced to the last event (an older finished job). */
  coalesced?: boolean;
  emitter: EventEmitter<{ event: [JobEvent] }>;
}

export interface JobRegistryOptions {
  /** Finished jobs kept for late subscribers; the oldest finished jobs are dropped first. Default 200. */
  maxFinishedJobs?: number;
  /**
   * Events kept per job; older progress events are dropped first, then (a
   * run skipping many chunks) the oldest chunk_skipped events, never started
   * or terminal ones. Default 5,000.
   */
  maxEventsPerJob?: number;
  /**
   * Finished jobs whose whole history is kept (the most recent ones); older
   * finished jobs keep only their facts (started, skips, terminal) and their
   * last progress event. Default 20.
   */
  fullHistoryJobs?: number;
  clock?: () => Date;
}

/**
 * Jobs of this process and their ordered event history, so a subscriber that
 * arrives late (an SSE client reconnecting with Last-Event-ID) replays exactly
 * what it missed and then follows live events.
 */
export class JobRegistry {
  private readonly jobs = new Map<string, JobEntry>();
  private readonly maxFinishedJobs: number;
  private readonly maxEventsPerJob: number;
  private readonly fullHistoryJobs: number;
  private readonly clock: () => Date;
  /** Every event of every job, for trainer-wide listeners. */
  readonly all = new EventEmitter<{ event: [JobEvent, JobInfo] }>();

  constructor(options: JobRegistryOptions = {}) {
    this.maxFinishedJobs = options.maxFinishedJobs ?? 200;
    this.maxEventsPerJob = options.maxEventsPerJob ?? 5000;
    this.fullHistoryJobs = options.fullHistoryJobs ?? 20;
    this.clock = options.clock ?? (() => new Date());
  }

  create(info: Omit<JobInfo, "active" | "createdAt">): JobInfo {
    const entry: JobEntry = { ...info, active: true, createdAt: this.clock(), events: [], emitter: new EventEmitter() };
    this.jobs.set(info.jobId, entry);
    return publicInfo(entry);
  }

  emit(jobId: string, input: JobEventInput): JobEvent {
    const entry = this.jobs.get(jobId);
    if (!entry) throw new NotFoundError("job", jobId);
    if (!entry.active) throw new Error(`Job ${jobId} already finished; no more events`);
    const last = entry.events[entry.events.length - 1];
    const event = {
      ...input,
      seq: (last?.seq ?? 0) + 1,
      jobId,
      runId: entry.runId,
      kind: entry.kind,
      at: this.clock().toISOString(),
    };
    entry.events.push(event);
    if (entry.events.length > this.maxEventsPerJob) this.trim(entry);
    if (isTerminalEvent(event)) {
      entry.active = false;
      this.evictFinished();
    }
    entry.emitter.emit("event", event);
    this.all.emit("event", event, publicInfo(entry));
    if (!entry.active) entry.emitter.removeAllListeners();
    return event;
  }

  /** The job when it exists and belongs to `userId`; null otherwise (never leaks another user's job). */
  get(userId: string, jobId: string): JobInfo | null {
    const entry = this.jobs.get(jobId);
    return entry && entry.userId === userId ? publicInfo(entry) : null;
  }

  /** The active job working on a run, if this process has one. */
  activeJobForRun(runId: string): JobInfo | null {
    for (const entry of this.jobs.values()) if (entry.runId === runId && entry.active) return publicInfo(entry);
    return null;
  }

  /** Events with seq greater than `after`, oldest first. */
  history(userId: string, jobId: string, after = 0): JobEvent[] {
    const entry = this.require(userId, jobId);
    return entry.events.filter((e) => e.seq > after);
  }

  /**
   * Replays events after `after`, then delivers live ones until the terminal
   * event. Returns the unsubscribe function; calling it twice is harmless.
   */
  subscribe(userId: string, jobId: string, listener: JobListener, options: { after?: number } = {}): () => void {
    const entry = this.require(userId, jobId);
    const after = options.after ?? 0;
    for (const event of entry.events) if (event.seq > after) listener(event);
    if (!entry.active) return () => {};
    // A client may claim an id ahead of what was sent (a stale tab after a restart); hold live events to the same rule.
    const live = (event: JobEvent) => {
      if (event.seq > after) listener(event);
    };
    entry.emitter.on("event", live);
    return () => {
      entry.emitter.off("event", live);
    };
  }

  /** Live listeners on a job; lets servers and tests check that nothing leaks. */
  listenerCount(jobId: string): number {
    return this.jobs.get(jobId)?.emitter.listenerCount("event") ?? 0;
  }

  private require(userId: string, jobId: string): JobEntry {
    const entry = this.jobs.get(jobId);
    if (!entry || entry.userId !== userId) throw new NotFoundError("job", jobId);
    return entry;
  }

  private trim(entry: JobEntry): void {
    // Drop the oldest progress events first; started, skipped and terminal events carry facts a replay needs.
    // Skips go next, oldest first, only where they alone would pass the cap (the run's skippedChunks
    // counter keeps their number). A tenth more than needed goes at once, so a long job does not filter
    // its history on every event.
    const excess = entry.events.length - this.maxEventsPerJob + Math.floor(this.maxEventsPerJob / 10);
    const progress = entry.events.filter((e) => e.type === "progress").length;
    const latest = entry.events[entry.events.length - 1];
    let dropProgress = Math.min(excess, progress);
    let dropSkips = excess - dropProgress;
    entry.events = entry.events.filter((e) => {
      if (e === latest) return true;
      if (dropProgress > 0 && e.type === "progress") {
        dropProgress--;
        return false;
      }
      if (dropSkips > 0 && e.type === "chunk_skipped") {
        dropSkips--;
        return false;
      }
      return true;
    });
  }

  private evictFinished(): void {
    const finished = [...this.jobs.values()].filter((j) => !j.active);
    for (const job of finished.slice(0, Math.max(0, finished.length - this.maxFinishedJobs))) this.jobs.delete(job.jobId);
    const older = finished.slice(0, Math.max(0, finished.length - this.fullHistoryJobs));
    for (const job of older) if (!job.coalesced) coalesceFinished(job);
  }
}

/**
 * A finished job's replay needs its facts and where progress ended, not every
 * step: progress events are snapshots, so the last one stands for all (a
 * client resuming after any of them still gets it, with its own seq).
 */
function coalesceFinished(entry: JobEntry): void {
  const lastProgress = entry.events.findLast((e) => e.type === "progress");
  entry.events = entry.events.filter((e) => e.type !== "progress" || e === lastProgress);
  entry.coalesced = true;
}

function publicInfo(entry: JobEntry): JobInfo {
  return {
    jobId: entry.jobId,
    runId: entry.runId,
    userId: entry.userId,
    kind: entry.kind,
    active: entry.active,
    createdAt: entry.createdAt,
  };
}
