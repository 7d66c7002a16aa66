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
