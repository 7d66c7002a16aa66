/**
 * What the exploration scripts (pseudo-explore.ts, prf-explore.ts) share: the
 * corpus in an in-memory store and every question's vector, from the bench's
 * embedding cache (the same keys as `pnpm bench`, so nothing is embedded twice).
 */
import { resolve } from "node:path";
import { InMemoryVectorStore, LocalDeepMemory, type LocalDeepMemoryOptions } from "@zip/deep-memory";
import { deterministicSplit } from "@zip/deep-memory/evaluation";
import { LocalEmbedder } from "@zip/deep-memory-local-embedder";
import { loadBeir, type BeirDataset } from "./beir.js";
import { pseudoPairsFor } from "./pseudo-pairs.js";
import type { QuerySet } from "./retrieval-eval.js";
import { cachedEmbeddings } from "./vector-cache.js";

export interface ExploreData {
  store: InMemoryVectorStore;
  corpus: Awaited<ReturnType<typeof cachedEmbeddings>>;
  testIds: string[];
  /** Every training question with a judgement. */
  trainAll: string[];
  /** The set's own dev questions that are not also training questions. */
  ownDev: string[];
  /** Judgements of the dev and training questions. */
  devQrels: Map<string, Set<string>>;
  querySet: (ids: string[], qrels: Map<string, Set<string>>) => QuerySet;
}

export async function loadExploreData(data: BeirDataset, embedder: LocalEmbedder, cacheDir: string, options: { ownDev: boolean }): Promise<ExploreData> {
  const corpus = await cachedEmbeddings({ cacheDir, label: `${data.name}-corpus`, embedder, texts: data.documents.map((d) => d.text), kind: "document", salt: data.corpusHash });
  const store = new InMemoryVectorStore(data.documents.map((d, i) => ({ id: d.id, text: d.text, embedding: corpus.vectors[i]! })));
  const testIds = [...data.qrels.test!.keys()].filter((id) => data.queries.has(id));
  const trainAll = [...(data.qrels.train?.keys() ?? [])].filter((id) => data.queries.has(id));
  const ownDev = options.ownDev ? [...(data.qrels.dev?.keys() ?? [])].filter((id) => data.queries.has(id) && !data.qrels.train?.has(id)) : [];
  const devQrels = new Map([...(data.qrels.dev ?? new Map<string, Set<string>>()), ...(data.qrels.train ?? new Map<string, Set<string>>())]);
  const queryIds = [...new Set([...testIds, ...trainAll])];
  const queryEmb = await cachedEmbeddings({ cacheDir, label: `${data.name}-queries`, embedder, texts: queryIds.map((id) => data.queries.get(id)!), kind: "query", salt: data.corpusHash });
  const vector = new Map(queryIds.map((id, i) => [id, queryEmb.vectors[i]!]));
  if (ownDev.length) {
    const extra = await cachedEmbeddings({ cacheDir, label: `${data.name}-dev-queries`, embedder, texts: ownDev.map((id) => data.queries.get(id)!), kind: "query", salt: data.corpusHash });
    ownDev.forEach((id, i) => vector.set(id, extra.vectors[i]!));
  }
  const querySet = (ids: string[], qrels: Map<string, Set<string>>): QuerySet => ({
    texts: ids.map((id) => data.queries.get(id)!),
    vectors: ids.map((id) => vector.get(id)!),
    relevant: ids.map((id) => qrels.get(id)!),
  });
  return { store, corpus, testIds, trainAll, ownDev, devQrels, querySet };
}

/**
 * The dev questions: with a dev fraction of 1, every training question (which
 * the LLM-free path never sees) and the set's own dev questions; otherwise a
 * seeded share of the training questions, as `pnpm bench --dev-fraction`.
 */
function devQuestionIds(explore: ExploreData, devFraction: number, seed: number): string[] {
  return devFraction >= 1 ? [...explore.trainAll, ...explore.ownDev] : deterministicSplit(explore.trainAll, (id) => id, devFraction, seed).heldOut;
}

type Pair = Awaited<ReturnType<typeof pseudoPairsFor>>["pairs"][number];

/** The bench's pseudo-queries (`pseudoPairsFor`) and their embeddings, from the bench's cache (filled when missing). */
export async function pseudoQueryVectors(
  data: BeirDataset,
  embedder: LocalEmbedder,
  cacheDir: string,
  options: Parameters<typeof pseudoPairsFor>[1],
  log: (message: string) => void,
  /** Rewrites the pseudo-queries before they are embedded (and returned): only what is remembered is embedded. */
  rewrite?: (pairs: Pair[]) => Pair[],
) {
  const generated = await pseudoPairsFor(data, options);
  const made = rewrite ? { ...generated, pairs: rewrite(generated.pairs) } : generated;
  const emb = await cachedEmbeddings({
    cacheDir,
    label: `${data.name}-pseudo`,
    embedder,
    texts: made.pairs.map((p) => p.question),
    kind: "query",
    onProgress: (done, total) => done % 4096 < 256 && log(`embedding pseudo-queries ${done}/${total}`),
  });
  return { made, emb };
}

/** What each exploration script starts from: the data set, the local embedder, the explore data and the dev question ids. */
export async function openExplore(dir: string, flags: { "cache-dir": string; "dev-fraction": string; seed: string }) {
  const data = await loadBeir(resolve(dir));
  const embedder = new LocalEmbedder({ allowRemoteModels: false });
  const cacheDir = flags["cache-dir"];
  const devFraction = Number(flags["dev-fraction"]);
  const seed = Number(flags.seed);
  const explore = await loadExploreData(data, embedder, cacheDir, { ownDev: devFraction >= 1 });
  return { data, embedder, cacheDir, seed, explore, devIds: devQuestionIds(explore, devFraction, seed) };
}

/**
 * The LLM-free model as the trainer makes it from copied sentence pseudo-queries: trained once on every pseudo-query
 * (nothing held back by the caller), the question memory learned alone.
 */
export async function sentenceMemoryModel(
  data: BeirDataset,
  corpus: ExploreData["corpus"],
  { made, emb }: Awaited<ReturnType<typeof pseudoQueryVectors>>,
  seed: number,
  options?: LocalDeepMemoryOptions,
) {
  const row = new Map(data.documents.map((d, i) => [d.id, i]));
  const engine = new LocalDeepMemory(options);
  const model = await engine.train({
    dimensions: corpus.dims,
    queries: emb.vectors,
    positives: made.pairs.map((p) => [row.get(p.chunkId)!]),
    corpus: corpus.vectors,
    seed,
    copiedQuestions: true,
  });
  return { engine, model, transform: engine.load(model) };
}
