import {
  type DeepMemoryEngine,
  type EngineModel,
  type Fusion,
  type FusionScore,
  type InMemoryVectorStore,
  type MetricTable,
  type QueryTransform,
  type SearchHit,
} from "@zip/deep-memory";
import { deterministicSplit, normalizeQuestion, retrainMaxQuestions, retrievalMetrics, saturatedHeldOutRecall } from "@zip/deep-memory/evaluation";
import {
  chooseFusion,
  copiedQuestionsFusion,
  defaultHybridFusion,
  denseOnly,
  fusedRanking,
  fusedSearch,
  isCopiedQuestion,
  poolEmbeddings,
  uncopiedRows,
} from "@zip/deep-memory/retrieval";

export const topK = [1, 3, 5, 10, 50, 100];
/** Candidates read per leg when measuring: as deep as any fusion tried and the deepest metric. */
export const legDepth = 100;
/** Share of training questions held back to choose the fusion on, as the trainer does. */
export const validationFraction = 0.15;

export interface QuerySet {
  texts: string[];
  vectors: Float32Array[];
  relevant: Set<string>[];
}

/** Top-100 lists of one query set: the lexical leg (fixed) and dense legs per transform, searched once and reused by every fusion. */
export class Legs {
  readonly lexical: SearchHit[][] = [];
  private readonly dense = new Map<QueryTransform | null, SearchHit[][]>();
  constructor(
    private readonly store: InMemoryVectorStore,
    readonly queries: QuerySet,
  ) {}

  static async open(store: InMemoryVectorStore, queries: QuerySet): Promise<Legs> {
    const legs = new Legs(store, queries);
    for (const text of queries.texts) legs.lexical.push(await store.textSearch!({ userId: "bench", query: text, k: legDepth }));
    return legs;
  }

  async denseFor(transform: QueryTransform | null): Promise<SearchHit[][]> {
    let lists = this.dense.get(transform);
    if (!lists) {
      lists = [];
      for (const v of this.queries.vectors) lists.push(await this.store.search({ userId: "bench", embedding: transform ? transform.apply(v) : v, k: legDepth }));
      this.dense.set(transform, lists);
    }
    return lists;
  }

  async metrics(transform: QueryTransform | null, fusion: Fusion): Promise<MetricTable> {
    const dense = await this.denseFor(transform);
    // A neighbour-boosted fusion compares candidates' embeddings, which the store returns (as in a live search).
    const vectorOf = await poolEmbeddings({ vectorStore: this.store, userId: "bench", dense, lexical: this.lexical, fusion });
    return retrievalMetrics(
      dense.map((d, i) => fusedRanking(d, this.lexical[i]!, fusion, legDepth, vectorOf)),
      this.queries.relevant,
      topK,
    ).metrics;
  }

  lexicalMetrics(): MetricTable {
    return retrievalMetrics(
      this.lexical.map((l) => l.map((h) => h.id)),
      this.queries.relevant,
      topK,
    ).metrics;
  }
}

/**
 * Median milliseconds of one live search at k=10 as the trainer runs it: the
 * transform applied (if any), then dense or fused search, or keyword search alone.
 */
export async function latency(store: InMemoryVectorStore, queries: QuerySet, config: { transform: QueryTransform | null; fusion: Fusion } | "lexical"): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < queries.texts.length; i++) {
    const start = performance.now();
    if (config === "lexical") await store.textSearch!({ userId: "bench", query: queries.texts[i]!, k: 10 });
    else {
      const v = queries.vectors[i]!;
      await fusedSearch({ vectorStore: store, userId: "bench", query: queries.texts[i]!, embedding: config.transform ? config.transform.apply(v) : v, fusion: config.fusion, k: 10 });
    }
    times.push(performance.now() - start);
  }
  return median(times);
}

export interface TrainedWithFusion {
  model: EngineModel;
  transform: QueryTransform;
  seconds: number;
  fusion: Fusion;
  validationQuestions: number;
  /** Where most validation questions were copied from their chunks (none then held back): how many. */
  copiedValidationQuestions?: number;
  validationScores: FusionScore[];
}

/**
 * What the trainer does with a store that has keyword search, on the engine
 * directly: a seeded share of the training questions is held back as
 * validation (the engine may stop on it, never trains on it), then the
 * fusion is chosen on those questions with the trained transform. Where
 * hybrid search is the better plain search and already finds 98% of them
 * (questions that share the chunks' words), the default fusion is kept, as
 * the trainer does (it decides that on its held-out questions).
 */
export async function trainWithFusion(input: {
  engine: DeepMemoryEngine;
  store: InMemoryVectorStore;
  questions: { text: string; vector: Float32Array; positives: number[] }[];
  corpus: Float32Array[];
  corpusIds: string[];
  /** The chunks' texts, by corpus row: to tell questions copied from them. */
  corpusTexts: string[];
  seed: number;
  /** Up to this many questions, train again on all of them once the fusion is chosen (the trainer's retrainMaxQuestions). */
  retrainMaxQuestions?: number;
}): Promise<TrainedWithFusion> {
  const carved = deterministicSplit(input.questions, (q) => normalizeQuestion(q.text), validationFraction, input.seed + 1);
  // As the trainer: where most validation questions are copied from their chunks, the others choose the fusion; too
  // few others, none is held back, the engine trains once on all of them and search uses copiedQuestionsFusion.
  const choosers = uncopiedRows(carved.heldOut.map((q) => isCopiedQuestion(q.text, q.positives.map((p) => input.corpusTexts[p]!))));
  const copiedNote = choosers.majority ? { copiedValidationQuestions: choosers.copied } : {};
  const start = performance.now();
  // As the trainer (which also counts its held-out questions): mostly copied questions teach the memory, not the map.
  const copiedQuestions = choosers.majority ? { copiedQuestions: true } : {};
  if (choosers.rows === null) {
    const model = await input.engine.train({
      dimensions: input.corpus[0]!.length,
      queries: input.questions.map((q) => q.vector),
      positives: input.questions.map((q) => q.positives),
      corpus: input.corpus,
      seed: input.seed,
      ...copiedQuestions,
    });
    return { model, transform: input.engine.load(model), seconds: (performance.now() - start) / 1000, fusion: copiedQuestionsFusion, validationQuestions: 0, ...copiedNote, validationScores: [] };
  }
  const { train, heldOut: validation } = carved;
  const choosing = choosers.rows.map((i) => validation[i]!);
  const model = await input.engine.train({
    dimensions: input.corpus[0]!.length,
    queries: train.map((q) => q.vector),
    positives: train.map((q) => q.positives),
    corpus: input.corpus,
    validation: { queries: validation.map((q) => q.vector), positives: validation.map((q) => q.positives) },
    seed: input.seed,
    ...copiedQuestions,
  });
  const transform = input.engine.load(model);
  const legs = await Legs.open(input.store, {
    texts: choosing.map((q) => q.text),
    vectors: choosing.map((q) => q.vector),
    relevant: choosing.map((q) => new Set(q.positives.map((p) => input.corpusIds[p]!))),
  });
  const plainHybrid = await legs.metrics(null, defaultHybridFusion);
  const plainDense = await legs.metrics(null, denseOnly);
  const choice = await chooseFusion({ dense: await legs.denseFor(transform), lexical: legs.lexical, relevant: legs.queries.relevant });
  // As the trainer: only where hybrid is the better plain search and already finds 98%.
  const hybridBetter = (plainHybrid["recall@10"] ?? 0) > (plainDense["recall@10"] ?? 0) ||
    (plainHybrid["recall@10"] === plainDense["recall@10"] && (plainHybrid["ndcg@10"] ?? 0) >= (plainDense["ndcg@10"] ?? 0));
  const saturated = hybridBetter && (plainHybrid["recall@10"] ?? 0) >= saturatedHeldOutRecall;
  // As the trainer: with few questions, the engine trains again on all of them (carving its own split) once the fusion is chosen.
  let final = { model, transform };
  if (input.questions.length <= (input.retrainMaxQuestions ?? retrainMaxQuestions)) {
    const again = await input.engine.train({
      dimensions: input.corpus[0]!.length,
      queries: [...train, ...validation].map((q) => q.vector),
      positives: [...train, ...validation].map((q) => q.positives),
      corpus: input.corpus,
      seed: input.seed,
      ...copiedQuestions,
    });
    final = { model: again, transform: input.engine.load(again) };
  }
  return {
    ...final,
    seconds: (performance.now() - start) / 1000,
    fusion: saturated ? defaultHybridFusion : choice.fusion,
    validationQuestions: choosing.length,
    ...copiedNote,
    validationScores: [...choice.scores].sort((a, b) => b.recallAt10 + b.ndcgAt10 - (a.recallAt10 + a.ndcgAt10)).slice(0, 5),
  };
}

export function median(values: number[]): number {
  if (!values.length) return 0;
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

export { denseOnly, defaultHybridFusion };
