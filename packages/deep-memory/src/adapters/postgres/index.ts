export { PostgresTrainingStore, type PostgresTrainingStoreOptions } from "./postgres-training-store.js";
export type { MigrationResult } from "../training-store/migrate.js";
export { deepMemoryMigrations, type SqlMigration } from "../training-store/sql-schema.js";
export { PostgresJobEventNotifier } from "./postgres-job-events.js";
export { SqlJobEventLog, type SqlJobEventLogOptions, type JobEventNotifier } from "../job-events/sql-job-event-log.js";
