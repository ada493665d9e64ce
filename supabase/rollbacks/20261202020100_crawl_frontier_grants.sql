-- Rollback of 20261202020100_crawl_frontier_grants.sql.
revoke execute on function private.crawl_frontier_add(text, jsonb) from service_role;
revoke all on table private.crawl_frontier, private.crawl_customer_turns from service_role;
alter table private.crawl_customer_turns disable row level security;
alter table private.crawl_frontier disable row level security;
