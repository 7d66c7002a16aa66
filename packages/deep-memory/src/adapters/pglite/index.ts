export { PGliteTrainingStore, DEFAULT_PGLITE_DATA_DIR, type PGliteTrainingStoreOptions } from "./pglite-training-store.js";
export type { MigrationResult } from "../training-store/migrate.js";
export { deepMemoryMigrations, type SqlMigration } from "../training-store/sql-schema.js";
export { SqlJobEventLog, type SqlJobEventLogOptions, type JobEventNotifier } from "../job-events/sql-job-event-log.js";
