/**
 * A customer's staff (Supabase Auth mode): who is a member (`customer_members`), adding one by the
 * e-mail of their Supabase Auth account, removing one. Administrators, and the customer's owners and
 * admins (their routes declare access `manager`: lib/auth/route.ts); only owners make or remove owners. An address without
 * an Auth account is invited (Supabase Auth creates the account and e-mails the link), so adding
 * answers alike whether or not the address had an account: a manager of one customer cannot probe
 * which addresses the project knows (tests/security/member-enumeration.test.ts).
 */
import { z } from 'zod';
import type { Config } from '@/lib/config';
import type { Db } from '@/lib/db/types';
import { HttpError } from '@/lib/http';
import { createServiceRoleClient } from '@/lib/supabase/server';
import { requireAccess } from './access';
import { MEMBER_ROLES, supabaseAuthEnabled, type Membership, type Staff } from './staff';

export interface CustomerMember {
  userId: string;
  /** The Auth account's e-mail; null when the account no longer exists. */
  email: string | null;
  role: Membership['role'];
  createdAt: string;
}

export const addMemberSchema = z.object({
  email: z.email().max(320),
  role: z.enum(MEMBER_ROLES).default('agent'),
});

/** Make `userId` a member of a customer (idempotent: a repeat changes nothing). */
export function addMember(
  db: Db,
  input: { customerId: string; userId: string; role?: Membership['role'] },
): Promise<{ customerId: string; userId: string; role: Membership['role']; created: boolean }> {
  return db.rpc('customer_members_add', {
    customerId: z.guid().parse(input.customerId),
    userId: z.guid().parse(input.userId),
    role: z.enum(MEMBER_ROLES).default('agent').parse(input.role),
  });
}

const PAGE = 1000;

/**
 * Every Supabase Auth user's id and e-mail, through the Auth admin API (service role). Staff are the
 * only Auth users of an Omniops project (visitors are anonymous), so this is a handful of pages at
 * most. Read page by page until a short one (auth-js's own next-page parsing reads one digit).
 */
async function authUsers(config: Pick<Config, 'supabase'>): Promise<{ id: string; email: string | null }[]> {
  if (!supabaseAuthEnabled(config)) {
    throw new HttpError(409, 'auth_not_configured', 'staff accounts need Supabase Auth (NEXT_PUBLIC_SUPABASE_PUBLISHABLE_KEY)');
  }
  const admin = createServiceRoleClient(config.supabase).auth.admin;
  const users: { id: string; email: string | null }[] = [];
  for (let page = 1; ; page++) {
    const { data, error } = await admin.listUsers({ page, perPage: PAGE });
    if (error) throw new HttpError(502, 'auth_unavailable', `Supabase Auth: ${error.message}`);
    users.push(...data.users.map((u) => ({ id: u.id, email: u.email ?? null })));
    if (data.users.length < PAGE) return users;
  }
}

function memberRows(db: Db, customerId: string): Promise<Omit<CustomerMember, 'email'>[]> {
  return db.rpc('customer_members_list', { customerId: z.guid().parse(customerId) });
}

/** A customer's members with their e-mail addresses, oldest first. */
export async function listMembers(db: Db, config: Pick<Config, 'supabase'>, customerId: string): Promise<CustomerMember[]> {
  const [rows, users] = await Promise.all([memberRows(db, customerId), authUsers(config)]);
  const emails = new Map(users.map((u) => [u.id, u.email]));
  return rows.map((m) => ({ ...m, email: emails.get(m.userId) ?? null }));
}

/**
 * The Auth account with this e-mail, or a new one invited to it (Supabase Auth sends the e-mail; the
 * invitee sets a password from its link). An account created meanwhile (422 from the invite) is read
 * again rather than reported. A failed invitation is a 502 — the one answer that differs for an
 * unknown address, only while the Auth server cannot send mail.
 */
async function accountFor(config: Pick<Config, 'supabase'>, email: string): Promise<{ id: string; email: string | null }> {
  const find = async () => (await authUsers(config)).find((u) => u.email?.toLowerCase() === email.toLowerCase());
  const existing = await find();
  if (existing) return existing;
  const { data, error } = await createServiceRoleClient(config.supabase).auth.admin.inviteUserByEmail(email);
  if (!error && data.user) return { id: data.user.id, email: data.user.email ?? email };
  const raced = error?.status === 422 ? await find() : undefined;
  if (raced) return raced;
  throw new HttpError(502, 'auth_unavailable', `Supabase Auth: the invitation could not be sent (${error?.message ?? 'no user returned'})`);
}

/**
 * Make the Auth user with this e-mail a member, inviting the address first when it has no account
 * ("invited or added": the same answer either way). Idempotent: a repeat changes nothing, `created:
 * false`.
 */
export async function addMemberByEmail(
  db: Db,
  config: Pick<Config, 'supabase'>,
  staff: Staff,
  customerId: string,
  input: z.input<typeof addMemberSchema>,
): Promise<{ member: CustomerMember; created: boolean }> {
  const { email, role } = addMemberSchema.parse(input);
  if (role === 'owner') requireAccess(staff, 'owner', customerId);
  const user = await accountFor(config, email);
  const { created } = await addMember(db, { customerId, userId: user.id, role });
  const row = (await memberRows(db, customerId)).find((m) => m.userId === user.id)!;
  return { member: { ...row, email: user.email }, created };
}

/** Remove a member (idempotent): they lose access to the customer at their next request. Owners are removed by owners. */
export async function removeMember(db: Db, staff: Staff, customerId: string, userId: string): Promise<{ removed: boolean }> {
  const target = (await memberRows(db, customerId)).find((m) => m.userId === userId);
  if (target?.role === 'owner') requireAccess(staff, 'owner', customerId);
  return db.rpc('customer_members_remove', { customerId: z.guid().parse(customerId), userId: z.guid().parse(userId) });
}
