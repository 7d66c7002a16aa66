import type { JobEvent, JobEventInput } from "./events.js";
import type { JobInfo } from "./job-registry.js";

export type NewJob = Omit<JobInfo, "active" | "createdAt">;

/**
 * Where job events live when more than one process serves a trainer's jobs:
 * API replicas behind a load balancer, worker processes. Each job's events are
 * ordered by `seq`; any process appends and any process reads, so a client
 * streams a job from whichever replica it reaches and resumes after the last
 * seq it saw. The in-process default keeps events in memory instead
 * (JobRegistry) and needs none of this.
 */
export interface JobEventLog {
  /** Registers a job before its first event; registering the same job again changes nothing. */
  createJob(job: NewJob, now: Date): Promise<void>;
  /**
   * Appends an event after the job's last one. Returns it numbered, or null
   * when the job already ended (its terminal event was appended). A progress
   * event may replace the latest progress event (it is a snapshot), so the log
   * keeps facts and where progress stands, not every step.
   */
  append(job: NewJob, event: JobEventInput, now: Date): Promise<JobEvent | null>;
  /** The job when it exists and belongs to `userId`; null otherwise. */
  getJob(userId: string, jobId: string): Promise<JobInfo | null>;
  /** Events with seq greater than `after`, oldest first, at most `limit`. */
  read(userId: string, jobId: string, after: number, limit?: number): Promise<JobEvent[]>;
  /** Calls `onChange` when the job may have new events (a notification, or a poll). Returns the stop function. */
  watch(jobId: string, onChange: () => void): () => void;
  close?(): Promise<void>;
}
