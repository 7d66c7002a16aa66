-- OPTIONAL: a pgvector documents table and match function for
-- SupabaseVectorStore, in the usual Supabase shape (the one LangChain's
-- SupabaseVectorStore also uses), so an existing `documents` table from
-- LangChain works as it is and you do not need this file.
--
-- Not a migration: the vector size depends on your embedding model. Replace
-- every 1536 below with your model's dimensions (text-embedding-3-small: 1536,
-- all-MiniLM-L6-v2 / bge-small-en-v1.5: 384), then run it once in the SQL
-- editor or copy it into supabase/migrations/.
--
-- Deep memory never rewrites these embeddings: it transforms the query
-- embedding and calls match_documents with the result.
--
-- The second part (the same text as documents-text-search.sql) adds BM25 text
-- search for hybrid search: pass `textSearch: true` to SupabaseVectorStore.

create extension if not exists vector with schema extensions;

create table if not exists public.documents (
  id bigint primary key generated always as identity,
  content text not null,
  -- Put the owner's id in metadata ({"user_id": "..."}) for per-user corpora;
  -- SupabaseVectorStore's `filter` option then scopes listing and search.
  metadata jsonb not null default '{}'::jsonb,
  embedding extensions.vector(1536) not null
);

-- Cosine distance, the metric match_documents orders by.
create index if not exists documents_embedding_idx
  on public.documents using hnsw (embedding extensions.vector_cosine_ops);
-- Metadata containment filters (metadata @> '{"user_id": "..."}').
create index if not exists documents_metadata_idx on public.documents using gin (metadata jsonb_path_ops);

-- Top match_count documents by cosine similarity (1 = same direction), best
-- first, among those whose metadata contains `filter`.
create or replace function public.match_documents(
  query_embedding extensions.vector(1536),
  match_count integer default null,
  filter jsonb default '{}'::jsonb
) returns table (id bigint, content text, metadata jsonb, similarity double precision)
language sql
stable
set search_path = public, extensions
as $$
  select d.id, d.content, d.metadata, 1 - (d.embedding <=> query_embedding) as similarity
    from public.documents d
   where d.metadata @> filter
   order by d.embedding <=> query_embedding
   limit match_count;
$$;

-- Signed-in users read shared documents (no user_id in metadata) and their
-- own; writes go through the service role.
alter table public.documents enable row level security;

drop policy if exists "Users read shared and own documents" on public.documents;
create policy "Users read shared and own documents" on public.documents
  for select to authenticated
  using (not (metadata ? 'user_id') or metadata ->> 'user_id' = (select auth.uid())::text);

revoke all on table public.documents from anon;
grant select on table public.documents to authenticated;
grant all on table public.documents to service_role;
revoke execute on function public.match_documents(extensions.vector, integer, jsonb) from public, anon;
grant execute on function public.match_documents(extensions.vector, integer, jsonb) to authenticated, service_role;

-- Text search ---------------------------------------------------------------

-- OPTIONAL: lexical (BM25) search over the `documents` table, for hybrid
-- search with SupabaseVectorStore (`textSearch: true`). documents.sql already
-- ends with this same block; run this file on its own to add text search to an
-- existing table, e.g. the one LangChain's SupabaseVectorStore created (bigint
-- or uuid ids both work). Safe to run again: it rebuilds the term index.
--
-- What it adds:
--   documents.fts            a generated tsvector (English) of the content
--   documents_terms          one row per (document, lexeme): the postings BM25 reads
--   documents_term_stats     per owner: document count and total length
--   match_documents_text()   top documents for a query string, best first
-- Statement-level triggers keep the two tables in step with `documents` in the
-- same transaction as every insert, update, delete and truncate.
--
-- Why BM25 and not ts_rank_cd: measured on SciFact (5,183 abstracts, 300 test
-- questions), ts_rank_cd finds far fewer relevant documents, and with
-- websearch_to_tsquery's AND semantics most questions match nothing at all;
-- see docs/persistence.md for the figures. Storage: about 55 bytes per
-- (document, distinct word), roughly twice the documents' own text and tsvector.
--
-- Owners: a document's owner is metadata->>'user_id' (the documents.sql
-- convention). Row-level security on the two tables mirrors the documents
-- policy, so a signed-in user's statistics come from their own and the shared
-- documents only; rows come back only where the documents policy allows.

alter table public.documents
  add column if not exists fts tsvector generated always as (to_tsvector('english'::regconfig, coalesce(content, ''))) stored;

-- The postings take documents.id's type (bigint in documents.sql and
-- LangChain's JS template, uuid in its Python one).
do $$
declare
  id_type text := (select format_type(a.atttypid, a.atttypmod) from pg_attribute a
                    where a.attrelid = 'public.documents'::regclass and a.attname = 'id' and not a.attisdropped);
begin
  execute format($sql$
    create table if not exists public.documents_terms (
      document_id %s not null,
      lexeme text not null,
      user_id text,
      tf integer not null,
      doc_length integer not null
    )$sql$, id_type);
end
$$;
-- Small (deduplicated) btree indexes: by lexeme for ranking, by document for upkeep.
create index if not exists documents_terms_lexeme_idx on public.documents_terms (lexeme, user_id);
create index if not exists documents_terms_document_idx on public.documents_terms (document_id);

create table if not exists public.documents_term_stats (
  user_id text,
  documents bigint not null,
  total_length bigint not null,
  constraint documents_term_stats_user_key unique nulls not distinct (user_id)
);

-- Keeps the postings and totals in step with documents, set-wise per
-- statement. Security definer: whoever may write documents keeps the index
-- right without rights on these tables.
create or replace function public.documents_index_terms() returns trigger
language plpgsql
security definer
set search_path = ''
as $fn$
begin
  -- Only rows whose words or owner changed are re-indexed.
  if tg_op = 'DELETE' then
    with gone as (
      select o.id, case when o.metadata ? 'user_id' then coalesce(o.metadata ->> 'user_id', '') end as user_id,
             (select coalesce(sum(coalesce(array_length(x.positions, 1), 1)), 0)::integer from pg_catalog.unnest(o.fts) x) as len
        from old_rows o),
    dropped as (delete from public.documents_terms t using gone g where t.document_id = g.id)
    insert into public.documents_term_stats as s (user_id, documents, total_length)
      select g.user_id, -count(*), -sum(g.len) from gone g group by g.user_id order by g.user_id
      on conflict (user_id) do update set documents = s.documents + excluded.documents, total_length = s.total_length + excluded.total_length;
  elsif tg_op = 'UPDATE' then
    with gone as (
      select o.id, case when o.metadata ? 'user_id' then coalesce(o.metadata ->> 'user_id', '') end as user_id,
             (select coalesce(sum(coalesce(array_length(x.positions, 1), 1)), 0)::integer from pg_catalog.unnest(o.fts) x) as len
        from old_rows o
       where not exists (select 1 from new_rows w
                          where w.id = o.id and w.fts = o.fts
                            and (case when w.metadata ? 'user_id' then coalesce(w.metadata ->> 'user_id', '') end)
                                is not distinct from (case when o.metadata ? 'user_id' then coalesce(o.metadata ->> 'user_id', '') end))),
    dropped as (delete from public.documents_terms t using gone g where t.document_id = g.id)
    insert into public.documents_term_stats as s (user_id, documents, total_length)
      select g.user_id, -count(*), -sum(g.len) from gone g group by g.user_id order by g.user_id
      on conflict (user_id) do update set documents = s.documents + excluded.documents, total_length = s.total_length + excluded.total_length;
  end if;
  -- Separate statements from the deletes above, so they see them.
  if tg_op = 'INSERT' then
    with came as (
      select w.id, case when w.metadata ? 'user_id' then coalesce(w.metadata ->> 'user_id', '') end as user_id, w.fts,
             (select coalesce(sum(coalesce(array_length(x.positions, 1), 1)), 0)::integer from pg_catalog.unnest(w.fts) x) as len
        from new_rows w),
    added as (
      insert into public.documents_terms (document_id, lexeme, user_id, tf, doc_length)
      select c.id, u.lexeme, c.user_id, coalesce(array_length(u.positions, 1), 1), c.len
        from came c cross join lateral pg_catalog.unnest(c.fts) u)
    insert into public.documents_term_stats as s (user_id, documents, total_length)
      select c.user_id, count(*), sum(c.len) from came c group by c.user_id order by c.user_id
      on conflict (user_id) do update set documents = s.documents + excluded.documents, total_length = s.total_length + excluded.total_length;
  elsif tg_op = 'UPDATE' then
    with came as (
      select w.id, case when w.metadata ? 'user_id' then coalesce(w.metadata ->> 'user_id', '') end as user_id, w.fts,
             (select coalesce(sum(coalesce(array_length(x.positions, 1), 1)), 0)::integer from pg_catalog.unnest(w.fts) x) as len
        from new_rows w
       where not exists (select 1 from old_rows o
                          where o.id = w.id and o.fts = w.fts
                            and (case when w.metadata ? 'user_id' then coalesce(w.metadata ->> 'user_id', '') end)
                                is not distinct from (case when o.metadata ? 'user_id' then coalesce(o.metadata ->> 'user_id', '') end))),
    added as (
      insert into public.documents_terms (document_id, lexeme, user_id, tf, doc_length)
      select c.id, u.lexeme, c.user_id, coalesce(array_length(u.positions, 1), 1), c.len
        from came c cross join lateral pg_catalog.unnest(c.fts) u)
    insert into public.documents_term_stats as s (user_id, documents, total_length)
      select c.user_id, count(*), sum(c.len) from came c group by c.user_id order by c.user_id
      on conflict (user_id) do update set documents = s.documents + excluded.documents, total_length = s.total_length + excluded.total_length;
  end if;
  delete from public.documents_term_stats where documents = 0;
  return null;
end
$fn$;

create or replace function public.documents_truncate_terms() returns trigger
language plpgsql
security definer
set search_path = ''
as $fn$
begin
  truncate public.documents_terms, public.documents_term_stats;
  return null;
end
$fn$;

drop trigger if exists documents_terms_insert on public.documents;
drop trigger if exists documents_terms_update on public.documents;
drop trigger if exists documents_terms_delete on public.documents;
drop trigger if exists documents_terms_truncate on public.documents;
create trigger documents_terms_insert after insert on public.documents
  referencing new table as new_rows for each statement execute function public.documents_index_terms();
create trigger documents_terms_update after update on public.documents
  referencing old table as old_rows new table as new_rows for each statement execute function public.documents_index_terms();
create trigger documents_terms_delete after delete on public.documents
  referencing old table as old_rows for each statement execute function public.documents_index_terms();
create trigger documents_terms_truncate after truncate on public.documents
  for each statement execute function public.documents_truncate_terms();

-- Index the documents already there (all of them again on a re-run).
truncate public.documents_terms, public.documents_term_stats;
with came as (
  select d.id, case when d.metadata ? 'user_id' then coalesce(d.metadata ->> 'user_id', '') end as user_id, d.fts,
         (select coalesce(sum(coalesce(array_length(x.positions, 1), 1)), 0)::integer from unnest(d.fts) x) as len
    from public.documents d),
added as (
  insert into public.documents_terms (document_id, lexeme, user_id, tf, doc_length)
  select c.id, u.lexeme, c.user_id, coalesce(array_length(u.positions, 1), 1), c.len
    from came c cross join lateral unnest(c.fts) u)
insert into public.documents_term_stats (user_id, documents, total_length)
  select c.user_id, count(*), sum(c.len) from came c group by c.user_id;
analyze public.documents_terms;

-- Top match_count documents for query_text by BM25 (k1 1.2, b 0.75; Lucene's
-- idf), best first, among those whose metadata contains `filter`. Words are
-- matched after English stemming and stop words; documents sharing no word
-- with the query are not returned. The statistics cover the caller's visible
-- documents, narrowed to one owner when `filter` names a user_id.
create or replace function public.match_documents_text(
  query_text text,
  match_count integer default null,
  filter jsonb default '{}'::jsonb
) returns table (id public.documents.id%type, content text, metadata jsonb, score double precision)
language sql
stable
set search_path = public, pg_catalog
as $$
  with q as (select distinct u.lexeme from unnest(to_tsvector('english'::regconfig, coalesce(query_text, ''))) u),
  scope as (
    select filter ? 'user_id' as scoped, coalesce(filter ->> 'user_id', '') as owner),
  p as (
    select t.document_id, t.lexeme, t.tf, t.doc_length
      from q join public.documents_terms t on t.lexeme = q.lexeme cross join scope
     where not scope.scoped or t.user_id is null or t.user_id = scope.owner),
  df as (select p.lexeme, count(*)::float8 as df from p group by p.lexeme),
  st as (
    select coalesce(sum(s.documents), 0)::float8 as n,
           coalesce(sum(s.total_length)::float8 / nullif(sum(s.documents), 0), 1) as avg_length
      from public.documents_term_stats s cross join scope
     where not scope.scoped or s.user_id is null or s.user_id = scope.owner),
  scored as (
    select p.document_id,
           sum(ln(1 + (st.n - df.df + 0.5) / (df.df + 0.5)) * p.tf * 2.2
               / (p.tf + 1.2 * (0.25 + 0.75 * p.doc_length / greatest(st.avg_length, 1)))) as score
      from p join df on df.lexeme = p.lexeme cross join st
     group by p.document_id)
  select d.id, d.content, d.metadata, s.score
    from scored s join public.documents d on d.id = s.document_id
   where d.metadata @> filter
   order by s.score desc, d.id
   limit match_count;
$$;

-- Signed-in users see postings and totals of shared documents and their own,
-- as the documents policy lets them see the documents; writes go through the
-- triggers only.
alter table public.documents_terms enable row level security;
alter table public.documents_term_stats enable row level security;
drop policy if exists "Users read terms of shared and own documents" on public.documents_terms;
create policy "Users read terms of shared and own documents" on public.documents_terms
  for select to authenticated using (user_id is null or user_id = (select auth.uid())::text);
drop policy if exists "Users read term totals of shared and own documents" on public.documents_term_stats;
create policy "Users read term totals of shared and own documents" on public.documents_term_stats
  for select to authenticated using (user_id is null or user_id = (select auth.uid())::text);

revoke all on table public.documents_terms, public.documents_term_stats from anon, authenticated;
grant select on table public.documents_terms, public.documents_term_stats to authenticated;
grant all on table public.documents_terms, public.documents_term_stats to service_role;
revoke execute on function public.documents_index_terms(), public.documents_truncate_terms() from public, anon, authenticated;
revoke execute on function public.match_documents_text(text, integer, jsonb) from public, anon;
grant execute on function public.match_documents_text(text, integer, jsonb) to authenticated, service_role;
