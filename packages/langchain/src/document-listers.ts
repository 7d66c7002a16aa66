import { Document, type DocumentInterface } from "@langchain/core/documents";
import type { VectorStoreInterface } from "@langchain/core/vectorstores";
import { ValidationError } from "@zip/deep-memory";

/**
 * LangChain's VectorStore API searches but cannot enumerate its documents,
 * and training needs every chunk. A lister fills that gap for one kind of
 * store; MemoryVectorStore and PGVectorStore have built-in ones, any other
 * store takes a `listDocuments` function (Chroma's `collection.get`,
 * Qdrant's `scroll`, Pinecone's `listPaginated` + `fetch`, a SQL query...).
 */
export interface ListedDocument {
  document: DocumentInterface;
  /** The stored embedding, when asked for and the store keeps it; otherwise the trainer embeds the text. */
  embedding?: ArrayLike<number>;
}

export interface DocumentPage {
  documents: ListedDocument[];
  /** Opaque; null after the last page. */
  nextCursor: string | null;
}

export interface ListDocumentsInput<V extends VectorStoreInterface = VectorStoreInterface> {
  vectorStore: V;
  userId: string;
  /** The adapter's `filter(userId)`: list only what that user may search. */
  filter: V["FilterType"] | undefined;
  cursor: string | null;
  limit: number;
  includeEmbeddings: boolean;
}

export type DocumentLister<V extends VectorStoreInterface = VectorStoreInterface> = (input: ListDocumentsInput<V>) => Promise<DocumentPage>;

interface MemoryVectorStoreLike {
  memoryVectors: { content: string; embedding: number[]; metadata: Record<string, unknown>; id?: string }[];
}

/** `MemoryVectorStore` (@langchain/classic/vectorstores/memory): walks `memoryVectors`, applying the filter function. */
export const listMemoryVectorStore: DocumentLister = async ({ vectorStore, filter, cursor, limit, includeEmbeddings }) => {
  const vectors = (vectorStore as unknown as MemoryVectorStoreLike).memoryVectors;
  const test = typeof filter === "function" ? (filter as (doc: DocumentInterface) => boolean) : null;
  if (filter !== undefined && !test) throw new ValidationError("MemoryVectorStore filters are functions of a Document", [{ path: "filter", message: "expected a function" }]);
  let i = cursor === null ? 0 : Number(cursor);
  if (!Number.isInteger(i) || i < 0) throw new ValidationError(`Not a cursor of this store: ${JSON.stringify(cursor)}`, [{ path: "cursor", message: "invalid" }]);
  const documents: ListedDocument[] = [];
  for (; i < vectors.length && documents.length < limit; i++) {
    const v = vectors[i]!;
    const document = new Document({ pageContent: v.content, metadata: v.metadata, ...(v.id === undefined ? {} : { id: v.id }) });
    if (test && !test(document)) continue;
    documents.push(includeEmbeddings ? { document, embedding: v.embedding } : { document });
  }
  return { documents, nextCursor: i < vectors.length ? String(i) : null };
};

interface PGVectorStoreLike {
  pool: { query(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }> };
  computedTableName: string;
  idColumnName: string;
  contentColumnName: string;
  metadataColumnName: string;
  vectorColumnName: string;
  collectionTableName?: string;
  getOrCreateCollection(): Promise<string>;
  /** Private in PGVectorStore's types; used so listing filters exactly as its search does. */
  buildFilterClauses?(filter: object, paramOffset: number): { whereClauses: string[]; parameters: unknown[] };
}

const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`;

/**
 * `PGVectorStore` (@langchain/community/vectorstores/pgvector): keyset pages
 * over its table by id, within its collection when it has one, with the same
 * metadata filter clauses its searches use.
 */
export const listPGVectorStore: DocumentLister = async ({ vectorStore, filter, cursor, limit, includeEmbeddings }) => {
  const store = vectorStore as unknown as PGVectorStoreLike;
  const params: unknown[] = [];
  const where: string[] = [];
  if (store.collectionTableName) {
    params.push(await store.getOrCreateCollection());
    where.push(`collection_id = $${params.length}`);
  }
  if (filter !== undefined && Object.keys(filter as object).length > 0) {
    if (typeof store.buildFilterClauses !== "function") {
      throw new ValidationError("This PGVectorStore version cannot apply a filter to listing: pass listDocuments", [{ path: "filter", message: "unsupported" }]);
    }
    const { whereClauses, parameters } = store.buildFilterClauses(filter as object, params.length);
    where.push(...whereClauses);
    params.push(...parameters);
  }
  const id = quoteIdent(store.idColumnName);
  if (cursor !== null) {
    params.push(cursor);
    where.push(`${id} > $${params.length}`);
  }
  params.push(limit);
  const { rows } = await store.pool.query(
    `select ${id}::text as id, ${quoteIdent(store.contentColumnName)} as content, ${quoteIdent(store.metadataColumnName)} as metadata` +
      (includeEmbeddings ? `, ${quoteIdent(store.vectorColumnName)}::text as embedding` : "") +
      ` from ${store.computedTableName}${where.length ? ` where ${where.join(" and ")}` : ""} order by ${id} limit $${params.length}`,
    params,
  );
  const documents = rows.map((row): ListedDocument => {
    const document = new Document({ pageContent: typeof row.content === "string" ? row.content : "", metadata: (row.metadata as Record<string, unknown> | null) ?? {}, id: String(row.id) });
    // pgvector's text form, "[0.1,0.2,...]", is a JSON array.
    return includeEmbeddings && typeof row.embedding === "string" ? { document, embedding: JSON.parse(row.embedding) as number[] } : { document };
  });
  return { documents, nextCursor: rows.length === limit ? String(rows[rows.length - 1]!.id) : null };
};

/** The built-in lister for this store, or null when it is not a kind we know. */
export function builtInLister(vectorStore: VectorStoreInterface): DocumentLister | null {
  const type = typeof vectorStore._vectorstoreType === "function" ? vectorStore._vectorstoreType() : "";
  const shape = vectorStore as unknown as Partial<MemoryVectorStoreLike & PGVectorStoreLike>;
  if (type === "memory" && Array.isArray(shape.memoryVectors)) return listMemoryVectorStore;
  if (type === "pgvector" && typeof shape.pool?.query === "function" && typeof shape.computedTableName === "string") return listPGVectorStore;
  return null;
}
