export * from "./events.js";
export * from "./job-registry.js";
