import {
  DeepMemoryTrainer,
  LocalDeepMemory,
  OpenAIEmbedder,
  OpenAIQuestionGenerator,
  PseudoQueryGenerator,
  type DeepMemoryEngine,
  type Embedder,
  type InMemoryVectorStore,
  type QuestionGenerator,
  type TrainerOptions,
} from "@zip/deep-memory";
import { PGliteTrainingStore } from "@zip/deep-memory/pglite";
import { LocalEmbedder } from "@zip/deep-memory-local-embedder";
import { loadKnowledgeBase } from "@zip/example-knowledge-base";
import { ExtractiveAnswerer, OpenAIAnswerer, type Answerer } from "./answer.js";
import { chunkNotes, indexPassages, type Passage } from "./knowledge-base.js";

export interface Providers {
  embedder: Embedder;
  generator: QuestionGenerator;
  answerer: Answerer;
  /** For logs and the health route. */
  label: string;
  online: boolean;
}

/**
 * OpenAI (text-embedding-3-small, gpt-4o questions and answers) when
 * OPENAI_API_KEY is set; otherwise everything runs on this machine: local
 * MiniLM embeddings, LLM-free pseudo-questions and extractive answers.
 * @throws ModelFilesNotFoundError offline when the embedding model's files are missing (docs/local-models.md).
 */
export function providersFromEnv(env: NodeJS.ProcessEnv = process.env): Providers {
  if (env.OPENAI_API_KEY) {
    return {
      embedder: new OpenAIEmbedder(),
      generator: new OpenAIQuestionGenerator(),
      answerer: new OpenAIAnswerer({ ...(env.OPENAI_CHAT_MODEL ? { model: env.OPENAI_CHAT_MODEL } : {}) }),
      label: "OpenAI (text-embedding-3-small, gpt-4o)",
      online: true,
    };
  }
  const embedder = new LocalEmbedder({ allowRemoteModels: false });
  return {
    embedder,
    generator: new PseudoQueryGenerator(),
    answerer: new ExtractiveAnswerer(),
    label: `local ${embedder.model} embeddings, LLM-free pseudo-questions, extractive answers`,
    online: false,
  };
}

export interface BackendOptions {
  /** PGlite folder for runs, pairs, settings and models ("memory://" keeps nothing). */
  dataDir: string;
  /** Defaults to providersFromEnv(). */
  providers?: Providers;
  engine?: DeepMemoryEngine;
  /** Merged over the example's defaults. */
  trainerOptions?: TrainerOptions;
  /** Sentences per indexed passage. Default 2. */
  sentencesPerPassage?: number;
}

export interface Backend {
  trainer: DeepMemoryTrainer;
  store: PGliteTrainingStore;
  vectorStore: InMemoryVectorStore;
  passages: Passage[];
  providers: Providers;
  /** Stops running jobs (their runs stay resumable), then closes the database. */
  close(): Promise<void>;
}

/**
 * Trainer settings of this example. Measured on this knowledge base with local
 * MiniLM embeddings: with 4 LLM-free questions per passage the trained model
 * does not beat plain search on held-out questions; with 6 to 10 it does.
 */
export const exampleTrainerDefaults = {
  questionsPerChunk: 8,
  minPairs: 10,
} as const satisfies TrainerOptions;

/** The RAG backend's retrieval stack: the example knowledge base embedded and indexed, runs in PGlite, a trainer over both. */
export async function openBackend(options: BackendOptions): Promise<Backend> {
  const providers = options.providers ?? providersFromEnv();
  const passages = chunkNotes(loadKnowledgeBase(), options.sentencesPerPassage ?? 2);
  const vectorStore = await indexPassages(providers.embedder, passages);
  const store = await PGliteTrainingStore.open({ dataDir: options.dataDir });
  const trainer = new DeepMemoryTrainer({
    vectorStore,
    store,
    embedder: providers.embedder,
    generator: providers.generator,
    engine: options.engine ?? new LocalDeepMemory(),
    options: { ...exampleTrainerDefaults, concurrency: providers.online ? 4 : 1, ...options.trainerOptions },
  });
  let closing: Promise<void> | null = null;
  return {
    trainer,
    store,
    vectorStore,
    passages,
    providers,
    close() {
      closing ??= (async () => {
        try {
          await trainer.close();
        } finally {
          await store.close();
        }
      })();
      return closing;
    },
  };
}
