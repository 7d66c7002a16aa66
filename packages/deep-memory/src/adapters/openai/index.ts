// OpenAI and OpenAI-compatible providers (Azure, vLLM, Ollama, LM Studio...): install `openai` to use them.
export { OpenAIEmbedder, openAIEmbedderOptionsSchema, type OpenAIEmbedderOptions } from "./openai-embedder.js";
export {
  OpenAIQuestionGenerator,
  openAIQuestionGeneratorOptionsSchema,
  type OpenAIQuestionGeneratorOptions,
} from "./openai-question-generator.js";
