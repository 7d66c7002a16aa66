import { mkdir } from "node:fs/promises";
import { PGlite } from "@electric-sql/pglite";
import { SqlJobEventLog } from "../job-events/sql-job-event-log.js";
import { migrateDeepMemorySchema, type MigrationResult } from "../training-store/migrate.js";
import { pgliteSqlClient } from "../training-store/sql-clients.js";
import { SqlTrainingStore } from "../training-store/sql-training-store.js";

/** The part of PGlite (and its transactions) the store uses. */
interface PGliteQueryable {
  query(text: string, params?: unknown[]): Promise<{ rows: unknown[] }>;
  exec(sql: string): Promise<unknown>;
}

interface PGliteDatabase extends PGliteQueryable {
  transaction<T>(fn: (tx: PGliteQueryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface PGliteTrainingStoreOptions {
  /**
   * Folder the database lives in, created when missing; `"memory://"` keeps it
   * in memory. Default `.deep-memory/pglite` under the working directory. One
   * process at a time may open a folder.
   */
  dataDir?: string;
  /** A PGlite instance you created (e.g. with extensions); the store never closes it. */
  db?: PGliteDatabase;
  /** Apply the bundled migrations on open (default true). */
  migrate?: boolean;
}

export const DEFAULT_PGLITE_DATA_DIR = ".deep-memory/pglite";

/**
 * The training store for zero-setup hosts, demos and examples: the same schema
 * and SQL as PostgresTrainingStore, run in-process by PGlite (PostgreSQL
 * compiled to WebAssembly) and persisted to a local folder, so runs, pairs and
 * models survive restarts without a database server.
 */
export class PGliteTrainingStore extends SqlTrainingStore {
  readonly db: PGliteDatabase;
  private readonly ownsDb: boolean;

  private constructor(db: PGliteDatabase, ownsDb: boolean) {
    super(pgliteSqlClient(db));
    this.db = db;
    this.ownsDb = ownsDb;
  }

  /** Opens (creating when needed) the database and applies the schema. */
  static async open(options: PGliteTrainingStoreOptions = {}): Promise<PGliteTrainingStore> {
    let db = options.db;
    const owns = !db;
    if (!db) {
      const dataDir = options.dataDir ?? DEFAULT_PGLITE_DATA_DIR;
      if (!dataDir.includes("://")) await mkdir(dataDir, { recursive: true });
      db = await PGlite.create(dataDir);
    }
    const store = new PGliteTrainingStore(db, owns);
    if (options.migrate !== false) {
      try {
        await store.migrate();
      } catch (error) {
        if (owns) await db.close();
        throw error;
      }
    }
    return store;
  }

  /** Applies bundled migrations this database has not seen. */
  migrate(): Promise<MigrationResult> {
    return migrateDeepMemorySchema(this.sql);
  }

  /**
   * The job event log in this database, read by polling (PGlite has one
   * process, so this is for hosts that want events to survive a restart).
   */
  jobEventLog(options: { pollMs?: number } = {}): SqlJobEventLog {
    return new SqlJobEventLog(this.sql, options);
  }

  /** Closes the database if the store opened it. */
  async close(): Promise<void> {
    if (this.ownsDb) await this.db.close();
  }
}
