import { isTerminalEvent, type JobEvent, type JobEventInput, type JobKind } from "../../events/events.js";
import type { JobEventLog, NewJob } from "../../events/job-event-log.js";
import type { JobInfo } from "../../events/job-registry.js";
import type { SqlClient } from "../training-store/sql-training-store.js";
import { toStoreError } from "../training-store/sql-training-store.js";

/** Wakes watchers when another process appended to a job (PostgreSQL LISTEN/NOTIFY); absent on PGlite. */
export interface JobEventNotifier {
  /** Starts listening; `onJob` gets the id of each job that changed. Resolves with the stop function. */
  listen(onJob: (jobId: string) => void): Promise<() => Promise<void>>;
}

export interface SqlJobEventLogOptions {
  /**
   * How often a watched job is read again without a notification. Default 250
   * ms without a notifier (PGlite), 2,000 ms with one (a safety net for a
   * notification lost while the listening connection reconnected).
   */
  pollMs?: number;
  notifier?: JobEventNotifier;
}

const JOBS = "public.deep_memory_jobs";
const EVENTS = "public.deep_memory_job_events";

/**
 * The job event log on the schema in supabase/migrations
 * (deep_memory_jobs, deep_memory_job_events): for PostgreSQL, Supabase's
 * database and PGlite. Appends go through deep_memory_append_job_event, which
 * numbers events under a row lock and replaces a trailing progress event.
 */
export class SqlJobEventLog implements JobEventLog {
  private readonly pollMs: number;
  private readonly watchers = new Map<string, Set<() => void>>();
  private stopListening: Promise<(() => Promise<void>) | null> | null = null;

  constructor(
    private readonly sql: SqlClient,
    private readonly options: SqlJobEventLogOptions = {},
  ) {
    this.pollMs = options.pollMs ?? (options.notifier ? 2000 : 250);
  }

  async createJob(job: NewJob, now: Date): Promise<void> {
    try {
      await this.sql.query(
        `insert into ${JOBS} (id, user_id, run_id, kind, created_at, updated_at)
         values ($1::uuid, $2::text, $3::uuid, $4::text, $5::timestamptz, $5::timestamptz)
         on conflict (id) do nothing`,
        [job.jobId, job.userId, job.runId, job.kind, now.toISOString()],
      );
    } catch (error) {
      throw toStoreError(error, "Registering a job");
    }
  }

  async append(job: NewJob, input: JobEventInput, now: Date): Promise<JobEvent | null> {
    const at = now.toISOString();
    const terminal = isTerminalEvent({ ...input, seq: 1, jobId: job.jobId, runId: job.runId, kind: job.kind, at });
    let rows: Record<string, unknown>[];
    try {
      ({ rows } = await this.sql.query(
        "select seq, appended from public.deep_memory_append_job_event($1::uuid, $2::text, $3::text, $4::text::jsonb, $5::timestamptz, $6::boolean)",
        [job.jobId, job.userId, input.type, JSON.stringify(input), at, terminal],
      ));
    } catch (error) {
      throw toStoreError(error, "Appending a job event");
    }
    const row = rows[0];
    if (!row || row.appended !== true) return null;
    return { ...input, seq: Number(row.seq), jobId: job.jobId, runId: job.runId, kind: job.kind, at };
  }

  async getJob(userId: string, jobId: string): Promise<JobInfo | null> {
    if (!isUuid(jobId)) return null;
    try {
      const { rows } = await this.sql.query(`select * from ${JOBS} where id = $1::uuid and user_id = $2::text`, [jobId, userId]);
      return rows[0] ? jobFromRow(rows[0]) : null;
    } catch (error) {
      throw toStoreError(error, "Reading a job");
    }
  }

  async read(userId: string, jobId: string, after: number, limit = 1000): Promise<JobEvent[]> {
    if (!isUuid(jobId)) return [];
    try {
      const { rows } = await this.sql.query(
        `select e.seq, e.type, e.payload::text as payload, e.at, j.run_id, j.kind
           from ${EVENTS} e join ${JOBS} j on j.id = e.job_id
          where e.job_id = $1::uuid and e.user_id = $2::text and e.seq > $3::integer
          order by e.seq
          limit $4::integer`,
        [jobId, userId, Math.max(0, Math.floor(after)), limit],
      );
      return rows.map(
        (r) =>
          ({
            ...(JSON.parse(String(r.payload)) as object),
            type: String(r.type),
            seq: Number(r.seq),
            jobId,
            runId: String(r.run_id),
            kind: String(r.kind) as JobKind,
            at: new Date(r.at as string | Date).toISOString(),
          }) as JobEvent,
      );
    } catch (error) {
      throw toStoreError(error, "Reading job events");
    }
  }

  watch(jobId: string, onChange: () => void): () => void {
    let set = this.watchers.get(jobId);
    if (!set) this.watchers.set(jobId, (set = new Set()));
    set.add(onChange);
    if (this.options.notifier && !this.stopListening) {
      const notifier = this.options.notifier;
      this.stopListening = notifier
        .listen((changed) => this.wake(changed))
        .catch(() => null); // Polling still delivers; the notifier is only faster.
    }
    const timer = setInterval(onChange, this.pollMs);
    timer.unref?.();
    return () => {
      clearInterval(timer);
      set.delete(onChange);
      if (set.size === 0) this.watchers.delete(jobId);
    };
  }

  async close(): Promise<void> {
    const stop = await this.stopListening;
    this.stopListening = null;
    await stop?.();
  }

  private wake(jobId: string): void {
    for (const watcher of this.watchers.get(jobId) ?? []) watcher();
  }
}

function jobFromRow(row: Record<string, unknown>): JobInfo {
  return {
    jobId: String(row.id),
    userId: String(row.user_id),
    runId: String(row.run_id),
    kind: String(row.kind) as JobKind,
    active: row.active === true,
    createdAt: new Date(row.created_at as string | Date),
  };
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
function isUuid(id: string): boolean {
  return uuidPattern.test(id);
}
