import pg from "pg";
import { ValidationError } from "../../errors/errors.js";
import { SqlJobEventLog } from "../job-events/sql-job-event-log.js";
import { migrateDeepMemorySchema, type MigrationResult } from "../training-store/migrate.js";
import { migratedOrClosed, pgSqlClient } from "../training-store/sql-clients.js";
import { SqlTrainingStore } from "../training-store/sql-training-store.js";
import { PostgresJobEventNotifier } from "./postgres-job-events.js";

export interface PostgresTrainingStoreOptions {
  /** A pool you manage; close() leaves it open. */
  pool?: pg.Pool;
  /**
   * Any PostgreSQL 15+ URL, e.g. Supabase's direct or pooled connection string
   * (postgresql://postgres:...@db.<project>.supabase.co:5432/postgres). The store
   * creates and owns a pool for it.
   */
  connectionString?: string;
  /** Pool size when the store creates the pool (default 10). */
  max?: number;
  /** Passed to the pool the store creates, e.g. `{ rejectUnauthorized: true }`. */
  ssl?: pg.PoolConfig["ssl"];
}

/**
 * A TrainingStore over any PostgreSQL 15+ with node-postgres, including
 * Supabase's direct connection. Apply the schema with `migrate()` (or with the
 * Supabase CLI from supabase/migrations). Multi-row writes run as one statement
 * in the schema's SQL functions, so concurrent processes never corrupt a run: the
 * database enforces one active run per user and one record per (run, chunk).
 */
export class PostgresTrainingStore extends SqlTrainingStore {
  readonly pool: pg.Pool;
  private readonly ownsPool: boolean;
  private readonly eventLogs = new Set<SqlJobEventLog>();

  constructor(options: PostgresTrainingStoreOptions) {
    const pool =
      options.pool ??
      (options.connectionString
        ? new pg.Pool({ connectionString: options.connectionString, max: options.max ?? 10, ssl: options.ssl })
        : undefined);
    if (!pool) throw new ValidationError("PostgresTrainingStore needs a pool or a connectionString");
    super(pgSqlClient(pool, pool));
    this.pool = pool;
    this.ownsPool = !options.pool;
    // An idle connection that dies (database restart, network blip) emits
    // "error" on the pool, which would crash the process if unheard. The pool
    // drops that connection and the next query opens a new one.
    if (this.ownsPool) this.pool.on("error", () => {});
  }

  /** Creates the store and applies the schema (pass `migrate: false` when the Supabase CLI manages it). */
  static async connect(options: PostgresTrainingStoreOptions & { migrate?: boolean }): Promise<PostgresTrainingStore> {
    return migratedOrClosed(new PostgresTrainingStore(options), options.migrate);
  }

  /** Applies bundled migrations this database has not seen; safe to call from several processes at once. */
  migrate(): Promise<MigrationResult> {
    return migrateDeepMemorySchema(this.sql);
  }

  /**
   * The job event log in this database (deep_memory_job_events), woken by
   * LISTEN/NOTIFY on one connection of the pool while anyone watches a job.
   * Pass it as the trainer's `events` so every replica streams every job.
   */
  jobEventLog(options: { pollMs?: number } = {}): SqlJobEventLog {
    const log = new SqlJobEventLog(this.sql, { ...options, notifier: new PostgresJobEventNotifier(this.pool) });
    this.eventLogs.add(log);
    return log;
  }

  /** Closes the job event logs it made, and ends the pool if the store created it. */
  async close(): Promise<void> {
    // Their listening connections are the pool's: pool.end() would wait for them forever.
    await Promise.all([...this.eventLogs].map((log) => log.close()));
    this.eventLogs.clear();
    if (this.ownsPool) await this.pool.end();
  }

  protected override bytesParam(bytes: Uint8Array): unknown {
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
}
