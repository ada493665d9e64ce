-- Rollback of 20261202030000_member_writes_revoked.sql: the member write grants and `for all`
-- policies as the messaging, crawl-audit, tenancy and member-access migrations left them. The
-- default privileges are left revoked (on Supabase new tables then grant clients nothing until a
-- migration grants it; elsewhere there were none to restore).
do $$
declare
  v_table text;
begin
  foreach v_table in array array['conversations', 'messages', 'message_queue', 'scrape_jobs', 'scraped_pages'] loop
    execute format('drop policy %I on public.%I', v_table || '_member_select', v_table);
    execute format('create policy %I on public.%I for all to authenticated
                      using (customer_id in (select private.member_customer_ids()))
                      with check (customer_id in (select private.member_customer_ids()))', v_table || '_member_all', v_table);
  end loop;
end
$$;
create policy customers_member_update on public.customers for update to authenticated
  using (id in (select private.managed_customer_ids()))
  with check (id in (select private.managed_customer_ids()));

grant insert, update, delete on table public.conversations, public.messages, public.message_queue,
  public.scrape_jobs, public.scraped_pages to authenticated;
grant update (name, allowed_origins, retention_days) on table public.customers to authenticated;
grant usage on sequence public.message_position_seq to authenticated;
