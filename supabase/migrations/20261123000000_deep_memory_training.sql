-- Deep memory training: runs, pairs, per-chunk outcomes, per-user settings and
-- trained models, with row-level security so a signed-in user reaches only
-- their own rows. Applies unchanged to hosted Supabase (auth.uid(), the
-- anon/authenticated/service_role roles); plain PostgreSQL and PGlite get the
-- same roles and auth.uid() from supabase/standalone/auth-shim.sql first.
-- Needs PostgreSQL 15+ (ON DELETE SET NULL with a column list).
--
-- Every timestamp is written by the application (the store passes `now`), so
-- tests and replays control time; defaults exist only for hand-written rows.

-- Runs -----------------------------------------------------------------------

create table public.deep_memory_training_runs (
  id uuid primary key default gen_random_uuid(),
  -- Text, not uuid, and no foreign key to auth.users: Supabase user ids are
  -- uuids and fit, and hosts with another auth provider (ids like
  -- "user_2abc") or plain PostgreSQL use the same schema.
  user_id text not null check (char_length(user_id) between 1 and 256),
  status text not null default 'pending'
    constraint deep_memory_training_runs_status_check
    check (status in ('pending', 'generating', 'generated', 'training', 'completed', 'failed')),
  total_chunks integer not null default 0 check (total_chunks >= 0),
  processed_chunks integer not null default 0 check (processed_chunks >= 0),
  skipped_chunks integer not null default 0 check (skipped_chunks >= 0),
  existing_chunks integer not null default 0 check (existing_chunks >= 0),
  pair_count integer not null default 0 check (pair_count >= 0),
  duplicates_removed integer not null default 0 check (duplicates_removed >= 0),
  cap_reached boolean not null default false,
  -- {questionsPerChunk, maxPairs, model}: fixed when the run is created.
  generation jsonb not null check (jsonb_typeof(generation) = 'object'),
  metrics jsonb check (metrics is null or jsonb_typeof(metrics) = 'object'),
  error text,
  failed_phase text check (failed_phase in ('generating', 'training')),
  generate_job_id text,
  train_job_id text,
  lease_owner text,
  lease_expires_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  generated_at timestamptz,
  completed_at timestamptz,
  -- Target of the (run, user) foreign keys below, so a pair, outcome, model or
  -- setting can only point at a run of the same user.
  constraint deep_memory_training_runs_id_user_key unique (id, user_id)
);

-- One active run per user, enforced by the database so two processes racing
-- to start a run cannot both win.
create unique index deep_memory_training_runs_one_active_per_user
  on public.deep_memory_training_runs (user_id)
  where status in ('pending', 'generating', 'training');

-- listRuns: a user's runs, newest first.
create index deep_memory_training_runs_user_created_idx
  on public.deep_memory_training_runs (user_id, created_at desc, id desc);

-- findRunByJobId.
create index deep_memory_training_runs_generate_job_idx
  on public.deep_memory_training_runs (user_id, generate_job_id) where generate_job_id is not null;
create index deep_memory_training_runs_train_job_idx
  on public.deep_memory_training_runs (user_id, train_job_id) where train_job_id is not null;

-- Pairs ----------------------------------------------------------------------

create table public.deep_memory_training_pairs (
  id uuid primary key default gen_random_uuid(),
  run_id uuid not null,
  user_id text not null,
  chunk_id text not null check (octet_length(chunk_id) between 1 and 512),
  -- Bounded so the unique index below can always hold the row (btree entries
  -- must fit in a third of a page).
  question text not null check (octet_length(question) between 1 and 2000),
  created_at timestamptz not null default now(),
  -- Insertion order, for a stable "oldest first" among pairs written together.
  seq bigint generated always as identity,
  -- A resumed run can never store the same pair twice.
  constraint deep_memory_training_pairs_run_chunk_question_key unique (run_id, chunk_id, question),
  -- The pair's user must be its run's user.
  constraint deep_memory_training_pairs_run_user_fkey foreign key (run_id, user_id)
    references public.deep_memory_training_runs (id, user_id) on delete cascade
);

create index deep_memory_training_pairs_run_order_idx
  on public.deep_memory_training_pairs (run_id, created_at, seq);

-- Chunk outcomes: which chunks a run has recorded, so a resumed run skips them.

create table public.deep_memory_chunk_outcomes (
  run_id uuid not null,
  user_id text not null,
  chunk_id text not null check (octet_length(chunk_id) between 1 and 512),
  status text not null check (status in ('done', 'skipped')),
  reason text,
  question_count integer not null default 0 check (question_count >= 0),
  duplicates_removed integer not null default 0 check (duplicates_removed >= 0),
  recorded_at timestamptz not null default now(),
  primary key (run_id, chunk_id),
  constraint deep_memory_chunk_outcomes_run_user_fkey foreign key (run_id, user_id)
    references public.deep_memory_training_runs (id, user_id) on delete cascade
);

-- Settings -------------------------------------------------------------------

create table public.deep_memory_settings (
  user_id text primary key check (char_length(user_id) between 1 and 256),
  enabled boolean not null default false,
  last_trained_at timestamptz,
  last_training_run_id uuid,
  -- The run whose model search uses.
  model_run_id uuid,
  updated_at timestamptz not null default now(),
  -- Both runs must belong to the same user; deleting a run clears the pointer
  -- and keeps the settings row.
  constraint deep_memory_settings_last_run_fkey foreign key (last_training_run_id, user_id)
    references public.deep_memory_training_runs (id, user_id) on delete set null (last_training_run_id),
  constraint deep_memory_settings_model_run_fkey foreign key (model_run_id, user_id)
    references public.deep_memory_training_runs (id, user_id) on delete set null (model_run_id)
);

create index deep_memory_settings_last_run_idx on public.deep_memory_settings (last_training_run_id);
create index deep_memory_settings_model_run_idx on public.deep_memory_settings (model_run_id);

-- Models: one per run ----------------------------------------------------------

create table public.deep_memory_models (
  run_id uuid primary key,
  user_id text not null,
  engine text not null check (char_length(engine) > 0),
  format text not null check (char_length(format) > 0),
  dimensions integer not null check (dimensions > 0),
  -- Never apply a model to another embedding model's vectors.
  embedding_model text not null check (char_length(embedding_model) > 0),
  weights bytea not null,
  metrics jsonb not null default '{}'::jsonb check (jsonb_typeof(metrics) = 'object'),
  created_at timestamptz not null default now(),
  constraint deep_memory_models_run_user_fkey foreign key (run_id, user_id)
    references public.deep_memory_training_runs (id, user_id) on delete cascade
);

-- Row-level security -----------------------------------------------------------
-- A signed-in user reads and changes only rows whose user_id is theirs. The
-- service role (Supabase gives it BYPASSRLS) and table owners do everything.
-- `(select auth.uid()::text)` is evaluated once per statement, not once per row.

alter table public.deep_memory_training_runs enable row level security;
alter table public.deep_memory_training_pairs enable row level security;
alter table public.deep_memory_chunk_outcomes enable row level security;
alter table public.deep_memory_settings enable row level security;
alter table public.deep_memory_models enable row level security;

create policy "Users read their own runs" on public.deep_memory_training_runs
  for select to authenticated using (user_id = (select auth.uid()::text));
create policy "Users create their own runs" on public.deep_memory_training_runs
  for insert to authenticated with check (user_id = (select auth.uid()::text));
create policy "Users update their own runs" on public.deep_memory_training_runs
  for update to authenticated using (user_id = (select auth.uid()::text)) with check (user_id = (select auth.uid()::text));
create policy "Users delete their own runs" on public.deep_memory_training_runs
  for delete to authenticated using (user_id = (select auth.uid()::text));

create policy "Users read their own pairs" on public.deep_memory_training_pairs
  for select to authenticated using (user_id = (select auth.uid()::text));
create policy "Users create their own pairs" on public.deep_memory_training_pairs
  for insert to authenticated with check (user_id = (select auth.uid()::text));
create policy "Users update their own pairs" on public.deep_memory_training_pairs
  for update to authenticated using (user_id = (select auth.uid()::text)) with check (user_id = (select auth.uid()::text));
create policy "Users delete their own pairs" on public.deep_memory_training_pairs
  for delete to authenticated using (user_id = (select auth.uid()::text));

create policy "Users read their own chunk outcomes" on public.deep_memory_chunk_outcomes
  for select to authenticated using (user_id = (select auth.uid()::text));
create policy "Users create their own chunk outcomes" on public.deep_memory_chunk_outcomes
  for insert to authenticated with check (user_id = (select auth.uid()::text));
create policy "Users update their own chunk outcomes" on public.deep_memory_chunk_outcomes
  for update to authenticated using (user_id = (select auth.uid()::text)) with check (user_id = (select auth.uid()::text));
create policy "Users delete their own chunk outcomes" on public.deep_memory_chunk_outcomes
  for delete to authenticated using (user_id = (select auth.uid()::text));

create policy "Users read their own settings" on public.deep_memory_settings
  for select to authenticated using (user_id = (select auth.uid()::text));
create policy "Users create their own settings" on public.deep_memory_settings
  for insert to authenticated with check (user_id = (select auth.uid()::text));
create policy "Users update their own settings" on public.deep_memory_settings
  for update to authenticated using (user_id = (select auth.uid()::text)) with check (user_id = (select auth.uid()::text));
create policy "Users delete their own settings" on public.deep_memory_settings
  for delete to authenticated using (user_id = (select auth.uid()::text));

create policy "Users read their own models" on public.deep_memory_models
  for select to authenticated using (user_id = (select auth.uid()::text));
create policy "Users create their own models" on public.deep_memory_models
  for insert to authenticated with check (user_id = (select auth.uid()::text));
create policy "Users update their own models" on public.deep_memory_models
  for update to authenticated using (user_id = (select auth.uid()::text)) with check (user_id = (select auth.uid()::text));
create policy "Users delete their own models" on public.deep_memory_models
  for delete to authenticated using (user_id = (select auth.uid()::text));

-- Supabase grants every new public table to anon by default; deep memory data
-- is never public, so anon gets nothing (RLS would hide the rows anyway).
revoke all on table public.deep_memory_training_runs, public.deep_memory_training_pairs,
  public.deep_memory_chunk_outcomes, public.deep_memory_settings, public.deep_memory_models from anon;
grant select, insert, update, delete on table public.deep_memory_training_runs, public.deep_memory_training_pairs,
  public.deep_memory_chunk_outcomes, public.deep_memory_settings, public.deep_memory_models
  to authenticated, service_role;

-- Functions ------------------------------------------------------------------
-- Multi-row writes live here so every client gets them as one transaction,
-- including supabase-js, whose REST calls cannot share a transaction. They run
-- as the caller (security invoker), so row-level security still applies: a
-- signed-in user calling them with another user's id finds no run.

-- Takes a run's lease for p_owner when it is free, expired or already theirs.
-- Returns the updated run, or no row when another live owner holds it.
create function public.deep_memory_claim_lease(
  p_user_id text,
  p_run_id uuid,
  p_owner text,
  p_expires_at timestamptz,
  p_now timestamptz
) returns setof public.deep_memory_training_runs
language sql
volatile
security invoker
set search_path = ''
as $$
  update public.deep_memory_training_runs
     set lease_owner = p_owner, lease_expires_at = p_expires_at, updated_at = p_now
   where id = p_run_id
     and user_id = p_user_id
     and (lease_owner is null
          or lease_owner = p_owner
          or coalesce(lease_expires_at, '-infinity'::timestamptz) <= p_now)
  returning *;
$$;

-- Stores one chunk's outcome and its questions and advances the run's
-- counters, atomically. Idempotent per (run, chunk): a chunk recorded before is
-- left alone and `recorded` is false. Requires the caller to hold the lease.
-- Errors: DM001 run not found (or not the user's), DM002 lease held by another.
create function public.deep_memory_record_chunk(
  p_user_id text,
  p_run_id uuid,
  p_lease_owner text,
  p_chunk_id text,
  p_status text,
  p_questions text[],
  p_reason text,
  p_duplicates_removed integer,
  p_cap_reached boolean,
  p_now timestamptz
) returns table (recorded boolean, run public.deep_memory_training_runs)
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_run public.deep_memory_training_runs;
  v_inserted integer;
begin
  -- Lock the run first: concurrent writers of the same run queue here, so the
  -- lease check and the counters see each other's committed work.
  select * into v_run
    from public.deep_memory_training_runs r
   where r.id = p_run_id and r.user_id = p_user_id
     for update;
  if not found then
    raise exception 'Run % not found', p_run_id using errcode = 'DM001';
  end if;
  if v_run.lease_owner is distinct from p_lease_owner then
    raise exception 'Lease on run % is held by another worker', p_run_id using errcode = 'DM002';
  end if;

  insert into public.deep_memory_chunk_outcomes
    (run_id, user_id, chunk_id, status, reason, question_count, duplicates_removed, recorded_at)
  values
    (p_run_id, p_user_id, p_chunk_id, p_status, p_reason,
     coalesce(cardinality(p_questions), 0), p_duplicates_removed, p_now)
  on conflict (run_id, chunk_id) do nothing;
  if not found then
    return query select false, v_run;
    return;
  end if;

  insert into public.deep_memory_training_pairs (run_id, user_id, chunk_id, question, created_at)
  select p_run_id, p_user_id, p_chunk_id, q.question, p_now
    from unnest(coalesce(p_questions, '{}'::text[])) with ordinality as q(question, position)
   order by q.position
  on conflict (run_id, chunk_id, question) do nothing;
  get diagnostics v_inserted = row_count;

  update public.deep_memory_training_runs r
     set processed_chunks = r.processed_chunks + 1,
         skipped_chunks = r.skipped_chunks + (case when p_status = 'skipped' then 1 else 0 end),
         pair_count = r.pair_count + v_inserted,
         duplicates_removed = r.duplicates_removed + p_duplicates_removed,
         cap_reached = r.cap_reached or p_cap_reached,
         updated_at = p_now
   where r.id = p_run_id
  returning * into v_run;

  return query select true, v_run;
end;
$$;

-- Chunk ids with at least one pair in the user's runs with the given statuses
-- (what an incremental run leaves out). A table, not a set of text, so callers
-- can page it with an ORDER BY on chunk_id.
create function public.deep_memory_chunk_ids_with_pairs(
  p_user_id text,
  p_statuses text[]
) returns table (chunk_id text)
language sql
stable
security invoker
set search_path = ''
as $$
  select distinct p.chunk_id
    from public.deep_memory_training_pairs p
    join public.deep_memory_training_runs r on r.id = p.run_id
   where r.user_id = p_user_id
     and p.user_id = p_user_id
     and r.status = any (p_statuses)
   order by p.chunk_id;
$$;

revoke execute on function public.deep_memory_claim_lease(text, uuid, text, timestamptz, timestamptz) from public, anon;
revoke execute on function public.deep_memory_record_chunk(text, uuid, text, text, text, text[], text, integer, boolean, timestamptz) from public, anon;
revoke execute on function public.deep_memory_chunk_ids_with_pairs(text, text[]) from public, anon;
grant execute on function public.deep_memory_claim_lease(text, uuid, text, timestamptz, timestamptz) to authenticated, service_role;
grant execute on function public.deep_memory_record_chunk(text, uuid, text, text, text, text[], text, integer, boolean, timestamptz) to authenticated, service_role;
grant execute on function public.deep_memory_chunk_ids_with_pairs(text, text[]) to authenticated, service_role;
