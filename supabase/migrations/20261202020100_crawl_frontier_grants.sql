-- The app's role on Supabase (service_role) reaches the crawl frontier and the customers' turns
-- (20261202020000_crawl_frontier_fairness.sql) only through these grants: private tables and
-- functions are closed to every role by default. Only service_role; RLS on, no policy (it bypasses
-- RLS; anon and authenticated get nothing).
alter table private.crawl_frontier enable row level security;
alter table private.crawl_customer_turns enable row level security;
grant select, insert, update, delete on table private.crawl_frontier, private.crawl_customer_turns to service_role;
grant execute on function private.crawl_frontier_add(text, jsonb) to service_role;
