export * from "./deep-memory-trainer.js";
export {
  trainerOptionsSchema,
  trainerConfigSchema,
  type TrainerOptions,
  type ResolvedTrainerOptions,
  type DeepMemoryTrainerConfig,
  type GenerateInput,
  type TrainInput,
  type EvaluateInput,
  type SearchInput,
  type ListRunsInput,
  type UpdateSettingsInput,
  type ImportPairsInput,
} from "./options.js";
export { runWorker, type RunWorkerOptions, type WorkerHandle } from "./run-worker.js";
