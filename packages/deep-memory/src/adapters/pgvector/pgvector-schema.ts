import * as z from "zod";
import { parseOrThrow } from "../../errors/validation.js";

/**
 * The schema of the pgvector store, generated for a table name, a vector
 * size and a text search configuration (all three are part of the DDL, so it
 * is a template rather than a fixed migration). `PgVectorStore.migrate()`
 * applies it; `pgvectorSchemaSql()` returns it for hosts that run their own
 * migration tool.
 *
 * Lexical search is BM25 over a term table kept in step with the chunks by
 * statement-level triggers: PostgreSQL's own `ts_rank_cd` has no inverse
 * document frequency and, measured on SciFact, finds far fewer relevant
 * chunks (see docs/persistence.md). Each chunk's lexemes (the same
 * `to_tsvector` the generated column holds) are stored with their frequency
 * and the chunk's length; per-owner totals give the corpus size and average
 * length. Writes to the chunks table update both in the same transaction.
 */

const IDENT = /^[a-z_][a-z0-9_]*$/;

export const pgvectorSchemaOptionsSchema = z.object({
  /** Vector size of your embedding model (all-MiniLM-L6-v2: 384, text-embedding-3-small: 1536). */
  dimensions: z.number().int().min(1).max(16_000),
  /**
   * The chunks table, optionally schema-qualified (default
   * `public.deep_memory_chunks`). Lower-case letters, digits and `_`; the term
   * tables take its name plus `_terms` and `_term_stats`.
   */
  table: z
    .string()
    .regex(/^([a-z_][a-z0-9_]*\.)?[a-z_][a-z0-9_]{0,39}$/, "lower-case identifier (schema.table or table), table at most 40 characters")
    .default("public.deep_memory_chunks"),
  /** PostgreSQL text search configuration for lexical search (default `english`). */
  textSearchConfig: z
    .string()
    .regex(/^([a-z_][a-z0-9_]*\.)?[a-z_][a-z0-9_]*$/, "a text search configuration name such as english or simple")
    .default("english"),
  /**
   * `hnsw` (default): an approximate index with cosine ops, which pgvector
   * allows up to 2000 dimensions. `none`: exact search by scanning, for
   * larger vectors or small tables.
   */
  index: z.enum(["hnsw", "none"]).default("hnsw"),
}).refine((o) => o.index === "none" || o.dimensions <= 2000, {
  path: ["dimensions"],
  message: 'pgvector\'s HNSW index takes at most 2000 dimensions; pass index: "none" for larger vectors',
});
export type PgVectorSchemaOptions = z.input<typeof pgvectorSchemaOptionsSchema>;
export type ResolvedSchemaOptions = z.output<typeof pgvectorSchemaOptionsSchema>;

/** Quoted names of everything the schema creates. */
export interface SchemaNames {
  chunks: string;
  terms: string;
  stats: string;
  indexTerms: string;
  truncateTerms: string;
  /** Unquoted, schema-qualified, for to_regclass(). */
  chunksRegclass: string;
  /** Bare names for indexes (created in the table's schema). */
  userIndex: string;
  embeddingIndex: string;
  lexemeIndex: string;
  chunkIndex: string;
  triggerPrefix: string;
}

export function resolveSchemaOptions(options: PgVectorSchemaOptions): ResolvedSchemaOptions {
  return parseOrThrow(pgvectorSchemaOptionsSchema, options, "pgvector store options");
}

export function schemaNames(options: ResolvedSchemaOptions): SchemaNames {
  const [schema, table] = options.table.includes(".") ? options.table.split(".") : ["public", options.table];
  for (const part of [schema!, table!]) if (!IDENT.test(part)) throw new Error(`unreachable: ${part}`);
  const q = (name: string) => `"${schema}"."${name}"`;
  return {
    chunks: q(table!),
    terms: q(`${table}_terms`),
    stats: q(`${table}_term_stats`),
    indexTerms: q(`${table}_index_terms`),
    truncateTerms: q(`${table}_truncate_terms`),
    chunksRegclass: `${schema}.${table}`,
    userIndex: `"${table}_user_idx"`,
    embeddingIndex: `"${table}_embedding_idx"`,
    lexemeIndex: `"${table}_terms_lexeme_idx"`,
    chunkIndex: `"${table}_terms_chunk_idx"`,
    triggerPrefix: table!,
  };
}

/** The DDL, idempotent (`if not exists` / `or replace`), for one table. */
export function pgvectorSchemaSql(options: PgVectorSchemaOptions): string {
  const o = resolveSchemaOptions(options);
  const n = schemaNames(o);
  const cfg = `'${o.textSearchConfig}'::regconfig`;
  // A chunk's length for BM25: the number of positions of its lexemes, i.e.
  // its words less the stop words (a tsvector keeps at most 256 positions per lexeme).
  const length = (tsv: string) => `(select coalesce(sum(coalesce(array_length(x.positions, 1), 1)), 0)::integer from unnest(${tsv}) x)`;
  const indexNew = (came: string) => `with came as (${came}),
    added as (
      insert into ${n.terms} (chunk_id, lexeme, user_id, tf, chunk_length)
      select c.id, u.lexeme, c.user_id, coalesce(array_length(u.positions, 1), 1), c.len
        from came c cross join lateral unnest(c.tsv) u)
    insert into ${n.stats} as s (user_id, chunks, total_length)
      select c.user_id, count(*), sum(c.len) from came c group by c.user_id order by c.user_id
      on conflict (user_id) do update set chunks = s.chunks + excluded.chunks, total_length = s.total_length + excluded.total_length;`;
  return `-- pgvector store: chunks with embeddings, and BM25 term tables for lexical search.
create extension if not exists vector;

create table if not exists ${n.chunks} (
  id text primary key check (octet_length(id) between 1 and 512),
  -- The owner's id; null for chunks every user searches.
  user_id text check (user_id is null or char_length(user_id) between 1 and 256),
  content text not null,
  metadata jsonb not null default '{}'::jsonb check (jsonb_typeof(metadata) = 'object'),
  embedding vector(${o.dimensions}) not null,
  content_tsv tsvector generated always as (to_tsvector(${cfg}, content)) stored,
  updated_at timestamptz not null default now()
);
-- Listing a user's chunks (and the shared ones) in id order.
create index if not exists ${n.userIndex} on ${n.chunks} (user_id, id);
${o.index === "hnsw" ? `-- Cosine distance, the metric search orders by.\ncreate index if not exists ${n.embeddingIndex} on ${n.chunks} using hnsw (embedding vector_cosine_ops);\n` : ""}
-- One row per (chunk, lexeme): the postings BM25 reads. Plain btree indexes,
-- which PostgreSQL deduplicates, keep it about a third of the size a covering
-- index would take, for a few milliseconds per query (measured on SciFact).
create table if not exists ${n.terms} (
  chunk_id text not null,
  lexeme text not null,
  user_id text,
  tf integer not null,
  chunk_length integer not null
);
create index if not exists ${n.lexemeIndex} on ${n.terms} (lexeme, user_id);
create index if not exists ${n.chunkIndex} on ${n.terms} (chunk_id);

-- Per owner: how many chunks and their total length (for the average).
create table if not exists ${n.stats} (
  user_id text,
  chunks bigint not null,
  total_length bigint not null,
  constraint ${n.triggerPrefix}_term_stats_user_key unique nulls not distinct (user_id)
);

-- Other roles (Supabase's anon and authenticated, say) see none of it; the
-- store connects as the owner.
alter table ${n.chunks} enable row level security;
alter table ${n.terms} enable row level security;
alter table ${n.stats} enable row level security;

-- Keeps the term tables in step with the chunks, set-wise per statement.
create or replace function ${n.indexTerms}() returns trigger
language plpgsql
set search_path = pg_catalog, pg_temp
as $fn$
begin
  -- Rows whose words or owner changed are re-indexed; other updates (an
  -- embedding, metadata) leave the terms alone.
  if tg_op = 'DELETE' then
    with gone as (select o.id, o.user_id, ${length("o.content_tsv")} as len from old_rows o),
    dropped as (delete from ${n.terms} t using gone g where t.chunk_id = g.id)
    insert into ${n.stats} as s (user_id, chunks, total_length)
      select g.user_id, -count(*), -sum(g.len) from gone g group by g.user_id order by g.user_id
      on conflict (user_id) do update set chunks = s.chunks + excluded.chunks, total_length = s.total_length + excluded.total_length;
  elsif tg_op = 'UPDATE' then
    with gone as (
      select o.id, o.user_id, ${length("o.content_tsv")} as len from old_rows o
       where not exists (select 1 from new_rows w where w.id = o.id and w.content_tsv = o.content_tsv
                                                   and w.user_id is not distinct from o.user_id)),
    dropped as (delete from ${n.terms} t using gone g where t.chunk_id = g.id)
    insert into ${n.stats} as s (user_id, chunks, total_length)
      select g.user_id, -count(*), -sum(g.len) from gone g group by g.user_id order by g.user_id
      on conflict (user_id) do update set chunks = s.chunks + excluded.chunks, total_length = s.total_length + excluded.total_length;
  end if;
  -- Separate statements from the deletes above, so they see them.
  if tg_op = 'INSERT' then
    ${indexNew("select w.id, w.user_id, w.content_tsv as tsv, " + length("w.content_tsv") + " as len from new_rows w")}
  elsif tg_op = 'UPDATE' then
    ${indexNew(`select w.id, w.user_id, w.content_tsv as tsv, ${length("w.content_tsv")} as len from new_rows w
       where not exists (select 1 from old_rows o where o.id = w.id and o.content_tsv = w.content_tsv
                                                   and o.user_id is not distinct from w.user_id)`)}
  end if;
  delete from ${n.stats} where chunks = 0;
  return null;
end
$fn$;

create or replace function ${n.truncateTerms}() returns trigger
language plpgsql
set search_path = pg_catalog, pg_temp
as $fn$
begin
  truncate ${n.terms}, ${n.stats};
  return null;
end
$fn$;

create or replace trigger ${n.triggerPrefix}_terms_insert after insert on ${n.chunks}
  referencing new table as new_rows for each statement execute function ${n.indexTerms}();
create or replace trigger ${n.triggerPrefix}_terms_update after update on ${n.chunks}
  referencing old table as old_rows new table as new_rows for each statement execute function ${n.indexTerms}();
create or replace trigger ${n.triggerPrefix}_terms_delete after delete on ${n.chunks}
  referencing old table as old_rows for each statement execute function ${n.indexTerms}();
create or replace trigger ${n.triggerPrefix}_terms_truncate after truncate on ${n.chunks}
  for each statement execute function ${n.truncateTerms}();
`;
}
