import { DeepMemoryTrainer, InMemoryTrainingStore, InMemoryVectorStore, LocalDeepMemory } from "@zip/deep-memory";
import { OpenAIQuestionGenerator } from "@zip/deep-memory/openai";
import { questionsReply, setupOpenAIMock, syntheticCorpus, chunkTextFrom } from "@zip/deep-memory/testing";
import { afterAll, afterEach, describe, expect, it } from "vitest";

// A host's own test, written only against the published entry points.
const openai = setupOpenAIMock({ afterEach, afterAll });

describe("@zip/deep-memory/testing", () => {
  it("runs a host's generate -> train workflow against the fake OpenAI server and a synthetic corpus", async () => {
    const corpus = syntheticCorpus({ chunks: 12, dims: 16, seed: 5 });
    openai.chat.respondWith((request) => questionsReply([`What does ${chunkTextFrom(request).split(" ").slice(0, 3).join(" ")} say?`]));
    const trainer = new DeepMemoryTrainer({
      vectorStore: new InMemoryVectorStore(corpus.documents),
      embedder: corpus.embedder,
      store: new InMemoryTrainingStore(),
      generator: new OpenAIQuestionGenerator({ apiKey: "sk-test" }),
      engine: new LocalDeepMemory(),
      options: { questionsPerChunk: 1 },
    });
    const { jobId } = await trainer.generate({ userId: "host-test" });
    expect(await trainer.waitForJob({ userId: "host-test", jobId })).toMatchObject({ type: "completed", pairCount: 12 });
    expect(openai.chat.requests).toHaveLength(12);
    await trainer.close();
  });
});
