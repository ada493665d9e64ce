/**
 * The role policy every envelope checks (lib/auth/access.ts): which level each role of a customer
 * holds, that a level never carries over to another customer, and the refusal each level gives.
 */
import { describe, expect, it } from 'vitest';
import { ACCESS_LEVELS, holds, requireAccess, requireNamedCustomer, type Access } from '@/lib/auth/access';
import type { Membership, Staff } from '@/lib/auth/staff';

const mine = '00000000-0000-4000-8000-000000000001';
const theirs = '00000000-0000-4000-8000-000000000002';
const member = (role: Membership['role']): Staff => ({
  kind: 'member',
  user: { id: '00000000-0000-4000-8000-00000000000a', email: null },
  memberships: [{ customerId: mine, customerName: 'Mine', role }],
  accessToken: 'x.y.z',
});

describe('the role policy', () => {
  it('gives each role of a customer the levels of docs/dashboard.md, and an administrator every level', () => {
    const table = Object.fromEntries(
      (['agent', 'admin', 'owner'] as const).map((role) => [role, ACCESS_LEVELS.filter((level) => holds(member(role), level, mine))]),
    );
    expect(table).toEqual({ agent: ['member'], admin: ['member', 'manager'], owner: ['member', 'manager', 'owner'] });
    expect(ACCESS_LEVELS.filter((level) => holds({ kind: 'admin' }, level, theirs))).toEqual(ACCESS_LEVELS);
    expect(holds({ kind: 'admin' }, 'admin')).toBe(true);
  });

  it('gives a staff member nothing at another customer, nor without naming one', () => {
    for (const level of ACCESS_LEVELS) {
      expect(holds(member('owner'), level, theirs), level).toBe(false);
      expect(holds(member('owner'), level), level).toBe(false);
    }
  });

  it('refuses with 403 and a message saying what is missing', () => {
    const refusal = (staff: Staff, level: Access, customerId?: string) => {
      try {
        requireAccess(staff, level, customerId);
        return null;
      } catch (error) {
        return { status: (error as { status: number }).status, message: (error as Error).message };
      }
    };
    expect(refusal(member('owner'), 'admin', mine)).toEqual({ status: 403, message: 'administrators only' });
    expect(refusal(member('agent'), 'manager', mine)).toEqual({ status: 403, message: 'only the customer’s owners and admins change its settings and staff' });
    expect(refusal(member('owner'), 'manager', theirs)).toEqual({ status: 403, message: 'you are not a member of this customer' });
    expect(refusal(member('admin'), 'owner', mine)).toEqual({ status: 403, message: 'role: only the customer’s owners make or remove owners' });
    expect(refusal(member('agent'), 'member', mine)).toBeNull();
    expect(refusal({ kind: 'admin' }, 'owner', theirs)).toBeNull();
  });

  it('lets an administrator leave the customer out; a staff member must name one of theirs', () => {
    expect(() => requireNamedCustomer({ kind: 'admin' }, undefined)).not.toThrow();
    expect(() => requireNamedCustomer(member('agent'), undefined)).toThrow(expect.objectContaining({ status: 400 }));
    expect(() => requireNamedCustomer(member('agent'), theirs)).toThrow(expect.objectContaining({ status: 403 }));
    expect(() => requireNamedCustomer(member('agent'), mine)).not.toThrow();
    expect(() => requireNamedCustomer(member('agent'), mine, 'manager')).toThrow(expect.objectContaining({ status: 403 }));
  });
});
