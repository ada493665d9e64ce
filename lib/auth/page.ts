/**
 * The envelope of every dashboard page and its layout (app/dashboard/**), the counterpart of
 * lib/auth/route.ts for server components: the signed-in staff (else a redirect to /login, back to
 * this page afterwards), the path parameters (a page that does not exist otherwise: 404), the
 * customer the page is about, and the database the staff may read through (an administrator's:
 * the serving database; a staff member's: the Data API with their own JWT, so Row Level Security
 * applies — lib/auth/staff.ts `staffDb`).
 *
 * Pages never answer 403: a customer the staff member does not belong to is as absent as one that
 * does not exist (404), so its existence is not disclosed.
 */
import { notFound, redirect } from 'next/navigation';
import type { ReactNode } from 'react';
import type { z } from 'zod';
import { getConfig, type Config } from '@/lib/config';
import type { Db } from '@/lib/db/types';
import { canSeeCustomer, pageCustomer } from './access';
import { currentStaff } from './current-staff';
import { staffDb, type Staff } from './staff';

/**
 * Which customer a page is about:
 * - `required`: the `[id]` of its path, a customer the staff is a member of (404 otherwise);
 * - `optional`: a staff member sees one of their customers at a time (`?customer=`, else their
 *   first; null when they belong to none); an administrator every customer's (undefined);
 * - `resource`: the customer owning what the path names (a conversation, a crawl job): the page
 *   checks it with lib/auth/access.ts `canSeeCustomer` and answers 404 for another customer's.
 * - `none`: every customer the staff may see (the overview, the customer list, the layout).
 * Every page is open to staff of any role (access `member`); what a role may change is the APIs'
 * declaration (lib/auth/route.ts), and a page shows only the actions its viewer may take.
 */
export type PageCustomer = 'required' | 'optional' | 'resource' | 'none';

type SearchParams = Record<string, string | undefined>;

export interface StaffPageSpec<P extends z.ZodType | undefined> {
  /** The page's path pattern (`/dashboard/crawls/[id]`): where sign-in leads back to. */
  path: string;
  customer: PageCustomer;
  params?: P;
}

export interface StaffPageInput<P> {
  config: Config;
  staff: Staff;
  /** What the staff may read (see the top of this file). */
  db: Db;
  params: P;
  searchParams: SearchParams;
  /** For `optional`: the customer shown (see PageCustomer); for `required`: the path's. */
  customerId: string | null | undefined;
  children?: ReactNode;
}

export interface StaffPageProps {
  params?: Promise<Record<string, string>>;
  searchParams?: Promise<SearchParams>;
  children?: ReactNode;
}

export type StaffPageComponent = ((props: StaffPageProps) => Promise<ReactNode>) & {
  /** The declaration, for the access table's test. */
  readonly declared: { path: string; customer: PageCustomer };
};

/** A dashboard page (or layout) inside the envelope (see the top of this file). */
export function staffPage<P extends z.ZodType | undefined = undefined>(
  spec: StaffPageSpec<P>,
  render: (input: StaffPageInput<P extends z.ZodType ? z.output<P> : undefined>) => Promise<ReactNode>,
): StaffPageComponent {
  const page = async (props: StaffPageProps): Promise<ReactNode> => {
    const raw = (await props.params) ?? {};
    const staff = await currentStaff();
    if (!staff) {
      const path = spec.path.replace(/\[(.+?)\]/g, (_, name: string) => raw[name] ?? '');
      redirect(`/login?${new URLSearchParams({ next: path })}`);
    }
    const parsed = spec.params?.safeParse(raw);
    if (parsed && !parsed.success) notFound();
    const params = parsed?.data as P extends z.ZodType ? z.output<P> : undefined;
    const searchParams = (await props.searchParams) ?? {};
    let customerId: string | null | undefined;
    if (spec.customer === 'required') {
      customerId = (params as { id?: string } | undefined)?.id;
      if (customerId === undefined || !canSeeCustomer(staff, customerId)) notFound();
    } else if (spec.customer === 'optional') {
      customerId = pageCustomer(staff, searchParams.customer);
    }
    const config = getConfig();
    return render({ config, staff, db: await staffDb(config, staff), params, searchParams, customerId, children: props.children });
  };
  return Object.assign(page, { declared: { path: spec.path, customer: spec.customer } });
}
