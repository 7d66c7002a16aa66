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
