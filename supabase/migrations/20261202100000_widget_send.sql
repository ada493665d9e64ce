-- One round trip for what a widget send needs before it can answer (issue 16): enqueue the visitor's
-- messages, claim the new ones it may answer inline, and find each one's passages of the customer's
-- crawled pages. The app then answers from those passages and delivers (queue_deliver): two round
-- trips in all, where enqueue, claim, one search per message and deliver were four or more.
--
-- Composed of the queue's own functions (queue_enqueue, queue_claim, crawl_pages_search), so it means
-- what they mean — idempotency, plan limits, visibility timeout, dead-lettering — whatever their
-- bodies become.
--
-- widget_send({ customerId, sessionId, messages, inline?, passages?, maxRetries?, replayedFrom? })
--   → queue_enqueue's answer { conversationId, messages } plus
--     { claimed: [queue_claim's claimed message + { passages? }] }
-- `inline` (default 0, at most 100): how many of the messages this call created to claim, in input
-- order, for the caller to answer now (with queue_claim's default visibility timeout). `passages`
-- (default 0, at most 20): with more than 0, each claimed message carries the top `passages` results
-- of crawl_pages_search for its text. The enqueue commits whatever happens to the claim: a claim or
-- a search that fails is rolled back alone (a warning is logged) and `claimed` is empty — the
-- messages stay pending for the queue worker. A call replayed from the outage journal
-- (`replayedFrom`, lib/db/fallback.ts) only enqueues: a claim belongs to the database it ran on
-- (see queue_claim's 'omniops:local').
create function public.widget_send(jsonb) returns jsonb
language plpgsql
as $$
declare
  p alias for $1;
  v_inline integer := coalesce((p ->> 'inline')::integer, 0);
  v_passages integer := coalesce((p ->> 'passages')::integer, 0);
  v_queued jsonb;
  v_fresh jsonb;
  v_claimed jsonb := '[]';
begin
  if v_inline not between 0 and 100 then
    raise exception using errcode = '22023', message = 'inline: must be between 0 and 100';
  end if;
  if v_passages not between 0 and 20 then
    raise exception using errcode = '22023', message = 'passages: must be between 0 and 20';
  end if;
  v_queued := public.queue_enqueue(p - 'inline' - 'passages' - 'maxRetries');
  if v_inline = 0 or p ? 'replayedFrom' then
    return v_queued || jsonb_build_object('claimed', v_claimed);
  end if;

  select jsonb_agg(f.id order by f.ord) into v_fresh
    from (select m -> 'id' as id, ord
            from jsonb_array_elements(v_queued -> 'messages') with ordinality as t(m, ord)
           where (m ->> 'created')::boolean
           order by ord
           limit v_inline) f;
  if v_fresh is null then
    return v_queued || jsonb_build_object('claimed', v_claimed);
  end if;

  begin
    v_claimed := public.queue_claim(jsonb_strip_nulls(jsonb_build_object(
      'ids', v_fresh, 'limit', jsonb_array_length(v_fresh), 'maxRetries', p -> 'maxRetries')));
    if v_passages > 0 then
      select coalesce(jsonb_agg(c || jsonb_build_object('passages', public.crawl_pages_search(jsonb_build_object(
               'customerId', c -> 'customerId', 'query', c -> 'data' -> 'text', 'limit', v_passages))) order by t.ord), '[]')
        into v_claimed
        from jsonb_array_elements(v_claimed) with ordinality as t(c, ord);
    end if;
  exception when others then
    raise warning '[omniops] [widget] inline claim failed, messages left queued (%): %', sqlstate, sqlerrm;
    v_claimed := '[]';
  end;
  return v_queued || jsonb_build_object('claimed', v_claimed);
end
$$;

select private.restrict_public_functions();
