/**
 * What the exploration scripts (pseudo-explore.ts, prf-explore.ts) share: the
 * corpus in an in-memory store and every question's vector, from the bench's
 * embedding cache (the same keys as `pnpm bench`, so nothing is embedded twice).
 */
import { InMemoryVectorStore } from "@zip/deep-memory";
import type { LocalEmbedder } from "@zip/deep-memory-local-embedder";
import type { BeirDataset } from "./beir.js";
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
