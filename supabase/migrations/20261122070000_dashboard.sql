-- The staff dashboard's reads and writes (issue 7): conversation and queue lists, customer edits,
-- the widget key's rotation, and the overview's time series. Every write is idempotent on a
-- client-supplied value (the new settings; the new key).

-- customers_update({ id, name?, allowedOrigins?, plan?, retentionDays? }) → customer
-- Sets the fields given; a repeat with the same values changes nothing. P0002 for an unknown id.
create function public.customers_update(jsonb) returns jsonb
language plpgsql
as $$
declare
  p alias for $1;
  v_row public.customers;
begin
  if p ? 'allowedOrigins' and jsonb_typeof(p -> 'allowedOrigins') <> 'array' then
    raise exception using errcode = '22023', message = 'allowedOrigins: must be an array of origins';
  end if;
  update public.customers c
     set name = coalesce(btrim(p ->> 'name'), c.name),
         allowed_origins = case when p ? 'allowedOrigins'
                                then array(select jsonb_array_elements_text(p -> 'allowedOrigins')) else c.allowed_origins end,
         plan = coalesce(p ->> 'plan', c.plan),
         retention_days = coalesce((p ->> 'retentionDays')::integer, c.retention_days)
   where c.id = (private.arg(p, 'id', 'string') #>> '{}')::uuid
  returning c.* into v_row;
  if not found then
    raise exception using errcode = 'P0002', message = format('customer %s does not exist', p ->> 'id');
  end if;
  return private.customer_json(v_row);
end
$$;

-- customers_rotate_key({ id, publicKey }) → customer: the widget key becomes `publicKey` (chosen
-- by the caller, so a repeated request sets the same key); the old key stops working at once.
create function public.customers_rotate_key(jsonb) returns jsonb
language plpgsql
as $$
declare
  p alias for $1;
  v_row public.customers;
begin
  update public.customers c
     set public_key = private.arg(p, 'publicKey', 'string') #>> '{}'
   where c.id = (private.arg(p, 'id', 'string') #>> '{}')::uuid
  returning c.* into v_row;
  if not found then
    raise exception using errcode = 'P0002', message = format('customer %s does not exist', p ->> 'id');
  end if;
  return private.customer_json(v_row);
end
$$;

-- conversations_list({ customerId?, search?, status?, limit? = 20, offset? = 0 })
--   → { conversations: [{ id, customerId, customerName, sessionId, status, lastMessageAt,
--        lastMessage: { role, content } | null, messageCount }], total }
-- Most recently active first. `search` matches message text (case-insensitive substring) or the
-- session id.
create function public.conversations_list(jsonb) returns jsonb
language plpgsql stable
as $$
declare
  p alias for $1;
  v_customer uuid := (p ->> 'customerId')::uuid;
  v_status text := p ->> 'status';
  v_search text := nullif(btrim(coalesce(p ->> 'search', '')), '');
  v_limit integer := coalesce((p ->> 'limit')::integer, 20);
  v_offset integer := coalesce((p ->> 'offset')::integer, 0);
  v_pattern text;
begin
  if v_limit not between 1 and 200 or v_offset < 0 then
    raise exception using errcode = '22023', message = 'limit: 1 to 200; offset: zero or more';
  end if;
  v_pattern := '%' || replace(replace(replace(v_search, '\', '\\'), '%', '\%'), '_', '\_') || '%';
  return (
    with matching as (
      select c.*
        from public.conversations c
       where (v_customer is null or c.customer_id = v_customer)
         and (v_status is null or c.status = v_status)
         and (v_search is null or c.session_id ilike v_pattern
              or exists (select 1 from public.messages m where m.conversation_id = c.id and m.content ilike v_pattern))
    )
    select jsonb_build_object(
      'conversations', coalesce((
        select jsonb_agg(jsonb_build_object(
                 'id', c.id, 'customerId', c.customer_id, 'customerName', cu.name, 'sessionId', c.session_id,
                 'status', c.status, 'lastMessageAt', coalesce(c.last_message_at, c.created_at),
                 'lastMessage', (select jsonb_build_object('role', m.role, 'content', left(m.content, 200))
                                   from public.messages m where m.conversation_id = c.id
                                  order by m.position desc limit 1),
                 'messageCount', (select count(*) from public.messages m where m.conversation_id = c.id))
               order by coalesce(c.last_message_at, c.created_at) desc, c.id)
          from (select * from matching order by coalesce(last_message_at, created_at) desc, id
                 limit v_limit offset v_offset) c
          join public.customers cu on cu.id = c.customer_id), '[]'),
      'total', (select count(*) from matching))
  );
end
$$;

-- conversation_get({ id }) → { conversation, messages } | null: the whole thread in order.
create function public.conversation_get(jsonb) returns jsonb
language sql stable
as $$
  select jsonb_build_object(
           'conversation', jsonb_build_object(
             'id', c.id, 'customerId', c.customer_id, 'customerName', cu.name, 'sessionId', c.session_id,
             'status', c.status, 'createdAt', c.created_at, 'lastMessageAt', c.last_message_at),
           'messages', coalesce((select jsonb_agg(private.message_json(m) order by m.position)
                                   from public.messages m where m.conversation_id = c.id), '[]'))
    from public.conversations c
    join public.customers cu on cu.id = c.customer_id
   where c.id = ($1 ->> 'id')::uuid
$$;

-- queue_list({ customerId?, status?, limit? = 50, offset? = 0 }) → { messages: [queued message], total }
-- Newest first.
create function public.queue_list(jsonb) returns jsonb
language plpgsql stable
as $$
declare
  p alias for $1;
  v_customer uuid := (p ->> 'customerId')::uuid;
  v_status text := p ->> 'status';
  v_limit integer := coalesce((p ->> 'limit')::integer, 50);
  v_offset integer := coalesce((p ->> 'offset')::integer, 0);
begin
  if v_limit not between 1 and 500 or v_offset < 0 then
    raise exception using errcode = '22023', message = 'limit: 1 to 500; offset: zero or more';
  end if;
  return jsonb_build_object(
    'messages', coalesce((
      select jsonb_agg(private.queue_json(q) order by q.position desc)
        from (select * from public.message_queue q
               where (v_customer is null or q.customer_id = v_customer) and (v_status is null or q.status = v_status)
               order by q.position desc limit v_limit offset v_offset) q), '[]'),
    'total', (select count(*) from public.message_queue q
               where (v_customer is null or q.customer_id = v_customer) and (v_status is null or q.status = v_status)));
end
$$;

-- queue_purge_expired({}) → { deleted }: cleanup_expired_message_queue() on demand (the dashboard's
-- "purge expired"; the daily task does the same).
create function public.queue_purge_expired(jsonb) returns jsonb
language sql
as $$
  select jsonb_build_object('deleted', public.cleanup_expired_message_queue())
$$;

-- dashboard_activity({ customerId? }) → { messagesPerHour: [{ at, count }] (the last 24 hours,
-- oldest first, empty hours included), crawlPagesPerMinute: [{ at, count }] (the last 60 minutes),
-- cleanupRuns: [run] (the 10 latest) }
create function public.dashboard_activity(jsonb) returns jsonb
language sql stable
as $$
  with args as (select ($1 ->> 'customerId')::uuid as customer_id)
  select jsonb_build_object(
    'messagesPerHour', (
      select jsonb_agg(jsonb_build_object('at', h.at, 'count', coalesce(n.count, 0)) order by h.at)
        from generate_series(date_trunc('hour', now()) - interval '23 hours', date_trunc('hour', now()), interval '1 hour') h(at)
        left join (select date_trunc('hour', m.created_at) as at, count(*) as count
                     from public.messages m, args a
                    where m.created_at >= date_trunc('hour', now()) - interval '23 hours'
                      and (a.customer_id is null or m.customer_id = a.customer_id)
                    group by 1) n on n.at = h.at),
    'crawlPagesPerMinute', (
      select jsonb_agg(jsonb_build_object('at', t.at, 'count', coalesce(n.count, 0)) order by t.at)
        from generate_series(date_trunc('minute', now()) - interval '59 minutes', date_trunc('minute', now()), interval '1 minute') t(at)
        left join (select date_trunc('minute', r.created_at) as at, count(*) as count
                     from public.scrape_job_results r, args a
                    where r.created_at >= date_trunc('minute', now()) - interval '59 minutes'
                      and (a.customer_id is null or r.customer_id = a.customer_id)
                    group by 1) n on n.at = t.at),
    'cleanupRuns', coalesce((select jsonb_agg(private.cleanup_run_json(r) order by r.id desc)
                               from (select * from public.cleanup_runs order by id desc limit 10) r), '[]'))
$$;

-- crawl_job_timeline({ jobId }) → [{ at, count }]: the job's recorded pages per second of crawl
-- time (for the job page's pages-over-time chart), at most 300 points (coarser buckets for long crawls).
create function public.crawl_job_timeline(jsonb) returns jsonb
language sql stable
as $$
  with bounds as (
    select s.first_result_at as first, greatest(extract(epoch from s.last_result_at - s.first_result_at), 1) as span
      from public.scrape_job_stats s where s.job_id = $1 ->> 'jobId'
  ), bucketed as (
    select floor(extract(epoch from r.created_at - b.first) / ceil(b.span / 300.0)) * ceil(b.span / 300.0) as second, count(*) as count
      from public.scrape_job_results r, bounds b
     where r.job_id = $1 ->> 'jobId'
     group by 1
  )
  select coalesce(jsonb_agg(jsonb_build_object('second', second, 'count', count) order by second), '[]') from bucketed
$$;

select private.restrict_public_functions();
