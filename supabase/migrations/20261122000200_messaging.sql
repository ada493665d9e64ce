-- Messaging: conversations and messages (the permanent record), and message_queue, the server side
-- of the widget's zero-loss outbox (seed 001). A queued message is never deleted while it is live:
-- only completed rows expire (24 h after completion) and are removed by
-- cleanup_expired_message_queue(); dead letters (failed) stay until staff retry or purge them.

-- Orders a conversation: queued messages take a number at enqueue and keep it when delivered into
-- messages; replies take theirs when written. A conversation reads in `position` order — visitor
-- messages as they were sent, whatever order workers processed them in.
create sequence public.message_position_seq;
grant usage on sequence public.message_position_seq to authenticated, service_role;

-- One conversation per widget session of a customer.
create table public.conversations (
  id uuid primary key default gen_random_uuid(),
  customer_id uuid not null references public.customers (id) on delete cascade,
  session_id text not null check (char_length(session_id) between 1 and 128),
  status text not null default 'open' check (status in ('open', 'needs_staff', 'closed')),
  metadata jsonb not null default '{}',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  last_message_at timestamptz,
  unique (customer_id, session_id),
  -- Target of the composite foreign keys below: a child row's customer always matches its parent's.
  unique (id, customer_id)
);
alter table public.conversations enable row level security;
create index conversations_customer_recent_idx
  on public.conversations (customer_id, last_message_at desc nulls last);
create trigger conversations_touch before update on public.conversations
  for each row execute function private.touch_updated_at();

-- Every message of a conversation: the visitor's (moved here from message_queue), the bot's and
-- staff replies. client_message_id makes each write idempotent.
create table public.messages (
  id uuid primary key default gen_random_uuid(),
  conversation_id uuid not null,
  customer_id uuid not null,
  role text not null check (role in ('visitor', 'bot', 'staff', 'system')),
  content text not null check (char_length(content) <= 10000),
  client_message_id text check (char_length(client_message_id) between 1 and 128),
  position bigint not null default nextval('public.message_position_seq'),
  metadata jsonb not null default '{}',
  created_at timestamptz not null default now(),
  foreign key (conversation_id, customer_id)
    references public.conversations (id, customer_id) on delete cascade,
  unique (conversation_id, client_message_id)
);
alter table public.messages enable row level security;
create index messages_conversation_position_idx on public.messages (conversation_id, position);
create index messages_customer_created_idx on public.messages (customer_id, created_at);

-- The server-side outbox. Columns of seed 001 plus client_message_id (the idempotency key, unique
-- per customer + session), available_at (visibility: not claimable before), locked_until (claim
-- expiry), last_error, position.
--
-- Hot path, kept lean on purpose (see bench/queue.ts): no per-row triggers (the queue_* functions
-- set updated_at, processed_at and expires_at themselves), and only the indexes the queue needs.
-- conversation_id is a link, not a foreign key: delivery resolves the session's conversation
-- itself, and retention can delete conversations without touching (or indexing) this table.
create table public.message_queue (
  id uuid primary key default gen_random_uuid(),
  customer_id uuid not null references public.customers (id) on delete cascade,
  session_id text not null check (char_length(session_id) between 1 and 128),
  conversation_id uuid,
  client_message_id text not null check (char_length(client_message_id) between 1 and 128),
  message_data jsonb not null,
  status text not null default 'pending'
    check (status in ('pending', 'processing', 'completed', 'failed')),
  retry_count integer not null default 0 check (retry_count >= 0),
  position bigint not null default nextval('public.message_position_seq'),
  available_at timestamptz not null default now(),
  locked_until timestamptz,
  last_error text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  -- When processing ended: completed, or given up on (dead letter). Null while the message is live.
  processed_at timestamptz,
  -- Set when (and only when) the message is completed (24 h later): a live or dead-lettered
  -- message never expires.
  expires_at timestamptz,
  constraint message_queue_client_key unique (customer_id, session_id, client_message_id),
  constraint message_queue_only_completed_expire check ((status = 'completed') = (expires_at is not null)),
  constraint message_queue_processed_when_done check ((status in ('completed', 'failed')) = (processed_at is not null))
) with (fillfactor = 75); -- room on each page for claim updates to stay HOT
alter table public.message_queue enable row level security;
-- Claiming walks this in position order (FIFO), like pgmq's msg_id. Its predicate is on
-- processed_at, which a claim does not change, so a claim (status, available_at, locked_until)
-- touches no indexed column and can be a HOT update.
create index message_queue_claim_idx on public.message_queue (position)
  where processed_at is null;
create index message_queue_expires_idx on public.message_queue (expires_at)
  where expires_at is not null;

create policy conversations_member_all on public.conversations for all to authenticated
  using (customer_id in (select private.member_customer_ids()))
  with check (customer_id in (select private.member_customer_ids()));
create policy messages_member_all on public.messages for all to authenticated
  using (customer_id in (select private.member_customer_ids()))
  with check (customer_id in (select private.member_customer_ids()));
create policy message_queue_member_all on public.message_queue for all to authenticated
  using (customer_id in (select private.member_customer_ids()))
  with check (customer_id in (select private.member_customer_ids()));

revoke all on table public.conversations, public.messages, public.message_queue
  from public, anon, authenticated;
grant select, insert, update, delete on table public.conversations, public.messages, public.message_queue
  to authenticated, service_role;

-- cleanup_expired_message_queue(batch_size, max_batches) → rows deleted.
-- Deletes completed rows past expires_at in batches of p_batch_size (rows locked by a concurrent
-- worker are skipped, never waited for), until none are left or p_max_batches batches ran.
-- Called with no arguments it empties the whole backlog; a scheduler that wants to commit between
-- batches calls it with p_max_batches => 1 until it returns less than p_batch_size.
create function public.cleanup_expired_message_queue(
  p_batch_size integer default 5000,
  p_max_batches integer default null
) returns integer
language plpgsql
as $$
declare
  v_total integer := 0;
  v_deleted integer;
  v_batches integer := 0;
begin
  if p_batch_size is null or p_batch_size < 1 then
    raise exception using errcode = '22023', message = 'p_batch_size: must be at least 1';
  end if;
  loop
    -- The locked batch is deleted by ctid: `where id in (select … limit n for update skip locked)`
    -- was planned as a hash semi-join over a scan of the WHOLE table for every batch (n random
    -- primary-key probes priced above one scan), so a 1 M-row backlog in 5,000-row batches read
    -- the table 200 times (15 s); by ctid it is a TID scan of exactly those rows (≈ 10 ms per
    -- 5,000). The ctids cannot move in between: the same statement holds the row locks.
    delete from public.message_queue q
     where q.ctid = any(array(select e.ctid
                                from public.message_queue e
                               where e.expires_at < now()
                               order by e.expires_at
                               limit p_batch_size
                                 for update skip locked));
    get diagnostics v_deleted = row_count;
    v_total := v_total + v_deleted;
    v_batches := v_batches + 1;
    exit when v_deleted < p_batch_size or v_batches >= coalesce(p_max_batches, v_batches + 1);
  end loop;
  return v_total;
end
$$;

select private.restrict_public_functions();
