export * from "./events.js";
export * from "./job-registry.js";
export type { JobEventLog, NewJob } from "./job-event-log.js";
