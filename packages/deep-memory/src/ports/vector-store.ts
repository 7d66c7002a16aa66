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

/** The host's vector database, seen through the two operations deep memory needs. */
export interface VectorStore {
  listChunks(input: ListChunksInput): Promise<ChunkPage>;
  /** Top-k chunks by cosine similarity, best first. */
  search(input: VectorSearchInput): Promise<SearchHit[]>;
}
