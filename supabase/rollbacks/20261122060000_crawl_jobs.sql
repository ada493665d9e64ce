-- Rollback of 20261122060000_crawl_jobs.sql.
drop function if exists public.crawl_pages_search(jsonb);
drop function if exists public.crawl_job_lease(jsonb);
drop function if exists public.crawl_job_claim(jsonb);
drop function if exists public.crawl_job_finish(jsonb);
drop function if exists public.crawl_job_add_results(jsonb);
drop function if exists public.crawl_job_recorded(jsonb);
drop function if exists public.crawl_job_results(jsonb);
drop function if exists public.crawl_job_list(jsonb);
drop function if exists public.crawl_job_get(jsonb);
drop function if exists public.crawl_job_create(jsonb);
drop function if exists private.crawl_job_row(text);
drop function if exists private.crawl_result_json(public.scrape_job_results);
drop function if exists private.crawl_job_json(public.scrape_jobs);
