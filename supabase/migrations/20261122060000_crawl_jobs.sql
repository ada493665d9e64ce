-- Crawl jobs (issue 5): the RPCs of the persistent job manager (lib/jobs/persistent-job-manager.ts)
-- and of the crawler's workers, over the audit-trail tables of 20261122000300_crawl_audit.sql.
--
-- Every write is idempotent on a client key: a job on its job id, a page result on (job, url), a
-- page's searchable text on (customer, url). A crawl resumed after a crash, or a call replayed from
-- the outage journal, therefore never records anything twice.

-- The public JSON shape of a job, with its statistics (zeros before the first result).
create function private.crawl_job_json(j public.scrape_jobs) returns jsonb
language sql stable
as $$
  select jsonb_build_object(
    'jobId', j.job_id,
    'customerId', j.customer_id,
    'domain', j.domain,
    'jobType', j.job_type,
    'status', j.status,
    'config', j.config,
    'data', j.data,
    'errorMessage', j.error_message,
    'attempts', j.attempts,
    'lockedUntil', j.locked_until,
    'createdAt', j.created_at,
    'updatedAt', j.updated_at,
    'startedAt', j.started_at,
    'completedAt', j.completed_at,
    'stats', jsonb_build_object(
      'totalPages', coalesce(s.total_pages, 0),
      'successfulPages', coalesce(s.successful_pages, 0),
      'failedPages', coalesce(s.failed_pages, 0),
      'skippedPages', coalesce(s.skipped_pages, 0),
      'avgProcessingTimeMs', s.avg_processing_time_ms,
      'pagesPerSecond', s.pages_per_second,
      'totalBytes', coalesce(s.total_bytes, 0),
      'firstResultAt', s.first_result_at,
      'lastResultAt', s.last_result_at))
    from (select 1) one
    left join public.scrape_job_stats s on s.job_id = j.job_id
$$;

create function private.crawl_result_json(r public.scrape_job_results) returns jsonb
language sql stable
as $$
  select jsonb_build_object(
    'id', r.id,
    'jobId', r.job_id,
    'url', r.url,
    'status', r.status,
    'httpStatus', r.http_status,
    'processingTimeMs', r.processing_time_ms,
    'bytes', r.bytes,
    'contentHash', r.content_hash,
    'error', r.error_message,
    'pageData', r.page_data,
    'createdAt', r.created_at)
$$;

-- A job by id, locked for the caller's transaction, or a P0002 error naming it.
create function private.crawl_job_row(p_job_id text) returns public.scrape_jobs
language plpgsql
as $$
declare
  v_job public.scrape_jobs;
begin
  select * into v_job from public.scrape_jobs j where j.job_id = p_job_id for update;
  if not found then
    raise exception using errcode = 'P0002', message = format('crawl job %s does not exist', p_job_id);
  end if;
  return v_job;
end
$$;

-- crawl_job_create({ jobId, customerId, domain, jobType?, config?, data? }) → { job, created }
-- A repeated jobId returns the stored job (created = false) and changes nothing; the same jobId for
-- another customer is refused (23505). A new job counts against the customer's monthly crawl
-- allowance: past it, nothing is created (SQLSTATE OMUSE, with the limit and when it resets).
create function public.crawl_job_create(jsonb) returns jsonb
language plpgsql
as $$
declare
  p alias for $1;
  v_job_id text := private.arg(p, 'jobId', 'string') #>> '{}';
  v_customer uuid := (private.arg(p, 'customerId', 'string') #>> '{}')::uuid;
  v_job public.scrape_jobs;
begin
  if not exists (select 1 from public.customers c where c.id = v_customer) then
    raise exception using errcode = 'P0002', message = format('customer %s does not exist', v_customer);
  end if;
  insert into public.scrape_jobs (job_id, customer_id, domain, job_type, config, data)
  values (v_job_id, v_customer, private.arg(p, 'domain', 'string') #>> '{}',
          coalesce(p ->> 'jobType', 'full_crawl'), coalesce(p -> 'config', '{}'), coalesce(p -> 'data', '{}'))
  on conflict (job_id) do nothing
  returning * into v_job;
  if found then
    perform private.usage_require(v_customer, 'crawl', 1, now(), not (p ? 'replayedFrom'));
    return jsonb_build_object('job', private.crawl_job_json(v_job), 'created', true);
  end if;
  select * into strict v_job from public.scrape_jobs j where j.job_id = v_job_id;
  if v_job.customer_id <> v_customer then
    raise exception using errcode = '23505', message = format('jobId: %s belongs to another customer', v_job_id);
  end if;
  return jsonb_build_object('job', private.crawl_job_json(v_job), 'created', false);
end
$$;

-- crawl_job_get({ jobId, customerId? }) → job with stats, or null (also when it belongs to another
-- customer than the one given).
create function public.crawl_job_get(jsonb) returns jsonb
language sql stable
as $$
  select private.crawl_job_json(j)
    from public.scrape_jobs j
   where j.job_id = $1 ->> 'jobId'
     and ($1 ->> 'customerId' is null or j.customer_id = ($1 ->> 'customerId')::uuid)
$$;

-- crawl_job_list({ customerId?, status?, limit? = 20, offset? = 0 }) → { jobs, total }, newest first.
create function public.crawl_job_list(jsonb) returns jsonb
language plpgsql stable
as $$
declare
  p alias for $1;
  v_customer uuid := (p ->> 'customerId')::uuid;
  v_status text := p ->> 'status';
  v_limit integer := coalesce((p ->> 'limit')::integer, 20);
  v_offset integer := coalesce((p ->> 'offset')::integer, 0);
begin
  if v_limit not between 1 and 200 then
    raise exception using errcode = '22023', message = 'limit: must be between 1 and 200';
  end if;
  if v_offset < 0 then
    raise exception using errcode = '22023', message = 'offset: must be zero or more';
  end if;
  return jsonb_build_object(
    'jobs', coalesce((
      select jsonb_agg(private.crawl_job_json(j) order by j.created_at desc, j.job_id)
        from (select * from public.scrape_jobs j
               where (v_customer is null or j.customer_id = v_customer)
                 and (v_status is null or j.status = v_status)
               order by j.created_at desc, j.job_id
               limit v_limit offset v_offset) j), '[]'),
    'total', (select count(*) from public.scrape_jobs j
               where (v_customer is null or j.customer_id = v_customer)
                 and (v_status is null or j.status = v_status)));
end
$$;

-- crawl_job_results({ jobId, status?, afterId? = 0, limit? = 50 }) → { results, nextAfterId }
-- In recording order; keyset-paged on the result id (nextAfterId null on the last page).
create function public.crawl_job_results(jsonb) returns jsonb
language plpgsql stable
as $$
declare
  p alias for $1;
  v_job_id text := private.arg(p, 'jobId', 'string') #>> '{}';
  v_status text := p ->> 'status';
  v_after bigint := coalesce((p ->> 'afterId')::bigint, 0);
  v_limit integer := coalesce((p ->> 'limit')::integer, 50);
  v_results jsonb;
  v_last bigint;
  v_count integer;
begin
  if v_limit not between 1 and 1000 then
    raise exception using errcode = '22023', message = 'limit: must be between 1 and 1000';
  end if;
  select coalesce(jsonb_agg(private.crawl_result_json(r) order by r.id), '[]'), max(r.id), count(*)
    into v_results, v_last, v_count
    from (select * from public.scrape_job_results r
           where r.job_id = v_job_id and r.id > v_after and (v_status is null or r.status = v_status)
           order by r.id
           limit v_limit) r;
  return jsonb_build_object('results', v_results, 'nextAfterId', case when v_count = v_limit then v_last end);
end
$$;

-- crawl_job_recorded({ jobId }) → [{ url, status, pageData }]: what a resumed crawl needs to
-- continue without fetching a recorded page again (the crawler keeps a page's depth and links in
-- its page_data).
create function public.crawl_job_recorded(jsonb) returns jsonb
language sql stable
as $$
  select coalesce(jsonb_agg(jsonb_build_object('url', r.url, 'status', r.status, 'pageData', r.page_data)
                            order by r.id), '[]')
    from public.scrape_job_results r
   where r.job_id = $1 ->> 'jobId'
$$;

-- crawl_job_add_results({ jobId, results: [{ url, status, httpStatus?, processingTimeMs?, bytes?,
--   contentHash?, error?, pageData?, recordedAt?, page?: { title, headings, content } }] })
--   → { inserted: [result], job }
-- Records page results; a page already recorded for the job is ignored (the first record stands:
-- the audit trail is immutable). A successful page's text (`page`) is stored in scraped_pages,
-- replacing the customer's previous copy of that URL. Refused (55000) once the job has finished.
-- The statistics follow by trigger, in this transaction.
create function public.crawl_job_add_results(jsonb) returns jsonb
language plpgsql
as $$
declare
  p alias for $1;
  v_job_id text := private.arg(p, 'jobId', 'string') #>> '{}';
  v_results jsonb := private.arg(p, 'results', 'array');
  v_job public.scrape_jobs;
  v_inserted jsonb;
begin
  -- A share lock: concurrent recorders of one job proceed in parallel (they serialise only on its
  -- single stats row, in the trigger), while finishing the job waits for them.
  select * into v_job from public.scrape_jobs j where j.job_id = v_job_id for share;
  if not found then
    raise exception using errcode = 'P0002', message = format('crawl job %s does not exist', v_job_id);
  end if;
  if v_job.status in ('completed', 'failed', 'cancelled') then
    raise exception using errcode = '55000', message = format('crawl job %s is %s', v_job.job_id, v_job.status);
  end if;
  if exists (select 1 from jsonb_array_elements(v_results) r
              where jsonb_typeof(r -> 'url') is distinct from 'string'
                 or jsonb_typeof(r -> 'status') is distinct from 'string') then
    raise exception using errcode = '22023', message = 'results: each needs a string url and status';
  end if;

  with inserted as (
  insert into public.scrape_job_results (job_id, customer_id, url, status, http_status, processing_time_ms, bytes,
                                         content_hash, error_message, page_data, created_at)
  select v_job.job_id, v_job.customer_id, r ->> 'url', r ->> 'status', (r ->> 'httpStatus')::integer,
         (r ->> 'processingTimeMs')::integer, (r ->> 'bytes')::integer, r ->> 'contentHash', left(r ->> 'error', 2000),
         coalesce(r -> 'pageData', '{}'), coalesce((r ->> 'recordedAt')::timestamptz, clock_timestamp())
    from jsonb_array_elements(v_results) with ordinality as t(r, ord)
   order by ord
  on conflict (job_id, url) do nothing
  returning scrape_job_results.id, private.crawl_result_json(scrape_job_results) as result
  )
  select coalesce(jsonb_agg(i.result order by i.id), '[]') into v_inserted from inserted i;

  insert into public.scraped_pages (id, customer_id, url, title, headings, content, content_hash, job_id, crawled_at)
  select private.stable_uuid(format('page:%s:%s', v_job.customer_id, r ->> 'url')), v_job.customer_id, r ->> 'url',
         coalesce(left(r -> 'page' ->> 'title', 1000), ''), coalesce(left(r -> 'page' ->> 'headings', 20000), ''),
         coalesce(left(r -> 'page' ->> 'content', 500000), ''), coalesce(r ->> 'contentHash', ''), v_job.job_id,
         coalesce((r ->> 'recordedAt')::timestamptz, now())
    from (select distinct on (x.r ->> 'url') x.r
            from jsonb_array_elements(v_results) with ordinality as x(r, ord)
           where x.r ->> 'status' = 'success' and jsonb_typeof(x.r -> 'page') = 'object'
           order by x.r ->> 'url', x.ord) t(r)
  on conflict (customer_id, url) do update
     set title = excluded.title, headings = excluded.headings, content = excluded.content,
         content_hash = excluded.content_hash, job_id = excluded.job_id, crawled_at = excluded.crawled_at
   where scraped_pages.job_id is distinct from excluded.job_id or scraped_pages.content_hash <> excluded.content_hash;

  return jsonb_build_object('inserted', v_inserted,
                            'job', (select private.crawl_job_json(j) from public.scrape_jobs j where j.job_id = v_job.job_id));
end
$$;

-- crawl_job_finish({ jobId, status: completed | failed | cancelled, error? }) → job
-- From queued or running. Finishing a job again with the status it has is a no-op; any other
-- change of a finished job is refused (55000).
create function public.crawl_job_finish(jsonb) returns jsonb
language plpgsql
as $$
declare
  p alias for $1;
  v_job public.scrape_jobs := private.crawl_job_row(private.arg(p, 'jobId', 'string') #>> '{}');
  v_status text := private.arg(p, 'status', 'string') #>> '{}';
begin
  if v_status not in ('completed', 'failed', 'cancelled') then
    raise exception using errcode = '22023', message = 'status: must be completed, failed or cancelled';
  end if;
  if v_job.status = v_status then
    return private.crawl_job_json(v_job);
  end if;
  if v_job.status not in ('queued', 'running') then
    raise exception using errcode = '55000', message = format('crawl job %s is already %s', v_job.job_id, v_job.status);
  end if;
  update public.scrape_jobs j
     set status = v_status, completed_at = now(), locked_until = null,
         error_message = case when v_status = 'completed' then null else left(coalesce(p ->> 'error', j.error_message), 2000) end
   where j.job_id = v_job.job_id
  returning * into v_job;
  return private.crawl_job_json(v_job);
end
$$;

-- crawl_job_claim({ leaseSeconds? = 120, jobId? }) → job, or null when none is runnable.
-- The oldest queued job, or a running one whose worker's lease expired (it crashed or its time
-- budget ended), is leased to the caller: FOR UPDATE SKIP LOCKED, so two workers never take the
-- same job. Each claim counts an attempt.
create function public.crawl_job_claim(jsonb) returns jsonb
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

-- crawl_job_lease({ jobId, leaseSeconds? = 120, release? = false }) → { status, leased }
-- Renews a running job's lease (or gives it up with release = true, so the next worker continues
-- at once) and tells the worker the job's status: a job cancelled meanwhile is not renewed.
create function public.crawl_job_lease(jsonb) returns jsonb
language plpgsql
as $$
declare
  p alias for $1;
  v_job public.scrape_jobs := private.crawl_job_row(private.arg(p, 'jobId', 'string') #>> '{}');
begin
  if v_job.status <> 'running' then
    return jsonb_build_object('status', v_job.status, 'leased', false);
  end if;
  update public.scrape_jobs j
     set locked_until = case when coalesce((p ->> 'release')::boolean, false) then null
                             else now() + make_interval(secs => coalesce((p ->> 'leaseSeconds')::double precision, 120)) end
   where j.job_id = v_job.job_id;
  return jsonb_build_object('status', 'running', 'leased', not coalesce((p ->> 'release')::boolean, false));
end
$$;

-- crawl_pages_search({ customerId, query, limit? = 3, minCoverage? = 0.5 })
--   → [{ url, title, passage, rank, coverage }]
-- Full-text search over a customer's crawled pages. A visitor's question has words no page has, so
-- its words are OR-ed, and a page must contain at least `minCoverage` of them (a page sharing one
-- word of a long question is not an answer). Pages rank by cover density, title words weighing
-- most; the passage is the page's best fragments around the matched words.
create function public.crawl_pages_search(jsonb) returns jsonb
language plpgsql stable
as $$
declare
  p alias for $1;
  v_customer uuid := (private.arg(p, 'customerId', 'string') #>> '{}')::uuid;
  v_limit integer := coalesce((p ->> 'limit')::integer, 3);
  v_min numeric := coalesce((p ->> 'minCoverage')::numeric, 0.5);
  v_words text[];
  v_query tsquery;
begin
  if v_limit not between 1 and 20 then
    raise exception using errcode = '22023', message = 'limit: must be between 1 and 20';
  end if;
  v_words := tsvector_to_array(to_tsvector('english', private.arg(p, 'query', 'string') #>> '{}'));
  if coalesce(array_length(v_words, 1), 0) = 0 then
    return '[]';
  end if;
  v_query := array_to_string(array(select quote_literal(w) from unnest(v_words) w), ' | ')::tsquery;
  return coalesce((
    select jsonb_agg(jsonb_build_object(
             'url', s.url, 'title', s.title, 'rank', round(s.rank::numeric, 4), 'coverage', round(s.coverage, 2),
             'passage', ts_headline('english', s.content, v_query,
                                    'StartSel="", StopSel="", MaxFragments=2, MaxWords=45, MinWords=15, FragmentDelimiter=" … "'))
           order by s.coverage desc, s.rank desc, s.url)
      from (select c.*
              from (select sp.url, sp.title, sp.content, ts_rank_cd(sp.search, v_query, 1) as rank,
                           (select count(*) from unnest(v_words) w where sp.search @@ quote_literal(w)::tsquery)::numeric
                             / array_length(v_words, 1) as coverage
                      from public.scraped_pages sp
                     where sp.customer_id = v_customer and sp.search @@ v_query) c
             where c.coverage >= v_min
             order by c.coverage desc, c.rank desc, c.url
             limit v_limit) s), '[]');
end
$$;

-- Local writes (see 20261122050000_outage_journal.sql): a lease belongs to the database its
-- worker ran against; replayed, it would hold the job on the primary.
comment on function public.crawl_job_claim(jsonb) is 'omniops:local';
comment on function public.crawl_job_lease(jsonb) is 'omniops:local';

select private.restrict_public_functions();
