export * from "./chunk.js";
export * from "./metrics.js";
export * from "./run.js";
export * from "./settings.js";
export * from "./views.js";
