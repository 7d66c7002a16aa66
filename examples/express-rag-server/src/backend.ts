import { hostname } from "node:os";
import { resolve } from "node:path";
import {
  DeepMemoryTrainer,
  LocalDeepMemory,
  PseudoQueryGenerator,
  questionPromptPresets,
  type DeepMemoryEngine,
  type Embedder,
  type InMemoryVectorStore,
  type QuestionGenerator,
  type TrainerOptions,
  type TrainingStore,
} from "@zip/deep-memory";
import { OpenAIEmbedder, OpenAIQuestionGenerator } from "@zip/deep-memory/openai";
import { PGliteTrainingStore } from "@zip/deep-memory/pglite";
import { PostgresTrainingStore } from "@zip/deep-memory/postgres";
import { LocalEmbedder } from "@zip/deep-memory-local-embedder";
import { loadKnowledgeBase, type KnowledgeBaseDocument } from "@zip/example-knowledge-base";
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
      generator: new OpenAIQuestionGenerator({ ...questionPromptPresets.finance }),
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

/** A training store the backend closes when it stops. */
export type ClosableTrainingStore = TrainingStore & { close(): Promise<void> };

export interface BackendOptions {
  /** PGlite folder for runs, pairs, settings and models ("memory://" keeps nothing). Used unless `databaseUrl` or `store` is given. */
  dataDir?: string;
  /** Keep runs in this PostgreSQL database instead (the schema is applied on start): what several server processes share. */
  databaseUrl?: string;
  /** A store opened by the caller (e.g. wrapped to inject faults in tests); closed with the backend. */
  store?: ClosableTrainingStore;
  /**
   * Names this server in run leases. A restart with the same id takes over
   * the runs its previous incarnation left mid-job at once, instead of
   * waiting for their leases to expire. Must differ between processes that
   * run at the same time against one database. Default: see defaultInstanceId.
   */
  instanceId?: string;
  /** Defaults to providersFromEnv(). */
  providers?: Providers;
  engine?: DeepMemoryEngine;
  /** Merged over the example's defaults. */
  trainerOptions?: TrainerOptions;
  /** The notes to index. Default: the example knowledge base. */
  documents?: readonly KnowledgeBaseDocument[];
  /** Sentences per indexed passage. Default 2. */
  sentencesPerPassage?: number;
}

export interface Backend {
  trainer: DeepMemoryTrainer;
  store: ClosableTrainingStore;
  vectorStore: InMemoryVectorStore;
  passages: Passage[];
  providers: Providers;
  /** The id this server's leases carry (undefined: the trainer's default, host:pid). */
  instanceId: string | undefined;
  /** Stops running jobs (their runs stay resumable), then closes the database. */
  close(): Promise<void>;
}

/**
 * The lease identity of a server that does not name one. A PGlite folder is
 * opened by one process at a time, so the folder names the server; against
 * PostgreSQL, the port it listens on does (two live servers on one host cannot
 * share it). Either survives a restart, so the restarted server recognises the
 * runs it was working on when it died. Undefined where neither applies
 * (in-memory PGlite, an ephemeral port): the trainer then uses host:pid.
 */
export function defaultInstanceId(options: { dataDir?: string | undefined; databaseUrl?: string | undefined; port?: number | undefined }): string | undefined {
  if (options.databaseUrl) return options.port ? `${hostname()}:port-${options.port}` : undefined;
  if (options.dataDir && !options.dataDir.startsWith("memory://")) return `${hostname()}:pglite-${resolve(options.dataDir)}`;
  return undefined;
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

/** The RAG backend's retrieval stack: the example knowledge base embedded and indexed, runs in PGlite or PostgreSQL, a trainer over both. */
export async function openBackend(options: BackendOptions): Promise<Backend> {
  const providers = options.providers ?? providersFromEnv();
  const passages = chunkNotes(options.documents ?? loadKnowledgeBase(), options.sentencesPerPassage ?? 2);
  const vectorStore = await indexPassages(providers.embedder, passages);
  const store: ClosableTrainingStore =
    options.store ??
    (options.databaseUrl
      ? await PostgresTrainingStore.connect({ connectionString: options.databaseUrl })
      : await PGliteTrainingStore.open({ dataDir: options.dataDir ?? "memory://" }));
  const instanceId = options.instanceId ?? defaultInstanceId(options);
  const trainer = new DeepMemoryTrainer({
    vectorStore,
    store,
    embedder: providers.embedder,
    generator: providers.generator,
    engine: options.engine ?? new LocalDeepMemory(),
    options: { ...exampleTrainerDefaults, concurrency: providers.online ? 4 : 1, ...options.trainerOptions },
    ...(instanceId ? { instanceId } : {}),
  });
  let closing: Promise<void> | null = null;
  return {
    trainer,
    store,
    vectorStore,
    passages,
    providers,
    instanceId,
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
