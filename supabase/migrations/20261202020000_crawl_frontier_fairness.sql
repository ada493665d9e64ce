-- Crawl robustness and fairness (issue 14, finding 7).
--
-- 1. A persisted frontier per job: every URL the crawler discovered, with its depth and whether it
--    was recorded. Resuming reads only the pending entries (O(pages left)); before, each resume
--    reloaded every recorded result with its links (O(n) per resume, O(n²) per job, and one jsonb
--    value past its size limit on big jobs).
-- 2. Fair claiming across customers: the next job is the oldest of the customer served least
--    recently, so one customer's 10,000-page crawl no longer starves every other customer's.

create table private.crawl_frontier (
  job_id text not null references public.scrape_jobs (job_id) on delete cascade,
  url text not null check (char_length(url) between 1 and 2048),
  depth integer not null check (depth between 0 and 100),
  -- Set when the page's result is recorded (crawl_job_record_page, in the same transaction).
  done boolean not null default false,
  id bigint generated always as identity,
  primary key (job_id, url)
);
comment on table private.crawl_frontier is 'URLs a crawl job discovered: pending ones are what a resumed crawl fetches';
create index crawl_frontier_pending_idx on private.crawl_frontier (job_id, depth, id) where not done;
revoke all on table private.crawl_frontier from public, anon, authenticated;

-- When each customer last had a job claimed: the claim order's first key.
create table private.crawl_customer_turns (
  customer_id uuid primary key references public.customers (id) on delete cascade,
  last_claimed_at timestamptz not null
);
comment on table private.crawl_customer_turns is 'When each customer last had a crawl job claimed (fair scheduling)';
revoke all on table private.crawl_customer_turns from public, anon, authenticated;

-- Jobs already under way keep their progress: their recorded pages are done, their links pending.
insert into private.crawl_frontier (job_id, url, depth, done)
select r.job_id, r.url, least(greatest(coalesce((r.page_data ->> 'depth')::integer, 0), 0), 100), true
  from public.scrape_job_results r join public.scrape_jobs j on j.job_id = r.job_id
 where j.status in ('queued', 'running')
on conflict do nothing;
insert into private.crawl_frontier (job_id, url, depth)
select r.job_id, l.url, least(greatest(coalesce((r.page_data ->> 'depth')::integer, 0) + 1, 0), 100)
  from public.scrape_job_results r join public.scrape_jobs j on j.job_id = r.job_id
 cross join lateral jsonb_array_elements_text(case when jsonb_typeof(r.page_data -> 'links') = 'array'
                                                    then r.page_data -> 'links' else '[]' end) as l(url)
 where j.status in ('queued', 'running') and char_length(l.url) between 1 and 2048
on conflict do nothing;

-- The new entries of `pages` ([{ url, depth }]) for job `job_id`, added as pending.
create function private.crawl_frontier_add(p_job_id text, p_pages jsonb) returns jsonb
language sql
as $$
  with added as (
    insert into private.crawl_frontier (job_id, url, depth)
    select p_job_id, e ->> 'url', (e ->> 'depth')::integer
      from jsonb_array_elements(coalesce(p_pages, '[]')) with ordinality as t(e, ord)
     where jsonb_typeof(e -> 'url') = 'string' and char_length(e ->> 'url') between 1 and 2048
     order by ord
    on conflict (job_id, url) do nothing
    returning id, url, depth
  )
  select coalesce(jsonb_agg(jsonb_build_object('url', a.url, 'depth', a.depth) order by a.id), '[]') from added a
$$;

-- crawl_job_discover({ jobId, pages: [{ url, depth }] }) → [{ url, depth }]: adds the job's seeds
-- (start page, sitemap entries) to its frontier; returns those it did not hold yet.
create function public.crawl_job_discover(jsonb) returns jsonb
language plpgsql
as $$
declare
  v_job public.scrape_jobs := private.crawl_job_row(private.arg($1, 'jobId', 'string') #>> '{}');
begin
  return private.crawl_frontier_add(v_job.job_id, private.arg($1, 'pages', 'array'));
end
$$;

-- crawl_job_frontier({ jobId, limit? = 10000 }) → [{ url, depth }]: the pending entries, shallowest
-- first: what a resumed crawl still has to fetch.
create function public.crawl_job_frontier(jsonb) returns jsonb
language sql stable
as $$
  select coalesce(jsonb_agg(jsonb_build_object('url', f.url, 'depth', f.depth) order by f.depth, f.id), '[]')
    from (select f.url, f.depth, f.id from private.crawl_frontier f
           where f.job_id = $1 ->> 'jobId' and not f.done
           order by f.depth, f.id
           limit least(greatest(coalesce(($1 ->> 'limit')::integer, 10000), 1), 10000)) f
$$;

-- crawl_job_record_page({ jobId, result, discovered: [{ url, depth }] })
--   → { inserted, job, discovered: [{ url, depth }] }
-- One page, atomically: its result (crawl_job_add_results), its frontier entry marked done, and the
-- links it led to added as pending (those new to the job are returned, for the crawler to fetch).
-- A crash before this call leaves the page pending; after it, nothing of the page is lost.
create function public.crawl_job_record_page(jsonb) returns jsonb
language plpgsql
as $$
declare
  p alias for $1;
  v_job_id text := private.arg(p, 'jobId', 'string') #>> '{}';
  v_result jsonb := private.arg(p, 'result', 'object');
  v_out jsonb;
begin
  v_out := public.crawl_job_add_results(jsonb_build_object('jobId', v_job_id, 'results', jsonb_build_array(v_result)));
  insert into private.crawl_frontier (job_id, url, depth, done)
  values (v_job_id, v_result ->> 'url', least(greatest(coalesce((v_result -> 'pageData' ->> 'depth')::integer, 0), 0), 100), true)
  on conflict (job_id, url) do update set done = true where not crawl_frontier.done;
  return v_out || jsonb_build_object('discovered', private.crawl_frontier_add(v_job_id, p -> 'discovered'));
end
$$;

-- crawl_job_claim({ leaseSeconds? = 120, jobId? }) → job, or null when none is runnable.
-- A queued job, or a running one whose worker's lease expired, is leased to the caller: of the
-- customer whose last claim is oldest (never served first), its oldest job. FOR UPDATE SKIP LOCKED,
-- so two workers never take the same job. Each claim counts an attempt and the customer's turn.
create or replace function public.crawl_job_claim(jsonb) returns jsonb
language plpgsql
as $$
declare
  p alias for $1;
  v_lease interval := make_interval(secs => coalesce((p ->> 'leaseSeconds')::double precision, 120));
  v_job public.scrape_jobs;
begin
  update public.scrape_jobs j
     set status = 'running', attempts = j.attempts + 1, started_at = coalesce(j.started_at, now()),
         locked_until = now() + v_lease
   where j.job_id = (select c.job_id from public.scrape_jobs c
                       left join private.crawl_customer_turns t on t.customer_id = c.customer_id
                      where (c.status = 'queued' or (c.status = 'running' and coalesce(c.locked_until, '-infinity') < now()))
                        and (p ->> 'jobId' is null or c.job_id = p ->> 'jobId')
                      order by t.last_claimed_at nulls first, c.created_at, c.job_id
                      limit 1
                        for update of c skip locked)
  returning * into v_job;
  if not found then
    return null;
  end if;
  insert into private.crawl_customer_turns (customer_id, last_claimed_at)
  values (v_job.customer_id, clock_timestamp())
  on conflict (customer_id) do update set last_claimed_at = excluded.last_claimed_at;
  return private.crawl_job_json(v_job);
end
$$;
comment on function public.crawl_job_claim(jsonb) is 'omniops:local';

-- A resume reads the frontier now (crawl_job_frontier), never every recorded result.
drop function public.crawl_job_recorded(jsonb);

select private.restrict_public_functions();
