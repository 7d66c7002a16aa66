import type { SearchHit } from "../domain/chunk.js";
import { retrievalReportSchema, type EvaluationResult } from "../domain/metrics.js";
import type { DeepMemorySettings } from "../domain/settings.js";
import { NoTrainedModelError } from "../errors/errors.js";
import { parseOrThrow } from "../errors/validation.js";
import type { QueryTransform } from "../ports/deep-memory-engine.js";
import type { TrainerContext } from "./context.js";
import { embedQueries } from "./corpus.js";
import type { ModelCache } from "./model-cache.js";
import { defaultHybridFusion, denseOnly, type Fusion } from "../retrieval/fusion.js";
import { applicableFusion } from "../retrieval/neighbor-boost.js";
import { fusedSearch } from "../retrieval/search-legs.js";
import { evaluateInputSchema, searchInputSchema, type EvaluateInput, type SearchInput } from "./options.js";
import { evaluateWithStore } from "./training.js";

export interface SearchResult {
  hits: SearchHit[];
  deepMemory: {
    used: boolean;
    modelRunId: string | null;
    /** Why deep memory was not applied, when it was not. */
    reason: string | null;
    /**
     * How dense and keyword results were combined for these hits: the
     * model's fusion (chosen on validation when it was trained) when deep
     * memory was used, else plain search's (hybrid with RRF k=60 where the
     * vector store has `textSearch`, else dense).
     */
    fusion: Fusion;
  };
}

export interface CompareSearchResult {
  withDeepMemory: SearchHit[];
  withoutDeepMemory: SearchHit[];
  modelRunId: string | null;
  /** Set when no model could be applied (then both lists are plain search). */
  reason: string | null;
  /** The fusion behind each list. */
  fusion: { withDeepMemory: Fusion; withoutDeepMemory: Fusion };
}

export interface ActiveModel {
  transform: QueryTransform;
  modelRunId: string;
  /** What search applies with this model; dense-only for models trained before hybrid search. */
  fusion: Fusion;
}

interface LoadedModel {
  transform: QueryTransform;
  fusion: Fusion;
}

type ModelOrReason = ActiveModel | { reason: string };

/** Searching with and without the user's deep memory, and measuring it. */
export class Retrieval {
  /** Each cached model's fusion, next to its transform in `models` (same keys; tiny, so kept a little longer). */
  private readonly fusions = new Map<string, Fusion>();

  constructor(
    private readonly ctx: TrainerContext,
    private readonly models: ModelCache,
  ) {}

  /** What search applies without deep memory: hybrid with the default fusion where the store has keyword search. */
  plainFusion(): Fusion {
    return this.ctx.config.vectorStore.textSearch ? defaultHybridFusion : denseOnly;
  }

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
      const fusion = this.plainFusion();
      const hits = await fusedSearch({ vectorStore, userId, query, embedding: vector!, fusion, k });
      return { hits, deepMemory: { used: false, modelRunId: null, reason: model.reason, fusion } };
    }
    const fusion = this.applicable(model.fusion);
    const hits = await fusedSearch({ vectorStore, userId, query, embedding: model.transform.apply(vector!), fusion, k });
    return { hits, deepMemory: { used: true, modelRunId: model.modelRunId, reason: null, fusion } };
  }

  /** The same query with and without deep memory, for admin screens. */
  async compareSearch(input: Omit<SearchInput, "deepMemory">): Promise<CompareSearchResult> {
    const { userId, query, k } = parseOrThrow(searchInputSchema, input, "search input");
    const { vectorStore, embedder, store } = this.ctx.config;
    const [vector] = await embedQueries(embedder, [query], 1);
    const model = await this.activeModel(userId, await store.getSettings(userId));
    const plain = this.plainFusion();
    const without = await fusedSearch({ vectorStore, userId, query, embedding: vector!, fusion: plain, k });
    if ("reason" in model) {
      return { withDeepMemory: without, withoutDeepMemory: without, modelRunId: null, reason: model.reason, fusion: { withDeepMemory: plain, withoutDeepMemory: plain } };
    }
    const fusion = this.applicable(model.fusion);
    const withModel = await fusedSearch({ vectorStore, userId, query, embedding: model.transform.apply(vector!), fusion, k });
    return { withDeepMemory: withModel, withoutDeepMemory: without, modelRunId: model.modelRunId, reason: null, fusion: { withDeepMemory: fusion, withoutDeepMemory: plain } };
  }

  /**
   * Recall@k (Activeloop's definition), nDCG@10 and MRR@10 with and without
   * deep memory for the given questions, each as search would run it: with
   * the model's fusion, and plain search's (hybrid where the store has
   * keyword search).
   */
  async evaluate(input: EvaluateInput): Promise<EvaluationResult> {
    const { userId, queries, relevance, topK, runId } = parseOrThrow(evaluateInputSchema, input, "evaluate input");
    const settings = await this.ctx.config.store.getSettings(userId);
    const modelRunId = runId ?? settings?.modelRunId ?? settings?.lastTrainingRunId ?? null;
    if (!modelRunId) throw new NoTrainedModelError("No trained deep memory to evaluate: train a run first");
    const loaded = await this.loadModel(userId, modelRunId);
    if ("reason" in loaded) throw new NoTrainedModelError(loaded.reason);
    const vectors = await embedQueries(this.ctx.config.embedder, queries, this.ctx.options.embedBatchSize);
    return evaluateWithStore({
      userId,
      vectorStore: this.ctx.config.vectorStore,
      queries,
      queryVectors: vectors,
      relevant: relevance.map((list) => new Set(list.filter(([, score]) => score > 0).map(([id]) => id))),
      transform: loaded.transform,
      fusion: this.applicable(loaded.fusion),
      topK,
    });
  }

  /** The model search applies for the user's settings, or why there is none. */
  async activeModel(userId: string, settings: DeepMemorySettings | null): Promise<ModelOrReason> {
    const modelRunId = settings?.modelRunId ?? null;
    if (!modelRunId) return { reason: "no trained deep memory that beats plain search" };
    const loaded = await this.loadModel(userId, modelRunId);
    return "reason" in loaded ? loaded : { ...loaded, modelRunId };
  }

  /** The fusion as this store can search it (a model trained on a store with more capabilities may outlive them). */
  applicable(fusion: Fusion): Fusion {
    return applicableFusion(fusion, this.ctx.config.vectorStore);
  }

  private async loadModel(userId: string, runId: string): Promise<LoadedModel | { reason: string }> {
    const key = `${userId}\0${runId}`;
    const cached = this.models.get(userId, runId);
    const cachedFusion = this.fusions.get(key);
    if (cached && cachedFusion) return { transform: cached, fusion: cachedFusion };
    const { store, embedder, engine } = this.ctx.config;
    const model = await store.getModel(userId, runId);
    if (!model) return { reason: `Run ${runId} has no stored deep memory model` };
    if (model.embeddingModel !== embedder.model) {
      return {
        reason: `The model of run ${runId} was trained on ${model.embeddingModel} embeddings, but the embedder is ${embedder.model}; train again`,
      };
    }
    const transform = engine.load(model);
    // Models from before hybrid search carry no retrieval section: they were validated dense-only.
    const report = retrievalReportSchema.safeParse(model.metrics.retrieval);
    const fusion = report.success ? report.data.withModel : denseOnly;
    this.models.set(userId, runId, transform);
    if (this.fusions.size >= 1024) this.fusions.delete(this.fusions.keys().next().value!);
    this.fusions.set(key, fusion);
    return { transform, fusion };
  }
}
