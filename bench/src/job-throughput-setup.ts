import { DeepMemoryTrainer, InMemoryVectorStore, LocalDeepMemory } from "@zip/deep-memory";
import { OpenAIQuestionGenerator } from "@zip/deep-memory/openai";
import { PgBossJobRunner } from "@zip/deep-memory/pg-boss";
import { PostgresTrainingStore } from "@zip/deep-memory/postgres";
import { syntheticCorpus } from "@zip/deep-memory/testing";

/** Generator calls in flight per generation batch, and batches per worker: 8 calls in flight per worker process. */
export const CONCURRENCY = 4;
export const BATCH_CONCURRENCY = 2;

/** The trainer every process of the benchmark builds: same corpus, same store, the fake LLM over HTTP. */
export function createBenchTrainer(input: { url: string; llm: string; chunks: number; queue: boolean; eventLog?: boolean }) {
  const corpus = syntheticCorpus({ chunks: input.chunks, dims: 8, seed: 9 });
  const store = new PostgresTrainingStore({ connectionString: input.url, max: 4 });
  const trainer = new DeepMemoryTrainer({
    vectorStore: new InMemoryVectorStore(corpus.documents),
    store,
    embedder: corpus.embedder,
    generator: new OpenAIQuestionGenerator({ baseURL: input.llm, apiKey: "bench", timeoutMs: 30_000 }),
    engine: new LocalDeepMemory(),
    ...(input.queue
      ? {
          jobRunner: new PgBossJobRunner({
            connectionString: input.url,
            bossOptions: { max: 3 },
            pollingIntervalSeconds: 0.5,
            batchConcurrency: BATCH_CONCURRENCY,
          }),
          events: store.jobEventLog({ pollMs: 500 }),
        }
      : input.eventLog
        ? { events: store.jobEventLog({ pollMs: 500 }) }
        : {}),
    options: {
      questionsPerChunk: 3,
      concurrency: input.queue ? CONCURRENCY : CONCURRENCY * BATCH_CONCURRENCY,
      batchSize: 25,
      retries: 20,
      retryMinDelayMs: 20,
      retryMaxDelayMs: 2000,
      maxPairs: 1_000_000,
    },
  });
  return { trainer, store, corpus };
}
