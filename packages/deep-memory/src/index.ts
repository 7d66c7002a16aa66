export * from "./errors/index.js";
export * from "./domain/index.js";
export type * from "./ports/index.js";
export * from "./events/index.js";
export * from "./evaluation/index.js";
export * from "./trainer/index.js";
export { InMemoryTrainingStore } from "./adapters/training-store/in-memory-training-store.js";
export {
  InMemoryVectorStore,
  inMemoryVectorStoreOptionsSchema,
  type InMemoryDocument,
  type InMemoryVectorStoreOptions,
} from "./adapters/vector-store/in-memory-vector-store.js";
export { Bm25Index, bm25OptionsSchema, type Bm25Options, type Bm25Hit } from "./retrieval/bm25-index.js";
export { englishTerms, englishStopWords } from "./retrieval/english-analyzer.js";
export {
  fusionSchema,
  fuseRankings,
  legDepth,
  describeFusion,
  defaultHybridFusion,
  denseOnly,
  type Fusion,
  type RankedHit,
} from "./retrieval/fusion.js";
export { chooseFusion, fusionCandidates, fusedRanking, candidateDepth, type FusionScore, type LegRankings } from "./retrieval/fusion-selection.js";
export { copiedPhraseShare, isCopiedQuestion } from "./retrieval/copied-questions.js";
export { fusedSearch } from "./retrieval/search-legs.js";
export { retrainMaxQuestions, saturatedHeldOutRecall } from "./trainer/training.js";
export { withRetry, type RetryOptions, type RetryInfo } from "./retry/with-retry.js";
export { parseRetryAfterMs } from "./retry/retry-after.js";
export {
  buildQuestionPrompt,
  questionPromptPresets,
  cleanGeneratedQuestions,
  type QuestionPrompt,
  type QuestionPromptInput,
  type QuestionPromptPreset,
} from "./question-prompts/index.js";
export { PseudoQueryGenerator, PSEUDO_QUERY_MODEL, type PseudoQueryGeneratorOptions } from "./adapters/question-generator/pseudo-query-generator.js";
export { LocalDeepMemory, localDeepMemoryOptionsSchema, type LocalDeepMemoryOptions } from "@zip/deep-memory-engine";
export {
  readModelFile,
  MODEL_FILE_FORMAT,
  MODEL_FILE_VERSION,
  modelFileHeaderSchema,
  type ModelFile,
  type ModelFileHeader,
} from "./trainer/model-file-format.js";
