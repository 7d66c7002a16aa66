import { Embeddings } from "@langchain/core/embeddings";
import type { Embedder } from "@zip/deep-memory";

/**
 * Any deep-memory Embedder (here the local MiniLM one) as LangChain
 * embeddings, so LangChain's vector store indexes with it. In an app on
 * OpenAI you would use @langchain/openai's OpenAIEmbeddings instead.
 */
export class EmbedderEmbeddings extends Embeddings {
  readonly model: string;

  constructor(private readonly embedder: Embedder) {
    super({});
    this.model = embedder.model;
  }

  async embedDocuments(texts: string[]): Promise<number[][]> {
    return (await this.embedder.embed(texts, { kind: "document" })).map((v) => Array.from(v));
  }

  async embedQuery(text: string): Promise<number[]> {
    const [vector] = await this.embedder.embed([text], { kind: "query" });
    return Array.from(vector!);
  }
}
