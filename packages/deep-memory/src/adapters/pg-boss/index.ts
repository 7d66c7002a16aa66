export { PgBossJobRunner, type PgBossJobRunnerOptions, type PgBossTaskPolicy } from "./pg-boss-job-runner.js";
