import { Embeddings } from "@langchain/core/embeddings";
import { DeepMemoryError, UpstreamError } from "@zip/deep-memory";
import { describe, expect, it } from "vitest";
import { LangChainEmbedder } from "./langchain-embedder.js";

/** Queries and documents embed differently, as with an instruction-prefixed model, and every call is recorded. */
class PrefixedEmbeddings extends Embeddings {
  readonly calls: string[] = [];
  constructor(readonly modelName = "prefixed-model") {
    super({});
  }
  async embedDocuments(texts: string[]) {
    this.calls.push(`documents:${texts.length}`);
    return texts.map((t) => [t.length, 0]);
  }
  async embedQuery(text: string) {
    this.calls.push("query");
    return [0, text.length];
  }
}

describe("LangChainEmbedder", () => {
  it("embeds questions with embedQuery and chunks with embedDocuments, as the retriever and the store do", async () => {
    const embeddings = new PrefixedEmbeddings();
    const embedder = new LangChainEmbedder({ embeddings });
    expect(embedder.model).toBe("prefixed-model");
    expect((await embedder.embed(["ab", "abc"], { kind: "query" })).map((v) => Array.from(v))).toEqual([[0, 2], [0, 3]]);
    expect((await embedder.embed(["ab", "abc"], { kind: "document" })).map((v) => Array.from(v))).toEqual([[2, 0], [3, 0]]);
    expect(embeddings.calls).toEqual(["query", "query", "documents:2"]);
  });

  it("batches questions through embedDocuments for symmetric models when asked", async () => {
    const embeddings = new PrefixedEmbeddings();
    await new LangChainEmbedder({ embeddings, queriesAsDocuments: true }).embed(["a", "b", "c"], { kind: "query" });
    expect(embeddings.calls).toEqual(["documents:3"]);
  });

  it("needs the model's name when the embeddings do not say it", () => {
    const anonymous = Object.assign(new PrefixedEmbeddings(), { modelName: undefined });
    expect(() => new LangChainEmbedder({ embeddings: anonymous })).toThrow(/needs the embedding model's name/);
    expect(new LangChainEmbedder({ embeddings: anonymous, model: "my-model" }).model).toBe("my-model");
  });

  it("reports a provider failure as UpstreamError, a 429 as RATE_LIMITED", async () => {
    const failing = new PrefixedEmbeddings();
    failing.embedDocuments = async () => {
      throw Object.assign(new Error("Rate limit reached"), { status: 429 });
    };
    const error = await new LangChainEmbedder({ embeddings: failing }).embed(["x"]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamError);
    expect(error).toMatchObject({ code: "RATE_LIMITED", status: 429, provider: "langchain" });
    expect((error as Error).message).toMatch(/prefixed-model failed \(429\): Rate limit reached/);

    const aborted = new AbortController();
    aborted.abort();
    const stopped = await new LangChainEmbedder({ embeddings: new PrefixedEmbeddings() }).embed(["x"], { signal: aborted.signal }).catch((e: unknown) => e);
    expect(DeepMemoryError.isInstance(stopped) && stopped.code).toBe("ABORTED");
  });
});
