import type { SupabaseClient } from "@supabase/supabase-js";
import type { Chunk, SearchHit } from "../../domain/chunk.js";
import { AbortedError, UpstreamError, ValidationError } from "../../errors/errors.js";
import { requireChunkIds } from "../../errors/validation.js";
import { toStorableText } from "../../errors/storable-text.js";
import type {
  ChunkPage,
  CountChunksInput,
  GetEmbeddingsInput,
  ListChunksInput,
  TextSearchInput,
  VectorSearchInput,
  VectorStore,
} from "../../ports/vector-store.js";
import type { PostgrestResult } from "./postgrest-errors.js";
import { asText } from "../../shared/as-text.js";

export interface SupabaseVectorStoreOptions {
  client: SupabaseClient;
  /** Table of chunks (default "documents", as in supabase/vector-store/documents.sql and LangChain). */
  table?: string;
  /** Function called over RPC to search (default "match_documents"). */
  queryName?: string;
  /** Column names, when your table differs from the usual id/content/metadata/embedding. */
  columns?: Partial<{ id: string; content: string; metadata: string; embedding: string }>;
  /**
   * Metadata every chunk of a user contains, for corpora with one knowledge base
   * per user, e.g. `(userId) => ({ user_id: userId })`. Applied to listing (as a
   * containment filter) and to search (as match_documents' `filter`). Without it
   * every user sees the whole table.
   */
  filter?: (userId: string) => Record<string, unknown>;
  /**
   * Lexical search, for hybrid search: `true` calls `match_documents_text`
   * over RPC (BM25, from supabase/vector-store/documents-text-search.sql, which
   * documents.sql includes); `{ queryName }` calls a function of yours with the
   * same arguments (query_text, match_count, filter) and columns (id, content,
   * metadata, score). Off by default, so a table without that SQL stays
   * dense-only instead of failing every hybrid search.
   */
  textSearch?: boolean | { queryName?: string };
}

type Row = Record<string, unknown>;

/** Characters of ids per request (excluded ids to count, chunks to read): the ids travel in the URL, which gateways cap (often at 8 KiB). */
const idsPerUrl = 4000;
/** Requests for batches of ids in flight at once. */
const batchConcurrency = 4;

/** The ids in batches of about `budget` URL-encoded characters each. */
function urlBatches(ids: readonly string[], budget: number): string[][] {
  const batches: string[][] = [];
  let batch: string[] = [];
  let size = 0;
  for (const id of ids) {
    const cost = encodeURIComponent(id).length + 3;
    if (batch.length > 0 && size + cost > budget) {
      batches.push(batch);
      batch = [];
      size = 0;
    }
    batch.push(id);
    size += cost;
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}

/** `work` on each batch of the distinct ids short enough for a URL, `batchConcurrency` requests at a time; results in batch order. */
async function perUrlBatch<T>(ids: readonly string[], work: (batch: string[]) => Promise<T>): Promise<T[]> {
  const batches = urlBatches([...new Set(ids)], idsPerUrl);
  const results: T[] = [];
  for (let i = 0; i < batches.length; i += batchConcurrency) results.push(...(await Promise.all(batches.slice(i, i + batchConcurrency).map(work))));
  return results;
}

/** Vector store failures are the host's provider failing: retry outages and rate limits, not bad requests. */
function upstream(result: PostgrestResult, action: string): UpstreamError {
  const error = result.error ?? { code: "", message: "no error body" };
  const status = result.status || undefined;
  const retryable = result.status === 0 || result.status === 429 || result.status >= 500;
  return new UpstreamError(
    "supabase",
    `Supabase ${action} failed (${status ? `HTTP ${status}` : "network error"}${error.code ? `, ${error.code}` : ""}): ${error.message}`,
    {
      status,
      retryable,
      cause: error,
    },
  );
}

/** pgvector values arrive from PostgREST as text ("[0.1,0.2]"), or as arrays from a jsonb column. */
function toVector(value: unknown): Float32Array | undefined {
  if (value === null || value === undefined) return undefined;
  const list = typeof value === "string" ? (JSON.parse(value) as unknown) : value;
  if (!Array.isArray(list)) return undefined;
  return Float32Array.from(list as number[]);
}

function toMetadata(value: unknown): Record<string, unknown> | undefined {
  const parsed = typeof value === "string" ? (JSON.parse(value) as unknown) : value;
  return parsed && typeof parsed === "object" && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
}

/**
 * A VectorStore over Supabase pgvector in the usual shape: a documents table
 * with an `embedding vector(n)` column, listed page by page over the REST API,
 * and a match function (cosine similarity) called over RPC. Deep memory
 * transforms the query embedding and passes the result to `search`; the stored
 * embeddings never change.
 */
export class SupabaseVectorStore implements VectorStore {
  private readonly client: SupabaseClient;
  private readonly table: string;
  private readonly queryName: string;
  private readonly cols: { id: string; content: string; metadata: string; embedding: string };
  private readonly filter: ((userId: string) => Record<string, unknown>) | undefined;
  /**
   * Top-k documents for a query string by the database's BM25, best first;
   * present only when the `textSearch` option is on.
   */
  readonly textSearch?: (input: TextSearchInput) => Promise<SearchHit[]>;

  constructor(options: SupabaseVectorStoreOptions) {
    this.client = options.client;
    this.table = options.table ?? "documents";
    this.queryName = options.queryName ?? "match_documents";
    this.cols = { id: "id", content: "content", metadata: "metadata", embedding: "embedding", ...options.columns };
    this.filter = options.filter;
    if (options.textSearch) {
      const name = (typeof options.textSearch === "object" && options.textSearch.queryName) || "match_documents_text";
      this.textSearch = (input) => this.rankText(name, input);
    }
  }

  /**
   * Chunks in id order after the cursor (the last id of the previous page).
   * Fills the page across several requests when the project's max_rows is
   * smaller than `limit`.
   */
  async listChunks(input: ListChunksInput): Promise<ChunkPage> {
    if (!Number.isInteger(input.limit) || input.limit <= 0) throw new ValidationError("limit must be a positive integer");
    const { id, content, metadata, embedding } = this.cols;
    const columns = [id, content, metadata, ...(input.includeEmbeddings ? [embedding] : [])].join(",");
    const scope = this.filter?.(input.userId);
    const chunks: Chunk[] = [];
    let after = input.cursor;
    let exhausted = false;
    while (chunks.length < input.limit) {
      let query = this.client
        .from(this.table)
        .select(columns)
        .order(id, { ascending: true })
        .limit(input.limit - chunks.length);
      if (after !== null) query = query.gt(id, after);
      if (scope) query = query.contains(metadata, scope);
      const result = (await query) as PostgrestResult;
      if (result.error) throw upstream(result, "listing chunks");
      const rows = (result.data ?? []) as Row[];
      if (rows.length === 0) {
        exhausted = true;
        break;
      }
      for (const row of rows) {
        const chunk: Chunk = { id: String(row[id]), text: asText(row[content]) };
        const meta = toMetadata(row[metadata]);
        if (meta) chunk.metadata = meta;
        if (input.includeEmbeddings) {
          const vector = toVector(row[embedding]);
          if (vector) chunk.embedding = vector;
        }
        chunks.push(chunk);
      }
      after = String(rows[rows.length - 1]![id]);
    }
    return { chunks, nextCursor: exhausted || chunks.length === 0 ? null : after };
  }

  /**
   * The user's chunks (the whole table without `filter`) less `excludeIds`,
   * by PostgREST's exact count: HEAD requests with `Prefer: count=exact`,
   * the total read from Content-Range. One count of the scope, minus a count
   * of the excluded ids it holds, asked in batches short enough for a URL.
   */
  async countChunks(input: CountChunksInput): Promise<number> {
    const total = await this.count(input.userId, null);
    const counts = await perUrlBatch(input.excludeIds, (ids) => this.count(input.userId, ids));
    return total - counts.reduce((a, n) => a + n, 0);
  }

  /** Rows in the user's scope (among `ids` when given), without reading any. */
  private async count(userId: string, ids: string[] | null): Promise<number> {
    const { id, metadata } = this.cols;
    let query = this.client.from(this.table).select(id, { count: "exact", head: true });
    const scope = this.filter?.(userId);
    if (scope) query = query.contains(metadata, scope);
    if (ids) query = query.in(id, ids);
    const result = (await query) as PostgrestResult;
    if (result.error) throw upstream(result, "counting chunks");
    if (typeof result.count !== "number") {
      throw new UpstreamError("supabase", "Supabase counting chunks answered without a count (no Content-Range total)", { retryable: false });
    }
    return result.count;
  }

  /**
   * The stored embeddings of the user's chunks among `ids` (scoped like
   * listChunks), by id: a GET with an `in` filter on the id column, one per
   * batch of ids short enough for a URL (one for a search's candidates).
   * Ids it does not hold are left out.
   */
  async getEmbeddings(input: GetEmbeddingsInput): Promise<Map<string, Float32Array>> {
    requireChunkIds(input.ids);
    if (input.signal?.aborted) throw new AbortedError();
    const found = new Map<string, Float32Array>();
    await perUrlBatch(input.ids, (ids) => this.readEmbeddings(input.userId, ids, found, input.signal));
    return found;
  }

  /**
   * Adds the embeddings of `ids` to `found`, in id order, across the project's
   * max_rows: a page short of what is left is followed by one more request,
   * since a capped page and a missing id look the same.
   */
  private async readEmbeddings(userId: string, ids: string[], found: Map<string, Float32Array>, signal?: AbortSignal): Promise<void> {
    const { id, metadata, embedding } = this.cols;
    const scope = this.filter?.(userId);
    let read = 0;
    let after: string | null = null;
    while (read < ids.length) {
      let query = this.client
        .from(this.table)
        .select(`${id},${embedding}`)
        .in(id, ids)
        .order(id, { ascending: true })
        .limit(ids.length - read);
      if (after !== null) query = query.gt(id, after);
      if (scope) query = query.contains(metadata, scope);
      if (signal) query = query.abortSignal(signal);
      const result = (await query) as PostgrestResult;
      if (signal?.aborted) throw new AbortedError();
      if (result.error) throw upstream(result, "reading embeddings");
      const rows = (result.data ?? []) as Row[];
      if (rows.length === 0) break;
      for (const row of rows) {
        const vector = toVector(row[embedding]);
        if (vector) found.set(String(row[id]), vector);
      }
      read += rows.length;
      after = String(rows[rows.length - 1]![id]);
    }
  }

  private async rankText(queryName: string, input: TextSearchInput): Promise<SearchHit[]> {
    if (!Number.isInteger(input.k) || input.k < 0) throw new ValidationError("k must be a non-negative integer");
    if (typeof input.query !== "string") throw new ValidationError("query must be a string");
    if (input.signal?.aborted) throw new AbortedError();
    if (input.k === 0 || input.query.trim() === "") return [];
    const args = { query_text: toStorableText(input.query), match_count: input.k, filter: this.filter?.(input.userId) ?? {} };
    const rows = await this.rpcPages(queryName, args, input.k, "text search", input.signal);
    return rows.map((row) => {
      const hit: SearchHit = { id: String(row.id), text: asText(row.content), score: Number(row.score) };
      const meta = toMetadata(row.metadata);
      if (meta) hit.metadata = meta;
      return hit;
    });
  }

  /** An RPC's rows up to `k`, across the project's max_rows (which caps function results too). */
  private async rpcPages(name: string, args: Record<string, unknown>, k: number, action: string, signal?: AbortSignal): Promise<Row[]> {
    const rows: Row[] = [];
    while (rows.length < k) {
      let request = this.client.rpc(name, args).range(rows.length, k - 1);
      if (signal) request = request.abortSignal(signal);
      const result = (await request) as PostgrestResult;
      if (signal?.aborted) throw new AbortedError();
      if (result.error) throw upstream(result, action);
      const page = (result.data ?? []) as Row[];
      if (page.length === 0) break;
      rows.push(...page);
    }
    return rows;
  }

  async search(input: VectorSearchInput): Promise<SearchHit[]> {
    if (!Number.isInteger(input.k) || input.k < 0) throw new ValidationError("k must be a non-negative integer");
    if (input.k === 0) return [];
    const embedding = Array.from(input.embedding);
    if (embedding.length === 0 || !embedding.every(Number.isFinite)) {
      throw new ValidationError("The query embedding must be a non-empty vector of finite numbers");
    }
    const args = { query_embedding: embedding, match_count: input.k, filter: this.filter?.(input.userId) ?? {} };
    const rows = await this.rpcPages(this.queryName, args, input.k, "search");
    return rows
      .map((row) => {
        const hit: SearchHit = { id: String(row.id), text: asText(row.content), score: Number(row.similarity) };
        const meta = toMetadata(row.metadata);
        if (meta) hit.metadata = meta;
        return hit;
      })
      .sort((a, b) => b.score - a.score)
      .slice(0, input.k);
  }
}
