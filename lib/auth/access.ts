/**
 * Who may do what: the access levels a route or page declares (lib/auth/route.ts `staffRoute`,
 * lib/auth/page.ts `staffPage`) and the checks behind them. The one place the role policy lives:
 * an administrator (admin token) holds every level for every customer; a staff member (Supabase
 * Auth) holds a level for a customer through their role in it (`customer_members`).
 *
 * | level     | an administrator | a staff member of the customer |
 * |-----------|------------------|--------------------------------|
 * | `member`  | yes              | any role (`agent`, `admin`, `owner`) |
 * | `manager` | yes              | `admin` or `owner` (its settings and staff) |
 * | `owner`   | yes              | `owner` (makes and removes owners) |
 * | `admin`   | yes              | never (not about one customer: every customer's housekeeping) |
 */
import { HttpError } from '@/lib/http';
import type { Membership, Staff } from './staff';

export const ACCESS_LEVELS = ['member', 'manager', 'owner', 'admin'] as const;
export type Access = (typeof ACCESS_LEVELS)[number];

/** The roles of a customer that hold each level below `admin`. */
const ROLES: Record<Exclude<Access, 'admin'>, readonly Membership['role'][]> = {
  member: ['owner', 'admin', 'agent'],
  manager: ['owner', 'admin'],
  owner: ['owner'],
};

function memberRole(staff: Staff, customerId: string): Membership['role'] | null {
  return staff.kind === 'member' ? (staff.memberships.find((m) => m.customerId === customerId)?.role ?? null) : null;
}

/** True when `staff` holds `level` for `customerId` (`admin` needs no customer). */
export function holds(staff: Staff, level: Access, customerId?: string): boolean {
  if (staff.kind === 'admin') return true;
  if (level === 'admin' || customerId === undefined) return false;
  const role = memberRole(staff, customerId);
  return role !== null && ROLES[level].includes(role);
}

/**
 * Throws 403 unless `staff` holds `level` for `customerId`. A manager who is not a member at all
 * hears that first; an owner's check names the role, since it guards the `owner` role itself.
 */
export function requireAccess(staff: Staff, level: Access, customerId?: string): void {
  if (holds(staff, level, customerId)) return;
  if (level === 'admin') throw new HttpError(403, 'forbidden', 'administrators only');
  if (level === 'owner') throw new HttpError(403, 'forbidden', 'role: only the customer’s owners make or remove owners');
  if (!holds(staff, 'member', customerId)) throw new HttpError(403, 'forbidden', 'you are not a member of this customer');
  throw new HttpError(403, 'forbidden', 'only the customer’s owners and admins change its settings and staff');
}

/**
 * For requests where an administrator may leave the customer out (all of them): a staff member
 * must name one (400) for which they hold `level` (403).
 */
export function requireNamedCustomer(staff: Staff, customerId: string | undefined, level: Access = 'member'): void {
  if (staff.kind === 'admin') return;
  if (!customerId) throw new HttpError(400, 'invalid_request', 'customerId: required for staff members');
  requireAccess(staff, level, customerId);
}

export function canSeeCustomer(staff: Staff, customerId: string): boolean {
  return holds(staff, 'member', customerId);
}

/** An administrator, or an owner or admin of the customer. */
export function canManageCustomer(staff: Staff, customerId: string): boolean {
  return holds(staff, 'manager', customerId);
}

/** The customer ids `staff` may see, or null for all of them (an administrator). */
export function visibleCustomerIds(staff: Staff): string[] | null {
  return staff.kind === 'admin' ? null : staff.memberships.map((m) => m.customerId);
}

/** The customers of `list` that `staff` may see (all of them for an administrator). */
export function visibleCustomers<C extends { id: string }>(staff: Staff, list: C[]): C[] {
  return list.filter((c) => canSeeCustomer(staff, c.id));
}

/**
 * The one customer a page shows a staff member at a time: `requested` when they are a member of it,
 * else their first; null when they belong to none. Undefined for an administrator (every customer).
 */
export function pageCustomer(staff: Staff, requested: string | undefined): string | null | undefined {
  if (staff.kind === 'admin') return undefined;
  return staff.memberships.find((m) => m.customerId === requested)?.customerId ?? staff.memberships[0]?.customerId ?? null;
}
