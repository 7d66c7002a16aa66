/**
 * The DeepMemoryEngine port (train a query transform, load one from weights).
 * Defined by the engine package, which the core depends on, so that there is
 * one definition; LocalDeepMemory is its default adapter.
 */
export type { DeepMemoryEngine, EngineModel, EngineProgress, EngineTrainInput, QueryTransform } from "@zip/deep-memory-engine";
