import type { SearchHit } from "../domain/chunk.js";
import type { EvaluationResult } from "../domain/metrics.js";
import type { DeepMemorySettings } from "../domain/settings.js";
import { NoTrainedModelError } from "../errors/errors.js";
import { parseOrThrow } from "../errors/validation.js";
import type { QueryTransform } from "../ports/deep-memory-engine.js";
import type { TrainerContext } from "./context.js";
import { embedQueries } from "./corpus.js";
import type { ModelCache } from "./model-cache.js";
import { evaluateInputSchema, searchInputSchema, type EvaluateInput, type SearchInput } from "./options.js";
import { evaluateWithStore } from "./training.js";

export interface SearchResult {
  hits: SearchHit[];
  deepMemory: {
    used: boolean;
    modelRunId: string | null;
    /** Why deep memory was not applied, when it was not. */
    reason: string | null;
  };
}

export interface CompareSearchResult {
  withDeepMemory: SearchHit[];
  withoutDeepMemory: SearchHit[];
  modelRunId: string | null;
  /** Set when no model could be applied (then both lists are plain search). */
  reason: string | null;
}

export interface ActiveModel {
  transform: QueryTransform;
  modelRunId: string;
}

type ModelOrReason = ActiveModel | { reason: string };

/** Searching with and without the user's deep memory, and measuring it. */
export class Retrieval {
  constructor(
    private readonly ctx: TrainerContext,
    private readonly models: ModelCache,
  ) {}

  /**
   * What the host's chat retrieval calls: embeds the query, applies the user's
   * deep memory when enabled, and searches the vector store.
   */
  async search(input: SearchInput): Promise<SearchResult> {
    const { userId, query, k, deepMemory } = parseOrThrow(searchInputSchema, input, "search input");
    const { vectorStore, embedder, store } = this.ctx.config;
    const [vector] = await embedQueries(embedder, [query], 1);
    let model: ModelOrReason = { reason: "deep memory was turned off for this search" };
    if (deepMemory !== "off") {
      const settings = await store.getSettings(userId);
      model = deepMemory === "auto" && !settings?.enabled ? { reason: "deep memory is disabled for this user" } : await this.activeModel(userId, settings);
    }
    if ("reason" in model) {
      const hits = await vectorStore.search({ userId, embedding: vector!, k });
      return { hits, deepMemory: { used: false, modelRunId: null, reason: model.reason } };
    }
    const hits = await vectorStore.search({ userId, embedding: model.transform.apply(vector!), k });
    return { hits, deepMemory: { used: true, modelRunId: model.modelRunId, reason: null } };
  }

  /** The same query with and without deep memory, for admin screens. */
  async compareSearch(input: Omit<SearchInput, "deepMemory">): Promise<CompareSearchResult> {
    const { userId, query, k } = parseOrThrow(searchInputSchema, input, "search input");
    const { vectorStore, embedder, store } = this.ctx.config;
    const [vector] = await embedQueries(embedder, [query], 1);
    const model = await this.activeModel(userId, await store.getSettings(userId));
    const without = await vectorStore.search({ userId, embedding: vector!, k });
    if ("reason" in model) return { withDeepMemory: without, withoutDeepMemory: without, modelRunId: null, reason: model.reason };
    const withModel = await vectorStore.search({ userId, embedding: model.transform.apply(vector!), k });
    return { withDeepMemory: withModel, withoutDeepMemory: without, modelRunId: model.modelRunId, reason: null };
  }

  /**
   * Recall@k (Activeloop's definition), nDCG@10 and MRR@10 with and without
   * deep memory for the given questions.
   */
  async evaluate(input: EvaluateInput): Promise<EvaluationResult> {
    const { userId, queries, relevance, topK, runId } = parseOrThrow(evaluateInputSchema, input, "evaluate input");
    const settings = await this.ctx.config.store.getSettings(userId);
    const modelRunId = runId ?? settings?.modelRunId ?? settings?.lastTrainingRunId ?? null;
    if (!modelRunId) throw new NoTrainedModelError("No trained deep memory to evaluate: train a run first");
    const transform = await this.loadTransform(userId, modelRunId);
    if ("reason" in transform) throw new NoTrainedModelError(transform.reason);
    const vectors = await embedQueries(this.ctx.config.embedder, queries, this.ctx.options.embedBatchSize);
    return evaluateWithStore({
      userId,
      vectorStore: this.ctx.config.vectorStore,
      queryVectors: vectors,
      relevant: relevance.map((list) => new Set(list.filter(([, score]) => score > 0).map(([id]) => id))),
      transform: transform.transform,
      topK,
    });
  }

  /** The model search applies for the user's settings, or why there is none. */
  async activeModel(userId: string, settings: DeepMemorySettings | null): Promise<ModelOrReason> {
    const modelRunId = settings?.modelRunId ?? null;
    if (!modelRunId) return { reason: "no trained deep memory that beats plain search" };
    const loaded = await this.loadTransform(userId, modelRunId);
    return "reason" in loaded ? loaded : { transform: loaded.transform, modelRunId };
  }

  private async loadTransform(userId: string, runId: string): Promise<{ transform: QueryTransform } | { reason: string }> {
    const cached = this.models.get(userId, runId);
    if (cached) return { transform: cached };
    const { store, embedder, engine } = this.ctx.config;
    const model = await store.getModel(userId, runId);
    if (!model) return { reason: `Run ${runId} has no stored deep memory model` };
    if (model.embeddingModel !== embedder.model) {
      return {
        reason: `The model of run ${runId} was trained on ${model.embeddingModel} embeddings, but the embedder is ${embedder.model}; train again`,
      };
    }
    const transform = engine.load(model);
    this.models.set(userId, runId, transform);
    return { transform };
  }
}
