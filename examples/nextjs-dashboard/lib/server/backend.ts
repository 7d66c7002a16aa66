import { DeepMemoryTrainer, InMemoryVectorStore, LocalDeepMemory, PseudoQueryGenerator, type InMemoryDocument } from "@zip/deep-memory";
import { PGliteTrainingStore } from "@zip/deep-memory/pglite";
import { LocalEmbedder } from "@zip/deep-memory-local-embedder";
import { chunkNotes, loadKnowledgeBase } from "@zip/example-knowledge-base";

export interface Backend {
  trainer: DeepMemoryTrainer;
  /** Indexed passages, for the health line and the chat's titles. */
  passageCount: number;
  label: string;
}

/**
 * Local mode's retrieval stack, all on this machine: the example knowledge
 * base embedded with all-MiniLM-L6-v2 on the CPU, LLM-free pseudo-questions,
 * runs kept in PGlite (embedded PostgreSQL) under DEEP_MEMORY_DATA_DIR.
 * A real app builds the same trainer over its own vector store, a Supabase
 * training store and an LLM question generator (see README.md).
 */
async function openBackend(env: NodeJS.ProcessEnv): Promise<Backend> {
  const embedder = new LocalEmbedder({ allowRemoteModels: false });
  const passages = chunkNotes(loadKnowledgeBase(), 2);
  const vectors = await embedder.embed(
    passages.map((p) => p.text),
    { kind: "document" },
  );
  const documents: InMemoryDocument[] = passages.map((p, i) => ({
    id: p.id,
    text: p.text,
    embedding: vectors[i]!,
    metadata: { title: p.title, noteId: p.noteId },
  }));
  const store = await PGliteTrainingStore.open({ dataDir: env.DEEP_MEMORY_DATA_DIR ?? ".deep-memory/nextjs-dashboard" });
  const trainer = new DeepMemoryTrainer({
    vectorStore: new InMemoryVectorStore(documents),
    store,
    embedder,
    generator: new PseudoQueryGenerator(),
    engine: new LocalDeepMemory(),
    options: {
      // With 4 LLM-free questions per passage the model does not beat plain search on this knowledge base; with 6-10 it does.
      questionsPerChunk: 8,
      minPairs: 10,
      concurrency: 1,
      // Paces generation as a rate-limited LLM would (the browser tests use it to reload mid-job).
      ...(env.GENERATION_DELAY_MS ? { delayMs: Number(env.GENERATION_DELAY_MS) } : {}),
    },
  });
  return { trainer, passageCount: passages.length, label: `local ${embedder.model} embeddings, LLM-free questions, PGlite` };
}

// One backend per server process. Kept on globalThis so `next dev`'s module reloads reuse it (PGlite opens a folder once).
const holder = globalThis as typeof globalThis & { __deepMemoryBackend?: Promise<Backend> };

export function getBackend(): Promise<Backend> {
  holder.__deepMemoryBackend ??= openBackend(process.env).catch((error: unknown) => {
    holder.__deepMemoryBackend = undefined; // the next request tries again (e.g. after fetching the model files)
    throw error;
  });
  return holder.__deepMemoryBackend;
}
