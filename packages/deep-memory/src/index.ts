// The root entry of @zip/deep-memory: what a host needs to train and use deep
// memory. Every name is listed here on purpose and documented in docs/api.md
// (a test keeps the two equal); helpers for adapter authors, retrieval and
// evaluation internals and the zod schemas live at subpaths.

// The trainer, its options and results.
export { DeepMemoryTrainer, type TrainerEvents, type JobSignalOption } from "./trainer/deep-memory-trainer.js";
export type { CancelInput, CancelResult } from "./trainer/cancel.js";
export type {
  DeepMemoryTrainerConfig,
  TrainerOptions,
  ResolvedTrainerOptions,
  GenerateInput,
  TrainInput,
  EvaluateInput,
  SearchInput,
  ListRunsInput,
  UpdateSettingsInput,
  ImportPairsInput,
} from "./trainer/options.js";
export type { GenerateResult } from "./trainer/generate-run.js";
export type { ImportPairsResult } from "./trainer/import-pairs.js";
export type { TrainResult } from "./trainer/train-run.js";
export type { SearchResult, CompareSearchResult } from "./trainer/search.js";
export type { RunDetail, RunPage } from "./trainer/run-views.js";
export type { ExportModelInput, ImportModelInput, ImportModelResult } from "./trainer/model-files.js";
export type {
  GetQueryTransformInput,
  QueryTransformLookup,
  ApplyDeepMemoryInput,
  ApplyDeepMemoryResult,
} from "./trainer/query-transform.js";
export { readModelFile, type ModelFile, type ModelFileHeader } from "./trainer/model-file-format.js";
export { runWorker, type RunWorkerOptions, type WorkerHandle } from "./trainer/run-worker.js";

// Errors: one class per code, and the one code -> HTTP status table.
export {
  DeepMemoryError,
  ValidationError,
  UnauthorizedError,
  NotFoundError,
  RunAlreadyActiveError,
  NothingToGenerateError,
  InvalidRunStateError,
  NoTrainedModelError,
  ModelFileInvalidError,
  ModelIncompatibleError,
  UpstreamError,
  GenerationOutputError,
  TrainingFailedError,
  StoreError,
  AbortedError,
  type DeepMemoryErrorOptions,
  type ErrorCode,
  type FieldIssue,
} from "./errors/errors.js";
export { httpStatusFor, httpStatusByCode } from "./errors/http-status.js";

// Domain types (their zod schemas: @zip/deep-memory/schemas).
export type { Chunk, SearchHit } from "./domain/chunk.js";
export type { MetricTable, EvaluationResult, TrainingReport, RetrievalReport, RunMetrics } from "./domain/metrics.js";
export type { RunStatus, GenerationSettings, TrainingRun, RunPatch, TrainingPair, ChunkOutcome } from "./domain/run.js";
export type { DeepMemorySettings, SettingsPatch, StoredModel } from "./domain/settings.js";
export type { Distribution, RunStatistics, SettingsView, RunStatusSnapshot } from "./domain/views.js";
export type { Fusion } from "./retrieval/fusion.js";
export type { FusionScore } from "./retrieval/fusion-selection.js";

// Job events.
export {
  isTerminalEvent,
  type JobEvent,
  type JobEventType,
  type JobEventOf,
  type TerminalJobEvent,
  type JobKind,
  type JobPhase,
} from "./events/events.js";
export type { JobInfo } from "./events/job-registry.js";
export type { JobEventLog, NewJob } from "./events/job-event-log.js";

// Ports: what the trainer depends on; implement one to plug in your own store or provider.
export type { VectorStore, ListChunksInput, ChunkPage, VectorSearchInput, TextSearchInput, CountChunksInput, GetEmbeddingsInput } from "./ports/vector-store.js";
export type { TrainingStore, NewRun, RunGuard, RecordChunkResult } from "./ports/training-store.js";
export type { Embedder, EmbedOptions } from "./ports/embedder.js";
export type { QuestionGenerator, GenerateQuestionsInput } from "./ports/question-generator.js";
export type { DeepMemoryEngine, EngineTrainInput, EngineProgress, EngineModel, QueryTransform } from "./ports/deep-memory-engine.js";
export type {
  JobRunner,
  InProcessJobRunner,
  QueueJobRunner,
  JobTask,
  GenerateBatchTask,
  TrainTask,
  JobTaskChunk,
  JobTaskGenerationSettings,
  JobTaskContext,
  JobTaskHandler,
} from "./ports/job-runner.js";

// Default adapters with no dependencies beyond the core's own.
export { InMemoryVectorStore, type InMemoryDocument, type InMemoryVectorStoreOptions } from "./adapters/vector-store/in-memory-vector-store.js";
export { InMemoryTrainingStore } from "./adapters/training-store/in-memory-training-store.js";
export { LocalDeepMemory, type LocalDeepMemoryOptions } from "@zip/deep-memory-engine";
export { PseudoQueryGenerator, type PseudoQueryGeneratorOptions } from "./adapters/question-generator/pseudo-query-generator.js";
export { questionPromptPresets, type QuestionPromptPreset } from "./question-prompts/question-prompt.js";
