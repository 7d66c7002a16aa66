import pgvector from "pgvector";
import type pg from "pg";
import * as z from "zod";
import type { Chunk, SearchHit } from "../../domain/chunk.js";
import { AbortedError, ValidationError, type FieldIssue } from "../../errors/errors.js";
import { storableText, toStorableText } from "../../errors/storable-text.js";
import { parseOrThrow } from "../../errors/validation.js";
import type {
  ChunkPage,
  CountChunksInput,
  GetEmbeddingsInput,
  ListChunksInput,
  TextSearchInput,
  VectorSearchInput,
  VectorStore,
} from "../../ports/vector-store.js";
import type { SqlClient } from "../training-store/sql-training-store.js";
import { toPgVectorError } from "./pgvector-errors.js";
import { pgvectorQueries, type PgVectorQueries } from "./pgvector-queries.js";
import {
  pgvectorSchemaSql,
  resolveSchemaOptions,
  schemaNames,
  type PgVectorSchemaOptions,
  type ResolvedSchemaOptions,
  type SchemaNames,
} from "./pgvector-schema.js";
import { migratedOrClosed, pgliteSqlClient, pgSqlClient, type PGliteLike } from "../training-store/sql-clients.js";
import { asText } from "../../shared/as-text.js";

const bm25Schema = z
  .object({
    /** Term-frequency saturation (default 1.2). */
    k1: z.number().min(0).max(10).default(1.2),
    /** Length normalisation, 0 (none) to 1 (full) (default 0.75). */
    b: z.number().min(0).max(1).default(0.75),
  })
  .default({ k1: 1.2, b: 0.75 });

export type PgVectorStoreOptions = PgVectorSchemaOptions & {
  /**
   * BM25 parameters for `textSearch`. The defaults (Lucene's) were the best of
   * those measured on SciFact's train queries (bench/src/sql-text-search.ts).
   */
  bm25?: z.input<typeof bm25Schema>;
} & (
    | {
        /** A node-postgres pool you manage; `close()` leaves it open. */
        pool: pg.Pool;
      }
    | {
        /** A PGlite instance created with the vector extension: `PGlite.create({ extensions: { vector } })`. */
        pglite: PGliteLike;
      }
  );

export interface PgVectorConnectOptions extends PgVectorSchemaOptions {
  /** Any PostgreSQL 15+ with the vector extension available (Supabase's direct or pooled connection string works). */
  connectionString: string;
  /** Pool size (default 10). */
  max?: number;
  ssl?: pg.PoolConfig["ssl"];
  bm25?: z.input<typeof bm25Schema>;
  /** Apply the schema on connect (default true); pass false when you apply pgvectorSchemaSql() yourself. */
  migrate?: boolean;
}

/** A chunk to store: the owner (`userId`) is null or absent for chunks every user searches. */
export const pgvectorChunkSchema = z.object({
  id: z
    .string()
    .min(1)
    .refine((id) => Buffer.byteLength(id, "utf8") <= 512, "at most 512 bytes")
    .refine((id) => !id.includes("\u0000"), "must not contain NUL characters"),
  text: storableText(),
  embedding: z.custom<Float32Array | number[]>(
    (v) => v instanceof Float32Array || Array.isArray(v),
    "expected a Float32Array or an array of numbers",
  ),
  metadata: z.record(z.string(), z.unknown()).optional(),
  userId: z.string().min(1).max(256).nullable().optional(),
});
export type PgVectorChunk = z.input<typeof pgvectorChunkSchema>;

const deleteSchema = z.object({
  ids: z.array(z.string().min(1)),
  /** Only delete chunks of this owner (null: only shared chunks). Absent: whoever owns them. */
  userId: z.string().min(1).max(256).nullable().optional(),
});
export type PgVectorDeleteInput = z.input<typeof deleteSchema>;

/** A search's candidates, with room to spare; each call is one statement. */
const MAX_EMBEDDING_IDS = 1000;
const getEmbeddingsSchema = z.object({
  userId: z.string(),
  ids: z.array(z.string()).max(MAX_EMBEDDING_IDS),
});

const UPSERT_BATCH = 500;
const DEFAULT_EF_SEARCH = 40;
const MAX_EF_SEARCH = 1000;

type Row = Record<string, unknown>;

function toMetadata(value: unknown): Record<string, unknown> | undefined {
  const parsed = typeof value === "string" ? (JSON.parse(value) as unknown) : value;
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) return undefined;
  return Object.keys(parsed).length > 0 ? (parsed as Record<string, unknown>) : undefined;
}

function hitFrom(row: Row): SearchHit {
  const hit: SearchHit = { id: String(row.id), text: asText(row.content), score: Number(row.score) };
  const metadata = toMetadata(row.metadata);
  if (metadata) hit.metadata = metadata;
  return hit;
}

function checkVector(vector: ArrayLike<number>, dimensions: number, path: string): FieldIssue | null {
  if (vector.length !== dimensions) return { path, message: `expected ${dimensions} dimensions, got ${vector.length}` };
  let norm = 0;
  for (let i = 0; i < vector.length; i++) {
    const x = vector[i]!;
    if (!Number.isFinite(x)) return { path, message: `element ${i} is not a finite number` };
    norm += x * x;
  }
  // Cosine similarity with a zero vector is undefined (pgvector answers NaN).
  if (norm === 0) return { path, message: "a zero vector has no direction" };
  return null;
}

/**
 * A VectorStore on PostgreSQL with pgvector, used directly (no Supabase):
 * chunks in one table with an HNSW cosine index, listed by keyset paging,
 * scoped per user (a user sees their own chunks and the shared ones, whose
 * owner is null), searched by cosine similarity and, lexically, by BM25 over
 * a term table the database keeps in step with the chunks. The same SQL runs
 * on node-postgres and on PGlite with its vector extension.
 */
export class PgVectorStore implements VectorStore {
  private readonly sql: SqlClient;
  private readonly schema: ResolvedSchemaOptions;
  private readonly names: SchemaNames;
  private readonly queries: PgVectorQueries;
  private readonly bm25: { k1: number; b: number };
  private readonly endPool: (() => Promise<void>) | null;
  private iterativeScan: Promise<boolean> | null = null;
  /** Chunks as upsert takes them: the schema's fields, vectors of this store's size, ids unique. */
  private readonly chunksSchema: z.ZodType<z.output<typeof pgvectorChunkSchema>[]>;

  constructor(options: PgVectorStoreOptions, internal: { endPool?: () => Promise<void> } = {}) {
    this.schema = resolveSchemaOptions(options);
    this.bm25 = parseOrThrow(bm25Schema, options.bm25, "bm25 options");
    this.names = schemaNames(this.schema);
    this.queries = pgvectorQueries(this.names, this.schema.textSearchConfig);
    const dimensions = this.schema.dimensions;
    this.chunksSchema = z
      .array(
        pgvectorChunkSchema.extend({
          embedding: pgvectorChunkSchema.shape.embedding.superRefine((vector, ctx) => {
            const issue = checkVector(vector, dimensions, "");
            if (issue) ctx.addIssue({ code: "custom", message: issue.message });
          }),
        }),
      )
      .superRefine((chunks, ctx) => {
        const seen = new Set<string>();
        chunks.forEach((chunk, i) => {
          if (seen.has(chunk.id)) ctx.addIssue({ code: "custom", path: [i, "id"], message: `duplicate id ${JSON.stringify(chunk.id)} in one upsert` });
          seen.add(chunk.id);
        });
      });
    if ("pool" in options && options.pool) this.sql = pgSqlClient(options.pool, options.pool);
    else if ("pglite" in options && options.pglite) this.sql = pgliteSqlClient(options.pglite);
    else throw new ValidationError("PgVectorStore needs a `pool` (node-postgres) or a `pglite` instance");
    this.endPool = internal.endPool ?? null;
  }

  /** Creates a pool for the connection string and, unless told not to, applies the schema. */
  static async connect(options: PgVectorConnectOptions): Promise<PgVectorStore> {
    const { connectionString, max, ssl, migrate, ...rest } = options;
    if (!connectionString) throw new ValidationError("PgVectorStore.connect needs a connectionString");
    resolveSchemaOptions(rest);
    const { default: pgModule } = await import("pg");
    const pool = new pgModule.Pool({ connectionString, max: max ?? 10, ssl });
    // An idle connection that dies emits "error" on the pool, which would
    // crash the process if unheard; the pool replaces it on the next query.
    pool.on("error", () => {});
    return migratedOrClosed(new PgVectorStore({ ...rest, pool }, { endPool: () => pool.end() }), migrate);
  }

  /** The DDL `migrate()` applies, for your own migration tool. */
  schemaSql(): string {
    return pgvectorSchemaSql(this.schema);
  }

  /**
   * Creates the extension (when missing and allowed), the table, its indexes
   * and the term tables; safe to run again and from several processes at once.
   * Refuses a table whose embeddings have another size.
   */
  async migrate(): Promise<void> {
    try {
      await this.sql.transaction(async (tx) => {
        await tx.query("select pg_advisory_xact_lock(hashtext($1::text))", [`deep-memory pgvector ${this.names.chunksRegclass}`]);
        const { rows } = await tx.query(this.queries.embeddingType, [this.names.chunksRegclass]);
        const existing = rows[0]?.type;
        const wanted = `vector(${this.schema.dimensions})`;
        if (typeof existing === "string" && existing !== wanted) {
          throw new ValidationError(
            `${this.names.chunksRegclass} holds ${existing} embeddings but this store was configured for ${this.schema.dimensions} dimensions`,
            [{ path: "dimensions", message: `the table holds ${existing}` }],
          );
        }
        await tx.exec(this.schemaSql());
      });
      this.iterativeScan = null;
    } catch (error) {
      throw toPgVectorError(error, "migration");
    }
  }

  /** The user's chunks and the shared ones, in id order after the cursor (the last id of the previous page). */
  async listChunks(input: ListChunksInput): Promise<ChunkPage> {
    if (!Number.isSafeInteger(input.limit) || input.limit <= 0) throw new ValidationError("limit must be a positive integer");
    if (input.cursor !== null && (typeof input.cursor !== "string" || input.cursor === "")) {
      throw new ValidationError(`Invalid cursor ${JSON.stringify(input.cursor)}`);
    }
    const { rows } = await this.run("listing chunks", (sql) =>
      sql.query(this.queries.list(input.includeEmbeddings), [input.userId, input.cursor, input.limit]),
    );
    const chunks = rows.map((row) => {
      const chunk: Chunk = { id: String(row.id), text: asText(row.content) };
      const metadata = toMetadata(row.metadata);
      if (metadata) chunk.metadata = metadata;
      if (input.includeEmbeddings && typeof row.embedding === "string") {
        chunk.embedding = Float32Array.from(pgvector.fromSql(row.embedding) as number[]);
      }
      return chunk;
    });
    return { chunks, nextCursor: chunks.length < input.limit ? null : chunks[chunks.length - 1]!.id };
  }

  /** The user's and the shared chunks, leaving out `excludeIds`, in one `count(*)`. */
  async countChunks(input: CountChunksInput): Promise<number> {
    const { rows } = await this.run("counting chunks", (sql) => sql.query(this.queries.count, [input.userId, [...input.excludeIds]]));
    return Number(rows[0]?.count ?? 0);
  }

  /**
   * The stored embeddings of these chunks, by id, in one statement: only the
   * user's and the shared chunks; ids not found for the user are left out.
   */
  async getEmbeddings(input: GetEmbeddingsInput): Promise<Map<string, Float32Array>> {
    const { userId, ids } = parseOrThrow(getEmbeddingsSchema, input, "getEmbeddings input");
    if (input.signal?.aborted) throw new AbortedError();
    const embeddings = new Map<string, Float32Array>();
    if (ids.length === 0) return embeddings;
    const { rows } = await this.run("reading embeddings", (sql) => sql.query(this.queries.embeddings, [userId, [...new Set(ids)]]));
    if (input.signal?.aborted) throw new AbortedError();
    for (const row of rows) {
      if (typeof row.embedding === "string") embeddings.set(String(row.id), Float32Array.from(pgvector.fromSql(row.embedding) as number[]));
    }
    return embeddings;
  }

  /**
   * Top-k by cosine similarity through the HNSW index, with the index's
   * candidate list raised to k. Should the index return fewer than k rows (a
   * user whose chunks are a small part of the table, on pgvector before 0.8),
   * the query is answered again exactly, so a search never misses rows that exist.
   */
  async search(input: VectorSearchInput): Promise<SearchHit[]> {
    if (!Number.isSafeInteger(input.k) || input.k < 0) throw new ValidationError("k must be a non-negative integer");
    const issue = checkVector(input.embedding, this.schema.dimensions, "embedding");
    if (issue) throw new ValidationError(`The query embedding ${issue.message}`, [issue]);
    if (input.k === 0) return [];
    const vector = pgvector.toSql(Array.from(input.embedding)) as string;
    const params = [vector, input.userId, input.k];
    const iterative = this.schema.index === "hnsw" ? await this.supportsIterativeScan() : false;
    const rows = await this.run("search", (sql) =>
      sql.transaction(async (tx) => {
        if (this.schema.index === "hnsw") {
          const ef = Math.min(Math.max(input.k, DEFAULT_EF_SEARCH), MAX_EF_SEARCH);
          await tx.query(
            `select set_config('hnsw.ef_search', $1::text, true)${iterative ? ", set_config('hnsw.iterative_scan', 'strict_order', true)" : ""}`,
            [String(ef)],
          );
        }
        const first = await tx.query(this.queries.search, params);
        if (first.rows.length >= input.k || this.schema.index === "none") return first.rows;
        await tx.query("select set_config('enable_indexscan', 'off', true)");
        return (await tx.query(this.queries.search, params)).rows;
      }),
    );
    return rows.map(hitFrom);
  }

  /**
   * Top-k chunks for a query string by BM25 over the user's and the shared
   * chunks; chunks sharing no term with the query are not returned. Words are
   * matched after the text search configuration's stemming and stop words.
   */
  async textSearch(input: TextSearchInput): Promise<SearchHit[]> {
    if (!Number.isSafeInteger(input.k) || input.k < 0) throw new ValidationError("k must be a non-negative integer");
    if (typeof input.query !== "string") throw new ValidationError("query must be a string");
    if (input.signal?.aborted) throw new AbortedError();
    if (input.k === 0 || input.query.trim() === "") return [];
    const { rows } = await this.run("text search", (sql) =>
      sql.query(this.queries.textSearch, [toStorableText(input.query), input.userId, input.k, this.bm25.k1, this.bm25.b]),
    );
    if (input.signal?.aborted) throw new AbortedError();
    return rows.map(hitFrom);
  }

  /**
   * Inserts or updates chunks (by id), all or none. A chunk id owned by
   * another user (or shared, when `userId` is given) is refused, so one user's
   * upload never overwrites another's chunk.
   */
  async upsert(chunks: readonly PgVectorChunk[]): Promise<{ upserted: number }> {
    const parsed = parseOrThrow(this.chunksSchema, chunks, "chunks");
    if (parsed.length === 0) return { upserted: 0 };
    await this.run("upsert", (sql) =>
      sql.transaction(async (tx) => {
        for (let start = 0; start < parsed.length; start += UPSERT_BATCH) {
          const batch = parsed.slice(start, start + UPSERT_BATCH);
          const { rows } = await tx.query(this.queries.upsert, [
            batch.map((c) => c.id),
            batch.map((c) => c.userId ?? null),
            batch.map((c) => c.text),
            batch.map((c) => JSON.stringify(c.metadata ?? {})),
            batch.map((c) => pgvector.toSql(Array.from(c.embedding)) as string),
          ]);
          if (rows.length < batch.length) {
            const written = new Set(rows.map((r) => String(r.id)));
            const taken = batch.filter((c) => !written.has(c.id)).map((c) => c.id);
            throw new ValidationError(
              `${taken.length} chunk id(s) belong to another owner and were not changed (nothing was written): ${taken
                .slice(0, 5)
                .map((id) => JSON.stringify(id))
                .join(", ")}${taken.length > 5 ? ", ..." : ""}`,
              taken.slice(0, 20).map((id) => ({ path: "id", message: `${JSON.stringify(id)} belongs to another owner` })),
            );
          }
        }
      }),
    );
    return { upserted: parsed.length };
  }

  /** Deletes chunks by id; with `userId` (a user, or null for shared chunks) only that owner's. */
  async delete(input: PgVectorDeleteInput): Promise<{ deleted: number }> {
    const parsed = parseOrThrow(deleteSchema, input, "delete input");
    if (parsed.ids.length === 0) return { deleted: 0 };
    const scoped = parsed.userId !== undefined;
    const { rows } = await this.run("delete", (sql) => sql.query(this.queries.remove, [parsed.ids, scoped, parsed.userId ?? null]));
    return { deleted: Number(rows[0]?.n ?? 0) };
  }

  /** Ends the pool if `connect()` created it; a pool or PGlite instance you passed stays open. */
  async close(): Promise<void> {
    await this.endPool?.();
  }

  /** pgvector 0.8 added iterative index scans, which keep filtered HNSW searches from coming back short. */
  private supportsIterativeScan(): Promise<boolean> {
    this.iterativeScan ??= this.sql
      .query("select extversion from pg_extension where extname = 'vector'")
      .then(({ rows }) => {
        const [major = 0, minor = 0] = (asText(rows[0]?.extversion) || "0").split(".").map(Number);
        return major > 0 || minor >= 8;
      })
      .catch((error: unknown) => {
        this.iterativeScan = null;
        throw toPgVectorError(error, "reading the vector extension's version");
      });
    return this.iterativeScan;
  }

  private async run<T>(action: string, fn: (sql: SqlClient) => Promise<T>): Promise<T> {
    try {
      return await fn(this.sql);
    } catch (error) {
      throw toPgVectorError(error, action);
    }
  }
}
