import { InMemoryTrainingStore } from "../adapters/training-store/in-memory-training-store.js";
import { InMemoryVectorStore } from "../adapters/vector-store/in-memory-vector-store.js";
import type { GenerateQuestionsInput } from "../ports/question-generator.js";
import { unusedEngine } from "../test-utils/engines.js";
import { syntheticTrainer } from "../test-utils/synthetic-trainer.js";
import { ScriptedGenerator, syntheticCorpus, type ScriptedReply } from "../test-utils/synthetic.js";
import type { TrainerOptions } from "./options.js";

/* The trainer with a scripted question generator over a synthetic corpus, shared by the generation tests. */

export const userId = "user-a";


export function setup(
  opts: {
    chunks?: number;
    options?: TrainerOptions;
    script?: (chunkId: string, call: number, input: GenerateQuestionsInput) => ScriptedReply | undefined;
    store?: InMemoryTrainingStore;
    clock?: () => Date;
    instanceId?: string;
  } = {},
) {
  const corpus = syntheticCorpus({ chunks: opts.chunks ?? 12 });
  const vectorStore = new InMemoryVectorStore(corpus.documents);
  const store = opts.store ?? new InMemoryTrainingStore();
  const generator = new ScriptedGenerator(corpus.questionFor, opts.script);
  const trainer = syntheticTrainer(corpus, {
    vectorStore,
    store,
    generator,
    // Generation never touches the engine; one that throws proves it.
    engine: unusedEngine,
    options: { retryMinDelayMs: 1, retryMaxDelayMs: 5, concurrency: 3, ...opts.options },
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...(opts.instanceId ? { instanceId: opts.instanceId } : {}),
  });
  return { corpus, vectorStore, store, generator, trainer };
}

export async function pairsOf(store: InMemoryTrainingStore, runId: string) {
  return store.listPairs(userId, [runId]);
}


export async function waitUntil(condition: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  while (!(await condition())) {
    if (Date.now() - start > timeoutMs) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 5));
  }
}
