import type { Chunk, SearchHit } from "../../domain/chunk.js";
import { AbortedError, UpstreamError, ValidationError } from "../../errors/errors.js";
import { requireChunkIds } from "../../errors/validation.js";
import type {
  ChunkPage,
  GetEmbeddingsInput,
  ListChunksInput,
  TextSearchInput,
  VectorSearchInput,
  VectorStore,
} from "../../ports/vector-store.js";
import {
  embeddingsQuery,
  listQuery,
  metadataFilter,
  quotable,
  searchQuery,
  searchTextLiteral,
  textSearchQuery,
  type MetadataFilter,
} from "./tql.js";
import { asText } from "../../shared/as-text.js";

export interface DeepLakeVectorStoreOptions {
  /** The dataset, as `hub://<org>/<dataset>`; or give `org` and `dataset`. */
  path?: string;
  org?: string;
  dataset?: string;
  /** An Activeloop API token (ACTIVELOOP_TOKEN). */
  token: string;
  /** Default https://app.activeloop.ai. */
  baseUrl?: string;
  /** Tensor names, when the dataset differs from the vector store layout (id, text, metadata, embedding). */
  tensors?: Partial<{ id: string; text: string; metadata: string; embedding: string }>;
  /**
   * Metadata every chunk of a user has, for datasets holding many users'
   * chunks, e.g. `(userId) => ({ user_id: userId })`; becomes a TQL `where`.
   * Without it every user sees the whole dataset.
   */
  filter?: (userId: string) => MetadataFilter;
  /**
   * Lexical search, for hybrid search: TQL's `BM25_SIMILARITY` on the text
   * tensor, which needs a BM25 index on it (deeplake 4:
   * `ds["text"].create_index(deeplake.types.TextIndex(deeplake.types.BM25))`).
   * Off by default: without the index the service refuses the query, so a
   * dataset without one stays dense-only.
   */
  textSearch?: boolean;
  /** Per request; the Python client waited 170 s. */
  timeoutMs?: number;
  /** Retries of 502, 504 and connection failures (default 3), with exponential backoff. */
  maxRetries?: number;
  /** First backoff delay (default 500 ms, doubling). */
  retryDelayMs?: number;
  fetch?: typeof fetch;
}

interface QueryResponse {
  indices?: number[] | string;
  data?: Record<string, unknown[]> | Record<string, unknown>[];
  score?: number[];
}

const PROVIDER = "deeplake";

function parseDatasetPath(options: DeepLakeVectorStoreOptions): { org: string; dataset: string } {
  if (options.path) {
    const match = /^hub:\/\/([^/]+)\/([^/]+)$/.exec(options.path);
    if (!match) throw new ValidationError(`Expected a dataset path like hub://org/dataset, got ${JSON.stringify(options.path)}`);
    return { org: match[1]!, dataset: match[2]! };
  }
  if (!options.org || !options.dataset) throw new ValidationError("DeepLakeVectorStore needs `path` or both `org` and `dataset`");
  return { org: options.org, dataset: options.dataset };
}

/** Row i of a response, whichever layout (columns or rows) the service used. */
function rowsOf(response: QueryResponse): Record<string, unknown>[] {
  const data = response.data;
  if (Array.isArray(data)) return data;
  if (!data || typeof data !== "object") {
    throw new UpstreamError(PROVIDER, "DeepLake answered without a `data` field", { retryable: false });
  }
  const columns = Object.entries(data);
  const length = Math.max(0, ...columns.map(([, values]) => (Array.isArray(values) ? values.length : 0)));
  return Array.from({ length }, (_, i) =>
    Object.fromEntries(columns.map(([name, values]) => [name, Array.isArray(values) ? values[i] : undefined])),
  );
}

function indicesOf(response: QueryResponse): number[] | null {
  const { indices } = response;
  if (Array.isArray(indices)) return indices.map(Number);
  // Older servers sent "1,2,3".
  if (typeof indices === "string") return indices === "" ? [] : indices.split(",").map(Number);
  return null;
}

/** Text tensors come back as strings, sometimes wrapped in a one-element list. */
function scalar(value: unknown): unknown {
  return Array.isArray(value) && value.length === 1 ? value[0] : value;
}

function toMetadata(value: unknown): Record<string, unknown> | undefined {
  const v = scalar(value);
  const parsed = typeof v === "string" ? (JSON.parse(v) as unknown) : v;
  return parsed && typeof parsed === "object" && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
}

/**
 * A VectorStore over Activeloop's managed Tensor Database (DeepLake datasets
 * at hub://org/ds with runtime tensor_db), through its HTTP query API: TQL sent
 * to `POST /api/query/dataset/{org}/{ds}`. Chunks are listed in dataset order
 * and searched by cosine similarity on the server. Deep memory from this SDK
 * works with it by transforming the query embedding before the search;
 * Activeloop's own (discontinued) deep memory is not used.
 *
 * It has no `countChunks`: that TQL has no aggregate (no count), and its `in`
 * takes numbers and class labels only, so chunks cannot be counted, nor
 * excluded ids left out, on the server; settings list the dataset instead.
 * `getEmbeddings` matches its ids with `==` joined by `or` for that reason.
 */
export class DeepLakeVectorStore implements VectorStore {
  private readonly org: string;
  private readonly dataset: string;
  private readonly token: string;
  private readonly baseUrl: string;
  private readonly tensors: { id: string; text: string; metadata: string; embedding: string };
  private readonly filter: ((userId: string) => MetadataFilter) | undefined;
  private readonly timeoutMs: number;
  private readonly maxRetries: number;
  private readonly retryDelayMs: number;
  private readonly fetchImpl: typeof fetch;
  /**
   * Top-k chunks for a query string by BM25 on the server, best first;
   * present only with the `textSearch` option.
   */
  readonly textSearch?: (input: TextSearchInput) => Promise<SearchHit[]>;

  constructor(options: DeepLakeVectorStoreOptions) {
    ({ org: this.org, dataset: this.dataset } = parseDatasetPath(options));
    if (!options.token) throw new ValidationError("DeepLakeVectorStore needs an Activeloop token");
    this.token = options.token;
    this.baseUrl = (options.baseUrl ?? "https://app.activeloop.ai").replace(/\/+$/, "");
    this.tensors = { id: "id", text: "text", metadata: "metadata", embedding: "embedding", ...options.tensors };
    this.filter = options.filter;
    this.timeoutMs = options.timeoutMs ?? 170_000;
    this.maxRetries = options.maxRetries ?? 3;
    this.retryDelayMs = options.retryDelayMs ?? 500;
    this.fetchImpl = options.fetch ?? globalThis.fetch;
    if (options.textSearch) this.textSearch = (input) => this.rankText(input);
  }

  /** The cursor is the dataset row to continue from. */
  async listChunks(input: ListChunksInput): Promise<ChunkPage> {
    const fromRow = input.cursor === null ? 0 : Number(input.cursor);
    if (!Number.isSafeInteger(fromRow) || fromRow < 0) throw new ValidationError(`Invalid cursor ${JSON.stringify(input.cursor)}`);
    if (!Number.isSafeInteger(input.limit) || input.limit <= 0) throw new ValidationError("limit must be a positive integer");
    const { id, text, metadata, embedding } = this.tensors;
    const filter = metadataFilter(metadata, this.filter?.(input.userId));
    const query = listQuery({
      returnTensors: [id, text, metadata, ...(input.includeEmbeddings ? [embedding] : [])],
      fromRow,
      limit: input.limit,
      filter,
    });
    const response = await this.query(query);
    const rows = rowsOf(response);
    const indices = indicesOf(response);
    if (!indices && filter)
      throw new UpstreamError(PROVIDER, "DeepLake answered without row indices; cannot page a filtered listing", { retryable: false });
    const chunks = rows.map((row) => {
      const chunk: Chunk = { id: String(scalar(row[id])), text: asText(scalar(row[text])) };
      const meta = toMetadata(row[metadata]);
      if (meta) chunk.metadata = meta;
      if (input.includeEmbeddings && Array.isArray(row[embedding])) chunk.embedding = Float32Array.from(row[embedding] as number[]);
      return chunk;
    });
    if (chunks.length < input.limit) return { chunks, nextCursor: null };
    const next = indices && indices.length > 0 ? Math.max(...indices) + 1 : fromRow + chunks.length;
    return { chunks, nextCursor: String(next) };
  }

  async search(input: VectorSearchInput): Promise<SearchHit[]> {
    if (!Number.isSafeInteger(input.k) || input.k < 0) throw new ValidationError("k must be a non-negative integer");
    if (input.k === 0) return [];
    const { id, text, metadata, embedding } = this.tensors;
    const query = searchQuery({
      returnTensors: [text, metadata, id],
      embeddingTensor: embedding,
      embedding: input.embedding,
      k: input.k,
      filter: metadataFilter(metadata, this.filter?.(input.userId)),
    });
    const response = await this.query(query);
    const rows = rowsOf(response);
    return rows.map((row, i) => {
      const score = Number(scalar(row.score ?? response.score?.[i]));
      const hit: SearchHit = { id: String(scalar(row[id])), text: asText(scalar(row[text])), score };
      const meta = toMetadata(row[metadata]);
      if (meta) hit.metadata = meta;
      return hit;
    });
  }

  /**
   * One query for the chunks' stored embeddings. Ids TQL cannot quote (with a
   * quote, backslash or control character) cannot be asked for, so they are
   * left out like ids the dataset lacks, never spliced into the query.
   */
  async getEmbeddings(input: GetEmbeddingsInput): Promise<Map<string, Float32Array>> {
    requireChunkIds(input.ids);
    if (input.signal?.aborted) throw new AbortedError();
    const wanted = new Set(input.ids.filter(quotable));
    const found = new Map<string, Float32Array>();
    if (wanted.size === 0) return found;
    const { id, metadata, embedding } = this.tensors;
    const query = embeddingsQuery({
      idTensor: id,
      embeddingTensor: embedding,
      ids: [...wanted],
      filter: metadataFilter(metadata, this.filter?.(input.userId)),
    });
    for (const row of rowsOf(await this.query(query, input.signal))) {
      const chunkId = String(scalar(row[id]));
      // The first row wins where the dataset holds an id twice.
      if (!wanted.has(chunkId) || found.has(chunkId) || !Array.isArray(row[embedding])) continue;
      found.set(chunkId, Float32Array.from(row[embedding] as number[]));
    }
    return found;
  }

  private async rankText(input: TextSearchInput): Promise<SearchHit[]> {
    if (!Number.isSafeInteger(input.k) || input.k < 0) throw new ValidationError("k must be a non-negative integer");
    if (typeof input.query !== "string") throw new ValidationError("query must be a string");
    if (input.signal?.aborted) throw new AbortedError();
    const textLiteral = searchTextLiteral(input.query);
    if (input.k === 0 || textLiteral === "") return [];
    const { id, text, metadata } = this.tensors;
    const query = textSearchQuery({
      returnTensors: [text, metadata, id],
      textTensor: text,
      textLiteral,
      k: input.k,
      filter: metadataFilter(metadata, this.filter?.(input.userId)),
    });
    const response = await this.query(query, input.signal);
    return (
      rowsOf(response)
        .map((row, i) => {
          const hit: SearchHit = { id: String(scalar(row[id])), text: asText(scalar(row[text])), score: Number(scalar(row.score ?? response.score?.[i])) };
          const meta = toMetadata(row[metadata]);
          if (meta) hit.metadata = meta;
          return hit;
        })
        // BM25 ranks every row; a chunk sharing no term with the query scores 0 and is left out.
        .filter((hit) => hit.score > 0)
    );
  }

  /** One TQL query, retrying 502, 504 and connection failures as Activeloop's client did. */
  private async query(tql: string, signal?: AbortSignal): Promise<QueryResponse> {
    const url = `${this.baseUrl}/api/query/dataset/${encodeURIComponent(this.org)}/${encodeURIComponent(this.dataset)}`;
    for (let attempt = 0; ; attempt++) {
      let response: Response;
      try {
        response = await this.fetchImpl(url, {
          method: "POST",
          headers: {
            Authorization: `Bearer ${this.token}`,
            "X-Activeloop-Provider-Type": "activeloop",
            "Content-Type": "application/json",
          },
          body: JSON.stringify({ query: tql }),
          signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(this.timeoutMs)]) : AbortSignal.timeout(this.timeoutMs),
        });
      } catch (error) {
        if (signal?.aborted) throw new AbortedError();
        if ((error as Error)?.name === "TimeoutError") {
          throw new UpstreamError(PROVIDER, `DeepLake query timed out after ${this.timeoutMs} ms`, { retryable: true, cause: error });
        }
        if (attempt < this.maxRetries) {
          await this.backoff(attempt);
          continue;
        }
        throw new UpstreamError(PROVIDER, `Cannot reach DeepLake: ${(error as Error)?.message ?? String(error)}`, {
          retryable: true,
          cause: error,
        });
      }
      if (response.ok) return (await response.json()) as QueryResponse;
      if ((response.status === 502 || response.status === 504) && attempt < this.maxRetries) {
        // Drain the body so the connection can be reused.
        await response.text().catch(() => undefined);
        await this.backoff(attempt);
        continue;
      }
      throw await this.httpError(response);
    }
  }

  private async httpError(response: Response): Promise<UpstreamError> {
    const body = await response.text();
    let description = body.slice(0, 500);
    let code: unknown;
    try {
      const parsed = JSON.parse(body) as { description?: unknown; code?: unknown };
      if (typeof parsed.description === "string") description = parsed.description;
      code = parsed.code;
    } catch {
      // Not JSON (a gateway page): keep the text.
    }
    const status = response.status;
    const hints: Record<number, string> = {
      401: "the Activeloop token is missing, invalid or expired",
      403: code === 1 ? "the dataset's agreement has not been accepted" : "the token may not read this dataset",
      404: "no such organisation or dataset",
      423: "the dataset is locked",
      429: "over the plan's request limit",
    };
    const retryAfter = Number(response.headers.get("retry-after"));
    return new UpstreamError(PROVIDER, `DeepLake answered ${status}${hints[status] ? ` (${hints[status]})` : ""}: ${description}`, {
      status,
      retryable: status === 423 || status === 429 || status >= 500,
      retryAfterMs: status === 429 && Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter * 1000 : undefined,
    });
  }

  private backoff(attempt: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, this.retryDelayMs * 2 ** attempt));
  }
}
