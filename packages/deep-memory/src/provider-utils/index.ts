// @zip/deep-memory/provider-utils: for writing an embedder or question
// generator adapter (as @zip/deep-memory-ai-sdk does): retries that honour
// Retry-After, the question prompt and the checks on a model's questions,
// mapping foreign errors to the core's, and where a worker thread starts
// from (the local embedder's, as the engine's).
export { withRetry, type RetryOptions, type RetryInfo } from "../retry/with-retry.js";
export { parseRetryAfterMs } from "../retry/retry-after.js";
export { buildQuestionPrompt, type QuestionPrompt, type QuestionPromptInput } from "../question-prompts/question-prompt.js";
export { cleanGeneratedQuestions } from "../question-prompts/clean-questions.js";
export { toDeepMemoryError } from "../errors/errors.js";
export { parseOrThrow } from "../errors/validation.js";
export { startWorker, workerEntry, workerThreads, type WorkerEntry, type WorkerStartOptions } from "@zip/deep-memory-engine/worker-entry";
