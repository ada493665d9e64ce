-- Staff members write nothing directly (issue 14, finding 4). A staff member's JWT with the public
-- anon key reaches the Data API as role `authenticated`; the messaging and crawl-audit migrations
-- granted it insert/update/delete on conversations, messages, message_queue, scrape_jobs and
-- scraped_pages under `for all` policies, and the tenancy migration let owners and admins update
-- their customer's settings. With them a member could rewrite transcripts, insert unmetered crawl
-- jobs that jump the queue, plant poison queue rows, choose the bot's answers (scraped_pages) and
-- set allowed origins past the server's validation. Every write goes through the service role after
-- the server's checks (lib/auth/staff.ts; the dashboard's reads keep using the member's JWT), so
-- client roles keep SELECT under the member policies and lose every write.
-- tests/security/rls-writes.test.ts asserts it for every table, sequence, policy and function.

revoke insert, update, delete, truncate, references, trigger
  on all tables in schema public, private from public, anon, authenticated;
revoke usage, update on all sequences in schema public, private from public, anon, authenticated;

-- Tables and sequences created later by the migration role: no client-role writes either (Supabase
-- grants all on new public tables to anon and authenticated by default; plain PostgreSQL and PGlite
-- grant nothing, so there this changes nothing).
alter default privileges in schema public revoke insert, update, delete, truncate, references, trigger on tables from anon, authenticated;
alter default privileges in schema public revoke usage, update on sequences from anon, authenticated;

-- The member policies read only (a grant added by mistake later still writes nothing under RLS).
drop policy customers_member_update on public.customers;
do $$
declare
  v_table text;
begin
  foreach v_table in array array['conversations', 'messages', 'message_queue', 'scrape_jobs', 'scraped_pages'] loop
    execute format('drop policy %I on public.%I', v_table || '_member_all', v_table);
    execute format('create policy %I on public.%I for select to authenticated
                      using (customer_id in (select private.member_customer_ids()))', v_table || '_member_select', v_table);
  end loop;
end
$$;
