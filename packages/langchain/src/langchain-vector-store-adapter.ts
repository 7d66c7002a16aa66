import type { DocumentInterface } from "@langchain/core/documents";
import type { VectorStoreInterface } from "@langchain/core/vectorstores";
import { ValidationError, type Chunk, type ChunkPage, type ListChunksInput, type SearchHit, type VectorSearchInput, type VectorStore } from "@zip/deep-memory";
import { builtInLister, type DocumentLister } from "./document-listers.js";

/**
 * How the store's scores become cosine similarity (the port's score).
 * "auto": known stores are converted exactly (PGVectorStore's distances by
 * its distance strategy), others are taken as similarities. Ranking is
 * always the store's own; only the numbers change.
 */
export type ScoreConversion = "auto" | "similarity" | "cosine-distance" | ((score: number) => number);

export interface LangChainVectorStoreAdapterOptions<V extends VectorStoreInterface = VectorStoreInterface> {
  vectorStore: V;
  /** How to enumerate the store's documents; built in for MemoryVectorStore and PGVectorStore. */
  listDocuments?: DocumentLister<V>;
  /** The user's slice of a shared store, as the store's filter (listing and search). Default: one corpus for everyone. */
  filter?: (userId: string) => V["FilterType"] | undefined;
  /** A document's chunk id. Default: `document.id`, else `metadata.id`. */
  idOf?: (document: DocumentInterface) => string | undefined;
  score?: ScoreConversion;
}

/**
 * The deep-memory `VectorStore` port over a LangChain vector store, so the
 * trainer lists chunks from it (to generate questions and train) and searches
 * through it (to evaluate). Text search is not offered: LangChain stores have
 * no common keyword search, so deep memory runs dense-only on them.
 */
export class LangChainVectorStoreAdapter<V extends VectorStoreInterface = VectorStoreInterface> implements VectorStore {
  readonly vectorStore: V;
  private readonly lister: DocumentLister<V>;
  private readonly filterFor: (userId: string) => V["FilterType"] | undefined;
  private readonly idOf: (document: DocumentInterface) => string | undefined;
  private readonly toCosine: (score: number) => number;

  constructor(options: LangChainVectorStoreAdapterOptions<V>) {
    const { vectorStore } = options;
    if (!vectorStore || typeof vectorStore.similaritySearchVectorWithScore !== "function") {
      throw new ValidationError("LangChainVectorStoreAdapter needs a LangChain vectorStore", [{ path: "vectorStore", message: "required" }]);
    }
    const lister = options.listDocuments ?? (builtInLister(vectorStore) as DocumentLister<V> | null);
    if (!lister) {
      const type = typeof vectorStore._vectorstoreType === "function" ? vectorStore._vectorstoreType() : "unknown";
      throw new ValidationError(
        `LangChain vector stores cannot list their documents, and training needs every chunk. Pass listDocuments for this "${type}" store ` +
          `(built in only for MemoryVectorStore and PGVectorStore); see docs/integrations/langchain.md`,
        [{ path: "listDocuments", message: "required for this store" }],
      );
    }
    this.vectorStore = vectorStore;
    this.lister = lister;
    this.filterFor = options.filter ?? (() => undefined);
    this.idOf = options.idOf ?? defaultId;
    this.toCosine = scoreConverter(vectorStore, options.score ?? "auto");
  }

  async listChunks(input: ListChunksInput): Promise<ChunkPage> {
    const page = await this.lister({
      vectorStore: this.vectorStore,
      userId: input.userId,
      filter: this.filterFor(input.userId),
      cursor: input.cursor,
      limit: input.limit,
      includeEmbeddings: input.includeEmbeddings,
    });
    const chunks = page.documents.map(({ document, embedding }): Chunk => {
      const chunk: Chunk = { id: this.requireId(document), text: document.pageContent, metadata: document.metadata };
      if (input.includeEmbeddings && embedding) chunk.embedding = Float32Array.from(embedding);
      return chunk;
    });
    return { chunks, nextCursor: page.nextCursor };
  }

  async search(input: VectorSearchInput): Promise<SearchHit[]> {
    const results = await this.vectorStore.similaritySearchVectorWithScore(Array.from(input.embedding), input.k, this.filterFor(input.userId));
    return results.map(([document, score]) => ({
      id: this.requireId(document),
      text: document.pageContent,
      score: this.toCosine(score),
      metadata: document.metadata,
    }));
  }

  private requireId(document: DocumentInterface): string {
    const id = this.idOf(document);
    if (typeof id === "string" && id.length > 0) return id;
    throw new ValidationError(
      `A document has no id (text: ${JSON.stringify(document.pageContent.slice(0, 60))}): training pairs point at chunks by id. ` +
        "Add documents with ids (Document.id, or addDocuments(docs, { ids })) or pass idOf",
      [{ path: "idOf", message: "no id for a document" }],
    );
  }
}

function defaultId(document: DocumentInterface): string | undefined {
  if (typeof document.id === "string" && document.id.length > 0) return document.id;
  const fromMetadata: unknown = document.metadata?.id;
  return typeof fromMetadata === "string" || typeof fromMetadata === "number" ? String(fromMetadata) : undefined;
}

interface PGVectorScoring {
  distanceStrategy?: "cosine" | "innerProduct" | "euclidean";
  scoreNormalization?: "distance" | "similarity";
}

function scoreConverter(vectorStore: VectorStoreInterface, conversion: ScoreConversion): (score: number) => number {
  if (typeof conversion === "function") return conversion;
  if (conversion === "similarity") return (s) => s;
  if (conversion === "cosine-distance") return (d) => 1 - d;
  if (vectorStore._vectorstoreType?.() !== "pgvector") return (s) => s;
  // PGVectorStore reports distances, or its own "similarity" of them; both invert exactly (Euclidean ones for unit vectors).
  const { distanceStrategy = "cosine", scoreNormalization = "distance" } = vectorStore as unknown as PGVectorScoring;
  const distance: (score: number) => number =
    scoreNormalization === "distance"
      ? (d) => d
      : distanceStrategy === "cosine"
        ? (s) => 2 - 2 * s
        : distanceStrategy === "euclidean"
          ? (s) => 1 / s - 1
          : (s) => -s;
  if (distanceStrategy === "innerProduct") return (score) => -distance(score); // pgvector's <#> is the negative inner product
  if (distanceStrategy === "euclidean") return (score) => 1 - distance(score) ** 2 / 2;
  return (score) => 1 - distance(score);
}
