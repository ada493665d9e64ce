-- Replaying the outage journal in batches (lib/db/fallback.ts).
--
-- journal_apply({ entries: [{ seq, fn, args }] }) → { applied: [seq], failed: [{ seq, code, error }],
--   stopped: { seq, code, error } | null }
-- Runs on the PRIMARY: applies a batch of entries from the fallback's journal, in order, in one round
-- trip (one HTTP request through the Data API instead of one per entry). Each entry runs in its own
-- subtransaction with `replayedFrom: seq` added to its arguments, so:
--   * an entry refused with a permanent SQL error is reported in `failed` (its effects undone) and
--     the entries after it still apply;
--   * a transient error — serialization failure or deadlock (class 40), lock not available (55P03) —
--     stops the batch at that entry (`stopped`); the caller tries it again;
--   * the applied entries commit together when the call returns; a connection lost before the answer
--     leaves the caller not knowing, and replaying them again is safe: every journaled function is
--     idempotent on its client key.
-- Only functions this database would itself journal (system_journaled_functions) may be named.
create function public.journal_apply(jsonb) returns jsonb
language plpgsql
as $$
declare
  v_entries jsonb := private.arg($1, 'entries', 'array');
  v_allowed text[];
  v_entry jsonb;
  v_applied jsonb := '[]';
  v_failed jsonb := '[]';
begin
  select array_agg(x) into v_allowed from jsonb_array_elements_text(public.system_journaled_functions('{}')) x;
  for v_entry in select e from jsonb_array_elements(v_entries) e loop
    if not coalesce(v_entry ->> 'fn' = any(v_allowed), false) then
      v_failed := v_failed || jsonb_build_object('seq', v_entry -> 'seq', 'code', '42501',
        'error', format('%s is not a journaled function here', v_entry ->> 'fn'));
      continue;
    end if;
    begin
      execute format('select public.%I($1)', v_entry ->> 'fn')
        using coalesce(v_entry -> 'args', '{}') || jsonb_build_object('replayedFrom', v_entry -> 'seq');
      v_applied := v_applied || (v_entry -> 'seq');
    exception when others then
      if sqlstate like '40%' or sqlstate = '55P03' then
        return jsonb_build_object('applied', v_applied, 'failed', v_failed,
          'stopped', jsonb_build_object('seq', v_entry -> 'seq', 'code', sqlstate, 'error', sqlerrm));
      end if;
      v_failed := v_failed || jsonb_build_object('seq', v_entry -> 'seq', 'code', sqlstate, 'error', sqlerrm);
    end;
  end loop;
  return jsonb_build_object('applied', v_applied, 'failed', v_failed, 'stopped', null);
end
$$;

-- Replay bookkeeping of the database it runs on, never itself journaled.
comment on function public.journal_apply(jsonb) is 'omniops:local';

select private.restrict_public_functions();
