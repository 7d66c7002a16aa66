/**
 * @zip/deep-memory-engine: LocalDeepMemory, the training engine behind
 * @zip/deep-memory (a learned residual map of query embeddings plus a
 * question memory), with its WebAssembly SIMD kernels and worker threads.
 * @zip/deep-memory re-exports LocalDeepMemory; install this package alone
 * only to use the engine without the trainer.
 */
export { LocalDeepMemory, localDeepMemoryOptionsSchema, type LocalDeepMemoryOptions } from "./local-deep-memory.js";
export type { DeepMemoryEngine, EngineModel, EngineProgress, EngineTrainInput, QueryTransform, TrainingReport } from "./contract.js";
/** The seeded generator behind the engine's reproducible trainings; @zip/deep-memory uses the same one. */
export { mulberry32 } from "./random.js";
/** Every row of one matrix dotted with every row of another, on WebAssembly SIMD where available; @zip/deep-memory's neighbour boost compares a search's candidates with it. */
export { matmulTransB } from "./kernels.js";
/** Lets timers and I/O run between pieces of CPU work; @zip/deep-memory's searches yield with the same one. */
export { yieldToEventLoop } from "./event-loop.js";
/** The deep-memory error family's base and the errors the engine throws; @zip/deep-memory re-exports them and adds the rest. */
export {
  AbortedError,
  DeepMemoryError,
  parseOrThrow,
  TrainingFailedError,
  ValidationError,
  type DeepMemoryErrorOptions,
  type ErrorCode,
  type FieldIssue,
} from "./errors.js";
