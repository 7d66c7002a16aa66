import type { SchemaNames } from "./pgvector-schema.js";

/**
 * The store's SQL, built once per table. Every value is a bound parameter;
 * only the (validated, quoted) table names and the text search configuration
 * are part of the text.
 */
export interface PgVectorQueries {
  /** $1 user id, $2 cursor or null, $3 limit. */
  list(withEmbeddings: boolean): string;
  /** $1 user id, $2 ids not to count. */
  count: string;
  /** $1 user id, $2 ids: those of the user's and the shared chunks, with their embeddings as text. */
  embeddings: string;
  /** $1 query vector (text), $2 user id, $3 k. */
  search: string;
  /** $1 query text, $2 user id, $3 k, $4 k1, $5 b. */
  textSearch: string;
  /** $1 ids, $2 user ids, $3 contents, $4 metadata (json text), $5 embeddings (vector text). */
  upsert: string;
  /** $1 ids, $2 whether to match the owner, $3 the owner (null = shared). */
  remove: string;
  /** The embedding column's declared type, e.g. vector(384); $1 table regclass text. */
  embeddingType: string;
}

export function pgvectorQueries(n: SchemaNames, textSearchConfig: string): PgVectorQueries {
  const columns = "c.id, c.content, c.metadata";
  const page = (owner: string, withEmbeddings: boolean) =>
    `(select ${columns}${withEmbeddings ? ", c.embedding::text as embedding" : ""} from ${n.chunks} c
       where ${owner} and ($2::text is null or c.id > $2::text) order by c.id limit $3::integer)`;
  return {
    // Two index range scans (the user's chunks, the shared ones) merged in id order.
    list: (withEmbeddings) =>
      `select * from (${page("c.user_id = $1::text", withEmbeddings)} union all ${page("c.user_id is null", withEmbeddings)}) u
        order by u.id limit $3::integer`,
    count: `select count(*)::bigint as count from ${n.chunks} c
             where (c.user_id = $1::text or c.user_id is null) and not (c.id = any($2::text[]))`,
    embeddings: `select c.id, c.embedding::text as embedding from ${n.chunks} c
                  where c.id = any($2::text[]) and (c.user_id = $1::text or c.user_id is null)`,
    search: `select ${columns}, 1 - (c.embedding <=> $1::text::vector) as score
               from ${n.chunks} c
              where c.user_id = $2::text or c.user_id is null
              order by c.embedding <=> $1::text::vector, c.id
              limit $3::integer`,
    // BM25 (Lucene's idf, k1 and b as parameters) over the user's and the
    // shared chunks: document frequencies from the postings, corpus size and
    // average length from the per-owner totals.
    textSearch: `with q as (select distinct u.lexeme from unnest(to_tsvector('${textSearchConfig}'::regconfig, $1::text)) u),
      p as (
        select t.chunk_id, t.lexeme, t.tf, t.chunk_length
          from q join ${n.terms} t on t.lexeme = q.lexeme
         where t.user_id = $2::text or t.user_id is null),
      df as (select p.lexeme, count(*)::float8 as df from p group by p.lexeme),
      st as (
        select coalesce(sum(s.chunks), 0)::float8 as n, coalesce(sum(s.total_length)::float8 / nullif(sum(s.chunks), 0), 1) as avg_length
          from ${n.stats} s where s.user_id = $2::text or s.user_id is null),
      scored as (
        select p.chunk_id,
               sum(ln(1 + (st.n - df.df + 0.5) / (df.df + 0.5)) * p.tf * ($4::float8 + 1)
                   / (p.tf + $4::float8 * (1 - $5::float8 + $5::float8 * p.chunk_length / greatest(st.avg_length, 1)))) as score
          from p join df on df.lexeme = p.lexeme cross join st
         group by p.chunk_id)
      select ${columns}, s.score from scored s join ${n.chunks} c on c.id = s.chunk_id
       order by s.score desc, c.id
       limit $3::integer`,
    upsert: `insert into ${n.chunks} as c (id, user_id, content, metadata, embedding, updated_at)
             select r.id, r.user_id, r.content, r.metadata::jsonb, r.embedding::vector, now()
               from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) as r(id, user_id, content, metadata, embedding)
             on conflict (id) do update
               set content = excluded.content, metadata = excluded.metadata, embedding = excluded.embedding, updated_at = excluded.updated_at
               where c.user_id is not distinct from excluded.user_id
             returning c.id`,
    remove: `with gone as (
               delete from ${n.chunks} c
                where c.id = any($1::text[]) and (not $2::boolean or c.user_id is not distinct from $3::text)
               returning 1)
             select count(*)::integer as n from gone`,
    embeddingType: `select format_type(a.atttypid, a.atttypmod) as type
                      from pg_attribute a
                     where a.attrelid = to_regclass($1::text) and a.attname = 'embedding' and not a.attisdropped`,
  };
}
