export type * from "./deep-memory-engine.js";
export type * from "./embedder.js";
export type * from "./question-generator.js";
export type * from "./training-store.js";
export type * from "./vector-store.js";
export type * from "./job-runner.js";
