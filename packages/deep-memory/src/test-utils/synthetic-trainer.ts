import { InMemoryVectorStore } from "../adapters/vector-store/in-memory-vector-store.js";
import { DeepMemoryTrainer } from "../trainer/deep-memory-trainer.js";
import type { DeepMemoryTrainerConfig } from "../trainer/options.js";
import { ScriptedGenerator, type SyntheticCorpus } from "./synthetic.js";

type Wiring = "vectorStore" | "embedder" | "generator";

/**
 * A trainer wired to a synthetic corpus: its documents in an in-memory vector
 * store, its embedder, and a scripted generator writing the questions that
 * embedder knows. Any of the three can be given instead.
 */
export function syntheticTrainer(
  corpus: SyntheticCorpus,
  config: Omit<DeepMemoryTrainerConfig, Wiring> & Partial<Pick<DeepMemoryTrainerConfig, Wiring>>,
): DeepMemoryTrainer {
  return new DeepMemoryTrainer({
    ...config,
    vectorStore: config.vectorStore ?? new InMemoryVectorStore(corpus.documents),
    embedder: config.embedder ?? corpus.embedder,
    generator: config.generator ?? new ScriptedGenerator(corpus.questionFor),
  });
}
