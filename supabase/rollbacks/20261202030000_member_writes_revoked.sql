-- Rollback of 20261202030000_member_writes_revoked.sql: the member write grants and `for all`
-- policies as the messaging, crawl-audit, tenancy and member-access migrations left them. The
-- default privileges are left revoked (on Supabase new tables then grant clients nothing until a
-- migration grants it; elsewhere there were none to restore).
drop policy conversations_member_select on public.conversations;
drop policy messages_member_select on public.messages;
drop policy message_queue_member_select on public.message_queue;
drop policy scrape_jobs_member_select on public.scrape_jobs;
drop policy scraped_pages_member_select on public.scraped_pages;
create policy conversations_member_all on public.conversations for all to authenticated
  using (customer_id in (select private.member_customer_ids()))
  with check (customer_id in (select private.member_customer_ids()));
create policy messages_member_all on public.messages for all to authenticated
  using (customer_id in (select private.member_customer_ids()))
  with check (customer_id in (select private.member_customer_ids()));
create policy message_queue_member_all on public.message_queue for all to authenticated
  using (customer_id in (select private.member_customer_ids()))
  with check (customer_id in (select private.member_customer_ids()));
create policy scrape_jobs_member_all on public.scrape_jobs for all to authenticated
  using (customer_id in (select private.member_customer_ids()))
  with check (customer_id in (select private.member_customer_ids()));
create policy scraped_pages_member_all on public.scraped_pages for all to authenticated
  using (customer_id in (select private.member_customer_ids()))
  with check (customer_id in (select private.member_customer_ids()));
create policy customers_member_update on public.customers for update to authenticated
  using (id in (select private.managed_customer_ids()))
  with check (id in (select private.managed_customer_ids()));

grant insert, update, delete on table public.conversations, public.messages, public.message_queue,
  public.scrape_jobs, public.scraped_pages to authenticated;
grant update (name, allowed_origins, retention_days) on table public.customers to authenticated;
grant usage on sequence public.message_position_seq to authenticated;
