/**
 * `@zip/deep-memory/testing`: what this repository tests itself with, for your
 * own tests of code that uses deep memory. Needs `msw` (and `openai` for the
 * OpenAI adapters under test); works with any test runner.
 */
export {
  createOpenAIMock,
  setupOpenAIMock,
  OPENAI_BASE_URL,
  chatCompletion,
  questionsReply,
  refusalReply,
  embeddingsResponse,
  openAIError,
  networkError,
  withDelay,
  chunkTextFrom,
  fakeEmbedding,
  type OpenAIMock,
  type OpenAIMockOptions,
  type TestHooks,
  type EndpointMock,
  type ChatRequest,
  type EmbeddingsRequest,
  type ChatReply,
  type EmbeddingsReply,
  type MockResponse,
  type NetworkFailure,
  type DelayedReply,
} from "../test-utils/openai-server.js";
export {
  syntheticCorpus,
  SyntheticEmbedder,
  gaussian,
  ScriptedGenerator,
  hangUntilAborted,
  type SyntheticCorpus,
  type ScriptedReply,
} from "../test-utils/synthetic.js";
export { unusedEngine, identityEngine, correlationWeights, linearTransform } from "../test-utils/engines.js";
export { deepMemoryRejection } from "../test-utils/rejection.js";
/** The seeded generator and string hash deep memory itself draws with, so a host's synthetic data reproduces run to run. */
export { mulberry32, fnv1a } from "../shared/random.js";
