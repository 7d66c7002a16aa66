export { AiSdkEmbedder, aiSdkEmbedderOptionsSchema, type AiSdkEmbedderOptions } from "./ai-sdk-embedder.js";
export {
  AiSdkQuestionGenerator,
  aiSdkQuestionGeneratorOptionsSchema,
  generatedQuestionsSchema,
  type AiSdkQuestionGeneratorOptions,
} from "./ai-sdk-question-generator.js";
export { mapAiSdkError, type AiSdkErrorContext } from "./ai-sdk-errors.js";
export type { ProviderOptions } from "./options.js";
