import type { Chunk, SearchHit } from "../domain/chunk.js";

export interface ListChunksInput {
  /** Whose knowledge base; stores with one shared corpus may ignore it. */
  userId: string;
  /** Opaque cursor from the previous page; null for the first page. */
  cursor: string | null;
  limit: number;
  /** Ask for stored embeddings too; stores without them leave `embedding` unset. */
  includeEmbeddings: boolean;
}

export interface ChunkPage {
  chunks: Chunk[];
  nextCursor: string | null;
}

export interface VectorSearchInput {
  userId: string;
  /** The (possibly deep-memory-transformed) query embedding. */
  embedding: Float32Array;
  k: number;
}

export interface CountChunksInput {
  userId: string;
  /** Chunk ids not to count (those a trained model has seen); ids the store does not hold are ignored. */
  excludeIds: readonly string[];
}

export interface TextSearchInput {
  userId: string;
  /** The user's query as typed: raw text, never an embedding. */
  query: string;
  k: number;
  signal?: AbortSignal;
}

export interface GetEmbeddingsInput {
  userId: string;
  /** Chunk ids, at most a few hundred (a search's candidates); ids the store does not hold for this user are left out. */
  ids: readonly string[];
  signal?: AbortSignal;
}

/**
 * The host's vector database, seen through the operations deep memory needs:
 * listing chunks and dense search, plus keyword search where the store has it.
 */
export interface VectorStore {
  listChunks(input: ListChunksInput): Promise<ChunkPage>;
  /** Top-k chunks by cosine similarity, best first. */
  search(input: VectorSearchInput): Promise<SearchHit[]>;
  /**
   * Optional capability: top-k chunks for a query string by a lexical
   * relevance score (BM25 or the database's full-text ranking), best first.
   * `score` is the store's own (higher is better; not comparable with cosine).
   * Chunks that share no term with the query are not returned. A store
   * without this method is searched dense-only.
   */
  textSearch?(input: TextSearchInput): Promise<SearchHit[]>;
  /**
   * Optional capability: how many of the user's chunks there are, leaving out
   * `excludeIds`, without listing them (a SQL `count(*)`, PostgREST's exact
   * count, a maintained counter). The
   * settings view uses it for "new chunks since the last training"; without
   * it that figure pages through `listChunks`.
   */
  countChunks?(input: CountChunksInput): Promise<number>;
  /**
   * Optional capability: the stored embeddings of these chunks, by id (one
   * round trip, not one per id). Fusions with a neighbour boost use it to
   * compare a search's candidates with each other; without it they are
   * searched without the boost.
   */
  getEmbeddings?(input: GetEmbeddingsInput): Promise<Map<string, Float32Array>>;
}
