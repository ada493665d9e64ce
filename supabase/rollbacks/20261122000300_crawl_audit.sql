-- Rollback of 20261122000300_crawl_audit.sql.
drop function if exists public.cleanup_old_scrape_jobs(integer, integer, integer);
drop table if exists public.scraped_pages;
drop table if exists public.scrape_job_stats;
drop table if exists public.scrape_job_results;
drop table if exists public.scrape_jobs;
drop function if exists private.refuse_update();
drop function if exists private.scrape_job_stats_subtract();
drop function if exists private.scrape_job_stats_add();
