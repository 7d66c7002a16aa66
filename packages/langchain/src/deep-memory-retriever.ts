import type { CallbackManagerForRetrieverRun } from "@langchain/core/callbacks/manager";
import type { DocumentInterface } from "@langchain/core/documents";
import { BaseRetriever, type BaseRetrieverInput } from "@langchain/core/retrievers";
import type { RunnableConfig } from "@langchain/core/runnables";
import type { VectorStoreInterface } from "@langchain/core/vectorstores";
import { ValidationError } from "@zip/deep-memory";
import type { DeepMemoryMode, DeepMemorySource, DeepMemoryUsage } from "./deep-memory-source.js";

export interface DeepMemoryRetrieverInput<V extends VectorStoreInterface = VectorStoreInterface> extends BaseRetrieverInput {
  /** Any LangChain vector store; its `embeddings` embed the query. */
  vectorStore: V;
  /** Where the user's deep memory comes from: a `DeepMemoryTrainer` trained on the same embedding model. */
  trainer: DeepMemorySource;
  /** Whose deep memory to apply. Or per call: `retriever.invoke(query, { configurable: { userId } })`. */
  userId?: string;
  /** Documents to return (LangChain's default, 4). */
  k?: number;
  /** Passed to `similaritySearchVectorWithScore`, e.g. to scope the search to the user's documents. */
  filter?: V["FilterType"];
  /** Default "auto": deep memory when the user enabled it, plain search otherwise. */
  deepMemory?: DeepMemoryMode;
}

export interface DeepMemoryRetrieval {
  /** Best first, with the store's own scores. */
  results: [DocumentInterface, number][];
  deepMemory: DeepMemoryUsage;
}

export interface DeepMemorySearchOptions<V extends VectorStoreInterface = VectorStoreInterface> {
  userId?: string;
  k?: number;
  filter?: V["FilterType"];
  deepMemory?: DeepMemoryMode;
}

/**
 * A LangChain retriever over any vector store that applies the user's deep
 * memory to the query embedding before searching
 * (`similaritySearchVectorWithScore`), and searches plainly when the user has
 * it off or has no model. Stored document embeddings are never touched.
 *
 * Emits a `deep_memory` custom callback event per search with whether deep
 * memory was used (visible in LangSmith and `streamEvents`).
 */
export class DeepMemoryRetriever<V extends VectorStoreInterface = VectorStoreInterface> extends BaseRetriever {
  static override lc_name(): string {
    return "DeepMemoryRetriever";
  }
  override lc_namespace = ["zip", "deep_memory", "retrievers"];

  readonly vectorStore: V;
  readonly trainer: DeepMemorySource;
  readonly userId: string | undefined;
  readonly k: number;
  readonly filter: V["FilterType"] | undefined;
  readonly deepMemory: DeepMemoryMode;
  private readonly fields: DeepMemoryRetrieverInput<V>;

  constructor(fields: DeepMemoryRetrieverInput<V>) {
    const { vectorStore, trainer, userId, k, filter, deepMemory, ...base } = fields;
    // Only the callback fields reach LangChain's serialisable kwargs: the store and trainer are live objects.
    super(base);
    if (!vectorStore || typeof vectorStore.similaritySearchVectorWithScore !== "function" || !vectorStore.embeddings) {
      throw new ValidationError("DeepMemoryRetriever needs a LangChain vectorStore with embeddings", [{ path: "vectorStore", message: "required" }]);
    }
    if (!trainer || typeof trainer.applyDeepMemory !== "function") {
      throw new ValidationError("DeepMemoryRetriever needs a trainer (a DeepMemoryTrainer)", [{ path: "trainer", message: "required" }]);
    }
    if (k !== undefined && (!Number.isInteger(k) || k < 1 || k > 1000)) {
      throw new ValidationError(`k must be an integer from 1 to 1000, got ${k}`, [{ path: "k", message: "1..1000" }]);
    }
    this.fields = fields;
    this.vectorStore = vectorStore;
    this.trainer = trainer;
    this.userId = userId;
    this.k = k ?? 4;
    this.filter = filter;
    this.deepMemory = deepMemory ?? "auto";
  }

  /** The same retriever for another user (cheap: shares the store and the trainer). */
  withUser(userId: string): DeepMemoryRetriever<V> {
    return new DeepMemoryRetriever({ ...this.fields, userId });
  }

  /** `configurable.userId` in the call's config picks the user for this call. */
  override async invoke(input: string, options?: RunnableConfig): Promise<DocumentInterface[]> {
    const userId: unknown = options?.configurable?.userId;
    if (typeof userId === "string" && userId !== this.userId) return this.withUser(userId).invoke(input, options);
    return super.invoke(input, options);
  }

  /** Documents with the store's scores, and whether deep memory was applied. */
  async searchWithScores(query: string, options: DeepMemorySearchOptions<V> = {}): Promise<DeepMemoryRetrieval> {
    const userId = options.userId ?? this.userId;
    if (!userId) {
      throw new ValidationError("DeepMemoryRetriever needs a userId: pass it to the constructor, withUser(), or invoke's configurable.userId", [
        { path: "userId", message: "required" },
      ]);
    }
    const raw = await this.vectorStore.embeddings.embedQuery(query);
    const { embedding, deepMemory } = await this.trainer.applyDeepMemory({ userId, embedding: raw, deepMemory: options.deepMemory ?? this.deepMemory });
    const results = await this.vectorStore.similaritySearchVectorWithScore(Array.from(embedding), options.k ?? this.k, options.filter ?? this.filter);
    return { results, deepMemory };
  }

  override async _getRelevantDocuments(query: string, runManager?: CallbackManagerForRetrieverRun): Promise<DocumentInterface[]> {
    const { results, deepMemory } = await this.searchWithScores(query);
    await runManager?.handleCustomEvent("deep_memory", deepMemory);
    return results.map(([document]) => document);
  }
}
