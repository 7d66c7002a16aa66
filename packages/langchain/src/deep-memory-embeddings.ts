import { Embeddings, type EmbeddingsInterface, type EmbeddingsParams } from "@langchain/core/embeddings";
import { ValidationError } from "@zip/deep-memory";
import type { DeepMemoryMode, DeepMemorySource } from "./deep-memory-source.js";

export interface DeepMemoryEmbeddingsInput extends EmbeddingsParams {
  /** The embeddings the documents were indexed with. */
  embeddings: EmbeddingsInterface;
  trainer: DeepMemorySource;
  userId: string;
  /** Default "auto": transformed queries when the user enabled deep memory, plain ones otherwise. */
  deepMemory?: DeepMemoryMode;
}

/**
 * LangChain embeddings for places that accept only an embeddings object (a
 * vector store's `asRetriever()`, a chain that embeds its own query):
 * `embedDocuments` is the wrapped model's, unchanged, so indexing is
 * unaffected; `embedQuery` returns the user's deep-memory-transformed query
 * vector (unit length) when deep memory applies, the plain one otherwise.
 * One instance per user (`withUser`).
 */
export class DeepMemoryEmbeddings extends Embeddings {
  readonly embeddings: EmbeddingsInterface;
  readonly trainer: DeepMemorySource;
  readonly userId: string;
  readonly deepMemory: DeepMemoryMode;
  private readonly fields: DeepMemoryEmbeddingsInput;

  constructor(fields: DeepMemoryEmbeddingsInput) {
    const { embeddings, trainer, userId, deepMemory, ...params } = fields;
    super(params);
    if (!embeddings || typeof embeddings.embedQuery !== "function") {
      throw new ValidationError("DeepMemoryEmbeddings needs the LangChain embeddings to wrap", [{ path: "embeddings", message: "required" }]);
    }
    if (!trainer || typeof trainer.applyDeepMemory !== "function") {
      throw new ValidationError("DeepMemoryEmbeddings needs a trainer (a DeepMemoryTrainer)", [{ path: "trainer", message: "required" }]);
    }
    if (typeof userId !== "string" || userId.trim() === "") {
      throw new ValidationError("DeepMemoryEmbeddings needs a userId", [{ path: "userId", message: "required" }]);
    }
    this.fields = fields;
    this.embeddings = embeddings;
    this.trainer = trainer;
    this.userId = userId;
    this.deepMemory = deepMemory ?? "auto";
  }

  withUser(userId: string): DeepMemoryEmbeddings {
    return new DeepMemoryEmbeddings({ ...this.fields, userId });
  }

  embedDocuments(documents: string[]): Promise<number[][]> {
    return this.embeddings.embedDocuments(documents);
  }

  async embedQuery(query: string): Promise<number[]> {
    const raw = await this.embeddings.embedQuery(query);
    if (this.deepMemory === "off") return raw;
    const { embedding, deepMemory } = await this.trainer.applyDeepMemory({ userId: this.userId, embedding: raw, deepMemory: this.deepMemory });
    return deepMemory.used ? Array.from(embedding) : raw;
  }
}
