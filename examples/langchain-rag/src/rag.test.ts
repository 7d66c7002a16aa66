import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalEmbedder } from "@zip/deep-memory-local-embedder";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runRag, type RagReport } from "./rag.js";

// The example runs the real local embedding model; without its files these tests are skipped, never faked.
function localEmbedder(): LocalEmbedder | null {
  try {
    return new LocalEmbedder({ allowRemoteModels: false });
  } catch {
    return null;
  }
}
const embedder = localEmbedder();
if (!embedder) console.warn("[langchain-rag] SKIPPING the example's test: no all-MiniLM-L6-v2 files found (set DEEP_MEMORY_MODEL_DIR; docs/local-models.md).");

describe.skipIf(!embedder)("the LangChain RAG example", () => {
  let dataDir: string;
  let first: RagReport;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "langchain-rag-"));
    first = await runRag({ embedder: embedder!, dataDir });
  });
  afterAll(async () => {
    await embedder?.dispose();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("trains on the LangChain store and finds more right notes on hand-written questions than LangChain's own retriever", () => {
    expect(first.modelSource).toBe("trained");
    expect(first.questions).toBeGreaterThan(50);
    // Measured: hit@5 0.909 -> 0.977, hit@10 0.955 -> 0.989 (88 questions).
    expect(first.withDeepMemory["hit@5"]).toBeGreaterThan(first.plain["hit@5"]);
    expect(first.withDeepMemory["hit@10"]).toBeGreaterThanOrEqual(first.plain["hit@10"]);
    expect(first.samplePrompt).toMatch(/^system: Answer from the context only\. Context:\n\[vwap\] /);
  });

  it("loads the saved model file on the next start instead of training, with the same results", async () => {
    const second = await runRag({ embedder: embedder!, dataDir });
    expect(second.modelSource).toBe("file");
    expect(second.withDeepMemory).toEqual(first.withDeepMemory);
  });
});
