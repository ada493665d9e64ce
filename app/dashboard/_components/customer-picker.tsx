import type { Staff } from '@/lib/auth/staff';

/**
 * The customer a staff member's page shows (inside the page's filter form, field `customer`): only
 * for a member of more than one customer. Administrators see every customer's rows.
 */
export function CustomerPicker({ staff, selected }: { staff: Staff; selected: string | null | undefined }) {
  if (staff.kind !== 'member' || staff.memberships.length < 2) return null;
  return (
    <>
      <label htmlFor="customer">Customer</label>
      <select id="customer" name="customer" defaultValue={selected ?? undefined}>
        {staff.memberships.map((m) => (
          <option key={m.customerId} value={m.customerId}>
            {m.customerName}
          </option>
        ))}
      </select>
    </>
  );
}
