/**
 * The LangChain example, offline:
 *
 *   npx -y pnpm@10.34.8 --filter @zip/example-langchain-rag start
 *
 * Indexes the example knowledge base in LangChain's MemoryVectorStore with
 * local embeddings, trains deep memory on LLM-free questions (or loads the
 * model file an earlier run saved in .deep-memory/langchain-rag), then
 * compares LangChain's own retriever with DeepMemoryRetriever on hand-written
 * questions and builds a RAG prompt through the deep-memory retriever.
 */
import { fileURLToPath } from "node:url";
import { DeepMemoryError } from "@zip/deep-memory";
import { LocalEmbedder } from "@zip/deep-memory-local-embedder";
import { runRag } from "./rag.js";

const dataDir = process.env.DEEP_MEMORY_EXAMPLE_DIR ?? fileURLToPath(new URL("../../../.deep-memory/langchain-rag", import.meta.url));

async function main() {
  let embedder: LocalEmbedder;
  try {
    embedder = new LocalEmbedder({ allowRemoteModels: false });
  } catch (error) {
    if (!DeepMemoryError.isInstance(error)) throw error;
    console.error(`The example needs the local embedding model's files.\n\n${error.message}\n\nRun it with the command above: it fetches them first.`);
    process.exit(1);
  }
  try {
    await runRag({ embedder, dataDir, log: (line) => console.log(line) });
  } finally {
    await embedder.dispose();
  }
}

main().catch((error) => {
  console.error(`\nexample failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
