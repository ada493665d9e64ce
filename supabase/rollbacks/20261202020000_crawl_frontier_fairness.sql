-- Rollback of 20261202020000_crawl_frontier_fairness.sql: the frontier and the customers' turns go,
-- and crawl_job_claim takes the oldest runnable job again.
drop function if exists public.crawl_job_record_page(jsonb);
drop function if exists public.crawl_job_frontier(jsonb);
drop function if exists public.crawl_job_discover(jsonb);
drop function if exists private.crawl_frontier_add(text, jsonb);
drop table if exists private.crawl_customer_turns;
drop table if exists private.crawl_frontier;

-- crawl_job_recorded({ jobId }) → [{ url, status, pageData }], as 20261122060000_crawl_jobs.sql defined it.
create function public.crawl_job_recorded(jsonb) returns jsonb
language sql stable
as $$
  select coalesce(jsonb_agg(jsonb_build_object('url', r.url, 'status', r.status, 'pageData', r.page_data)
                            order by r.id), '[]')
    from public.scrape_job_results r
   where r.job_id = $1 ->> 'jobId'
$$;

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
                      where (c.status = 'queued' or (c.status = 'running' and coalesce(c.locked_until, '-infinity') < now()))
                        and (p ->> 'jobId' is null or c.job_id = p ->> 'jobId')
                      order by c.created_at, c.job_id
                      limit 1
                        for update skip locked)
  returning * into v_job;
  if not found then
    return null;
  end if;
  return private.crawl_job_json(v_job);
end
$$;
comment on function public.crawl_job_claim(jsonb) is 'omniops:local';

select private.restrict_public_functions();
