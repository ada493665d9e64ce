-- Hardening of the widget path (issue 14, findings 1 and 6; docs/security.md "The widget API").
--
--   widget_customer   the customer of a public key with its plan's monthly message allowance, in
--                     the one lookup the widget already makes (the per-address daily share,
--                     lib/widget/limits.ts, is a share of that allowance)
--   (queue_deliver delivering each item alone, finding 6, is in 20261202060000_single_handoff.sql,
--   which redefines that function once for both changes)

-- widget_customer({ publicKey }) → customer + { monthlyMessageLimit: number | null } | null
-- null limit: the plan is unlimited (or has no plan_limits row, where usage_consume refuses anyway).
create function public.widget_customer(jsonb) returns jsonb
language sql stable
as $$
  select private.customer_json(c) || jsonb_build_object('monthlyMessageLimit', l.messages)
    from public.customers c
    left join public.plan_limits l on l.plan = c.plan
   where c.public_key = $1 ->> 'publicKey'
$$;

select private.restrict_public_functions();
