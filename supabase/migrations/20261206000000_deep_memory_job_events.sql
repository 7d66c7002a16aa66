-- Job events through the database: every job's ordered event log, so any API
-- replica can stream any job's events (SSE with Last-Event-ID resume) and a
-- job keeps reporting when it runs on a worker process or another replica.
--
-- Progress events are snapshots: appending one replaces the job's latest
-- event when that is progress too (with the new seq), so a 100,000-chunk run
-- keeps one progress row, not 100,000. Facts (started, skipped chunks, the
-- terminal event) are kept in order. A client that saw seq N and reconnects
-- gets every event with seq > N: the latest progress and the facts after N.

create table public.deep_memory_jobs (
  id uuid primary key,
  user_id text not null check (char_length(user_id) between 1 and 256),
  run_id uuid not null,
  kind text not null check (kind in ('generate', 'train')),
  -- False once a terminal event was appended; nothing is appended after it.
  active boolean not null default true,
  last_seq integer not null default 0 check (last_seq >= 0),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint deep_memory_jobs_id_user_key unique (id, user_id),
  constraint deep_memory_jobs_run_user_fkey foreign key (run_id, user_id)
    references public.deep_memory_training_runs (id, user_id) on delete cascade
);

create index deep_memory_jobs_run_idx on public.deep_memory_jobs (run_id);

create table public.deep_memory_job_events (
  job_id uuid not null,
  user_id text not null,
  seq integer not null check (seq > 0),
  type text not null check (char_length(type) between 1 and 64),
  -- The event without seq, jobId, runId, kind and at (those are columns or the job's).
  payload jsonb not null check (jsonb_typeof(payload) = 'object'),
  at timestamptz not null,
  primary key (job_id, seq),
  constraint deep_memory_job_events_job_user_fkey foreign key (job_id, user_id)
    references public.deep_memory_jobs (id, user_id) on delete cascade
);

alter table public.deep_memory_jobs enable row level security;
alter table public.deep_memory_job_events enable row level security;

create policy "Users read their own jobs" on public.deep_memory_jobs
  for select to authenticated using (user_id = (select auth.uid()::text));
create policy "Users create their own jobs" on public.deep_memory_jobs
  for insert to authenticated with check (user_id = (select auth.uid()::text));
create policy "Users update their own jobs" on public.deep_memory_jobs
  for update to authenticated using (user_id = (select auth.uid()::text)) with check (user_id = (select auth.uid()::text));
create policy "Users delete their own jobs" on public.deep_memory_jobs
  for delete to authenticated using (user_id = (select auth.uid()::text));

create policy "Users read their own job events" on public.deep_memory_job_events
  for select to authenticated using (user_id = (select auth.uid()::text));
create policy "Users create their own job events" on public.deep_memory_job_events
  for insert to authenticated with check (user_id = (select auth.uid()::text));
create policy "Users update their own job events" on public.deep_memory_job_events
  for update to authenticated using (user_id = (select auth.uid()::text)) with check (user_id = (select auth.uid()::text));
create policy "Users delete their own job events" on public.deep_memory_job_events
  for delete to authenticated using (user_id = (select auth.uid()::text));

revoke all on table public.deep_memory_jobs, public.deep_memory_job_events from anon;
grant select, insert, update, delete on table public.deep_memory_jobs, public.deep_memory_job_events
  to authenticated, service_role;

-- Appends one event to a job, numbering it after the job's last event, and
-- wakes listeners (NOTIFY deep_memory_job_events, payload the job id). A
-- progress event replaces the latest event when that is progress. Returns the
-- seq given, or appended = false when the job already ended (its terminal
-- event was appended before). Errors: DM001 job not found (or not the user's).
create function public.deep_memory_append_job_event(
  p_job_id uuid,
  p_user_id text,
  p_type text,
  p_payload jsonb,
  p_at timestamptz,
  p_terminal boolean
) returns table (seq integer, appended boolean)
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_job public.deep_memory_jobs;
  v_seq integer;
begin
  -- Lock the job: writers of the same job (several workers) queue here, so seqs never collide.
  select * into v_job
    from public.deep_memory_jobs j
   where j.id = p_job_id and j.user_id = p_user_id
     for update;
  if not found then
    raise exception 'Job % not found', p_job_id using errcode = 'DM001';
  end if;
  if not v_job.active then
    return query select v_job.last_seq, false;
    return;
  end if;
  v_seq := v_job.last_seq + 1;
  if p_type = 'progress' then
    update public.deep_memory_job_events e
       set seq = v_seq, payload = p_payload, at = p_at
     where e.job_id = p_job_id and e.seq = v_job.last_seq and e.type = 'progress';
  end if;
  if p_type <> 'progress' or not found then
    insert into public.deep_memory_job_events (job_id, user_id, seq, type, payload, at)
    values (p_job_id, p_user_id, v_seq, p_type, p_payload, p_at);
  end if;
  update public.deep_memory_jobs j
     set last_seq = v_seq, active = not p_terminal, updated_at = p_at
   where j.id = p_job_id;
  perform pg_notify('deep_memory_job_events', p_job_id::text);
  return query select v_seq, true;
end;
$$;

revoke execute on function public.deep_memory_append_job_event(uuid, text, text, jsonb, timestamptz, boolean) from public, anon;
grant execute on function public.deep_memory_append_job_event(uuid, text, text, jsonb, timestamptz, boolean) to authenticated, service_role;
