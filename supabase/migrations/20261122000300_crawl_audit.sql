-- Crawl audit trail (seed 001): scrape_jobs, their page-level scrape_job_results, and
-- scrape_job_stats kept by triggers, so analytics outlive Redis' 1 h / 24 h TTLs. Also
-- scraped_pages, the searchable text of each customer's site.
--
-- Results are an audit trail: immutable once written (UPDATE is refused) and removed only with
-- their job. The statistics are maintained incrementally from the transition table of each
-- INSERT / DELETE statement: O(rows in the statement), i.e. O(1) per result, never re-aggregating
-- the job's results; concurrent inserters for one job serialise on its single stats row.

create table public.scrape_jobs (
  job_id text primary key check (job_id ~ '^[A-Za-z0-9_.:-]{1,128}$'),
  customer_id uuid not null references public.customers (id) on delete cascade,
  domain text not null check (char_length(domain) between 1 and 253),
  job_type text not null default 'full_crawl'
    check (job_type in ('full_crawl', 'incremental', 'single_page', 'sitemap')),
  status text not null default 'queued'
    check (status in ('queued', 'running', 'completed', 'failed', 'cancelled')),
  config jsonb not null default '{}',
  data jsonb not null default '{}',
  error_message text,
  attempts integer not null default 0 check (attempts >= 0),
  locked_until timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  started_at timestamptz,
  completed_at timestamptz,
  -- Target of the composite foreign keys below.
  unique (job_id, customer_id)
);
alter table public.scrape_jobs enable row level security;
create index scrape_jobs_customer_created_idx on public.scrape_jobs (customer_id, created_at desc);
create index scrape_jobs_runnable_idx on public.scrape_jobs (created_at)
  where status in ('queued', 'running');
create index scrape_jobs_created_idx on public.scrape_jobs (created_at);
create trigger scrape_jobs_touch before update on public.scrape_jobs
  for each row execute function private.touch_updated_at();

create table public.scrape_job_results (
  id bigint generated always as identity primary key,
  job_id text not null,
  customer_id uuid not null,
  url text not null check (char_length(url) between 1 and 2048),
  status text not null check (status in ('success', 'failed', 'skipped')),
  http_status integer check (http_status between 100 and 599),
  processing_time_ms integer check (processing_time_ms >= 0),
  bytes integer check (bytes >= 0),
  content_hash text,
  error_message text,
  page_data jsonb not null default '{}',
  created_at timestamptz not null default now(),
  foreign key (job_id, customer_id)
    references public.scrape_jobs (job_id, customer_id) on delete cascade,
  -- One result per page and job: a crawl resumed after a crash never records a page twice.
  unique (job_id, url)
);
alter table public.scrape_job_results enable row level security;

create table public.scrape_job_stats (
  job_id text primary key,
  customer_id uuid not null,
  total_pages integer not null default 0,
  successful_pages integer not null default 0,
  failed_pages integer not null default 0,
  skipped_pages integer not null default 0,
  -- Results that reported a processing time (the average's denominator).
  timed_pages integer not null default 0,
  total_processing_time_ms bigint not null default 0,
  total_bytes bigint not null default 0,
  first_result_at timestamptz,
  last_result_at timestamptz,
  avg_processing_time_ms numeric generated always as (
    case when timed_pages > 0 then round(total_processing_time_ms::numeric / timed_pages, 2) end
  ) stored,
  pages_per_second numeric generated always as (
    case when last_result_at > first_result_at
         then round(total_pages / extract(epoch from (last_result_at - first_result_at)), 3) end
  ) stored,
  updated_at timestamptz not null default now(),
  foreign key (job_id, customer_id)
    references public.scrape_jobs (job_id, customer_id) on delete cascade
);
alter table public.scrape_job_stats enable row level security;

-- AFTER INSERT ... FOR EACH STATEMENT: one upsert per job touched by the statement, adding the
-- statement's own counts. ORDER BY job_id keeps the lock order stable across concurrent writers.
create function private.scrape_job_stats_add() returns trigger
language plpgsql security definer set search_path = ''
as $$
begin
  insert into public.scrape_job_stats as s (
    job_id, customer_id, total_pages, successful_pages, failed_pages, skipped_pages,
    timed_pages, total_processing_time_ms, total_bytes, first_result_at, last_result_at)
  select r.job_id, r.customer_id, count(*),
         count(*) filter (where r.status = 'success'),
         count(*) filter (where r.status = 'failed'),
         count(*) filter (where r.status = 'skipped'),
         count(r.processing_time_ms), coalesce(sum(r.processing_time_ms), 0), coalesce(sum(r.bytes), 0),
         min(r.created_at), max(r.created_at)
    from new_results r
   group by r.job_id, r.customer_id
   order by r.job_id
  on conflict (job_id) do update set
    total_pages = s.total_pages + excluded.total_pages,
    successful_pages = s.successful_pages + excluded.successful_pages,
    failed_pages = s.failed_pages + excluded.failed_pages,
    skipped_pages = s.skipped_pages + excluded.skipped_pages,
    timed_pages = s.timed_pages + excluded.timed_pages,
    total_processing_time_ms = s.total_processing_time_ms + excluded.total_processing_time_ms,
    total_bytes = s.total_bytes + excluded.total_bytes,
    first_result_at = least(s.first_result_at, excluded.first_result_at),
    last_result_at = greatest(s.last_result_at, excluded.last_result_at),
    updated_at = now();
  return null;
end
$$;

-- AFTER DELETE ... FOR EACH STATEMENT: subtract what the statement removed. (When a whole job is
-- deleted its stats row goes by cascade as well; the UPDATE then simply finds nothing.)
-- first/last_result_at cannot be un-merged without a scan, so they keep their range.
create function private.scrape_job_stats_subtract() returns trigger
language plpgsql security definer set search_path = ''
as $$
begin
  update public.scrape_job_stats s set
    total_pages = s.total_pages - d.total_pages,
    successful_pages = s.successful_pages - d.successful_pages,
    failed_pages = s.failed_pages - d.failed_pages,
    skipped_pages = s.skipped_pages - d.skipped_pages,
    timed_pages = s.timed_pages - d.timed_pages,
    total_processing_time_ms = s.total_processing_time_ms - d.total_processing_time_ms,
    total_bytes = s.total_bytes - d.total_bytes,
    updated_at = now()
  from (select r.job_id, count(*) as total_pages,
               count(*) filter (where r.status = 'success') as successful_pages,
               count(*) filter (where r.status = 'failed') as failed_pages,
               count(*) filter (where r.status = 'skipped') as skipped_pages,
               count(r.processing_time_ms) as timed_pages,
               coalesce(sum(r.processing_time_ms), 0) as total_processing_time_ms,
               coalesce(sum(r.bytes), 0) as total_bytes
          from old_results r
         group by r.job_id) d
  where s.job_id = d.job_id;
  return null;
end
$$;

create function private.refuse_update() returns trigger
language plpgsql
as $$
begin
  raise exception using errcode = '55000',
    message = format('%s rows are immutable (audit trail)', tg_table_name);
end
$$;

create trigger scrape_job_results_stats_add after insert on public.scrape_job_results
  referencing new table as new_results
  for each statement execute function private.scrape_job_stats_add();
create trigger scrape_job_results_stats_subtract after delete on public.scrape_job_results
  referencing old table as old_results
  for each statement execute function private.scrape_job_stats_subtract();
create trigger scrape_job_results_immutable before update on public.scrape_job_results
  for each row execute function private.refuse_update();

-- The text of each crawled page of a customer's site, searchable with full-text search.
create table public.scraped_pages (
  id uuid primary key default gen_random_uuid(),
  customer_id uuid not null references public.customers (id) on delete cascade,
  url text not null check (char_length(url) between 1 and 2048),
  title text not null default '' check (char_length(title) <= 1000),
  headings text not null default '' check (char_length(headings) <= 20000),
  content text not null default '' check (char_length(content) <= 500000),
  content_hash text not null,
  -- The job that last crawled the page; no foreign key: pages outlive the 90-day job audit trail.
  job_id text,
  search tsvector generated always as (
    setweight(to_tsvector('english', title), 'A')
    || setweight(to_tsvector('english', headings), 'B')
    || setweight(to_tsvector('english', content), 'C')
  ) stored,
  crawled_at timestamptz not null default now(),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (customer_id, url)
);
alter table public.scraped_pages enable row level security;
create index scraped_pages_search_idx on public.scraped_pages using gin (search);
create index scraped_pages_hash_idx on public.scraped_pages (customer_id, content_hash);
create trigger scraped_pages_touch before update on public.scraped_pages
  for each row execute function private.touch_updated_at();

create policy scrape_jobs_member_all on public.scrape_jobs for all to authenticated
  using (customer_id in (select private.member_customer_ids()))
  with check (customer_id in (select private.member_customer_ids()));
create policy scrape_job_results_member_select on public.scrape_job_results for select to authenticated
  using (customer_id in (select private.member_customer_ids()));
create policy scrape_job_stats_member_select on public.scrape_job_stats for select to authenticated
  using (customer_id in (select private.member_customer_ids()));
create policy scraped_pages_member_all on public.scraped_pages for all to authenticated
  using (customer_id in (select private.member_customer_ids()))
  with check (customer_id in (select private.member_customer_ids()));

revoke all on table public.scrape_jobs, public.scrape_job_results, public.scrape_job_stats,
  public.scraped_pages from public, anon, authenticated;
grant select, insert, update, delete on table public.scrape_jobs, public.scraped_pages to authenticated;
-- Results and stats are written by the crawler (service_role) only; staff read them.
grant select on table public.scrape_job_results, public.scrape_job_stats to authenticated;
grant select, insert, update, delete on table public.scrape_jobs, public.scrape_job_results,
  public.scrape_job_stats, public.scraped_pages to service_role;

-- cleanup_old_scrape_jobs(days, batch_size, max_batches) → jobs deleted.
-- Deletes jobs created more than p_days days ago, with their results and stats (by cascade), in
-- batches of p_batch_size jobs; jobs locked by a running worker are skipped.
create function public.cleanup_old_scrape_jobs(
  p_days integer,
  p_batch_size integer default 100,
  p_max_batches integer default null
) returns integer
language plpgsql
as $$
declare
  v_total integer := 0;
  v_deleted integer;
  v_batches integer := 0;
begin
  if p_days is null or p_days < 0 then
    raise exception using errcode = '22023', message = 'p_days: must be zero or more';
  end if;
  if p_batch_size is null or p_batch_size < 1 then
    raise exception using errcode = '22023', message = 'p_batch_size: must be at least 1';
  end if;
  loop
    -- By ctid, for the reason given in cleanup_expired_message_queue.
    delete from public.scrape_jobs j
     where j.ctid = any(array(select o.ctid
                                from public.scrape_jobs o
                               where o.created_at < now() - make_interval(days => p_days)
                               order by o.created_at
                               limit p_batch_size
                                 for update skip locked));
    get diagnostics v_deleted = row_count;
    v_total := v_total + v_deleted;
    v_batches := v_batches + 1;
    exit when v_deleted < p_batch_size or v_batches >= coalesce(p_max_batches, v_batches + 1);
  end loop;
  return v_total;
end
$$;

select private.restrict_public_functions();
