/**
 * The envelope of every admin API (app/api/admin/**): a route handler declares who may call it and
 * which customer it is about, and gets the checked staff, its parsed input and the databases it may
 * use. Nothing else in the app decides access for an API — proxy.ts only refreshes the session —
 * and docs/dashboard.md's access table is tested against these declarations
 * (tests/unit/access-table.test.ts).
 *
 * In order, each step answering with the error shape of lib/http.ts `errorResponse`:
 *  1. metrics (`observed`, under the declared route pattern);
 *  2. the session: an administrator or a staff member, else 401;
 *  3. the CSRF check of a mutation: same origin, a JSON body (lib/http.ts requireSameOriginJson: 403, 415, 413);
 *  4. `access: 'admin'`: administrators only, 403 before anything is read;
 *  5. the path parameters, then the query (GET) or JSON body, each parsed with its schema (400);
 *     the customer the request names is checked as soon as it is parsed: the `[id]` of
 *     `/api/admin/customers/[id]/…` before the body, else its `customerId` field;
 *  6. the handler, with `db` (what the staff may read: a member's reads go through the Data API
 *     with their own JWT, so Row Level Security applies — lib/auth/staff.ts `staffDb`) and
 *     `service` (the serving database, for writes after these checks).
 */
import type { z } from 'zod';
import { getConfig, type Config } from '@/lib/config';
import { resolveDb } from '@/lib/db/resolve';
import type { Db } from '@/lib/db/types';
import { HttpError, MAX_ADMIN_BODY_BYTES, errorResponse, parseWith, readJson, requireSameOriginJson } from '@/lib/http';
import { observed } from '@/lib/metrics';
import { requireAccess, requireNamedCustomer, type Access } from './access';
import { staffOfRequest } from './current-staff';
import { staffDb, type Staff } from './staff';

/**
 * Which customer a request is about, for a level below `admin`:
 * - `required`: it names one (path `[id]` or `customerId`) and the staff must hold the level for it (403);
 * - `optional`: an administrator may leave it out (every customer); a staff member must name one (400) they hold the level for (403);
 * - `resource`: the customer owning what the path names (a conversation, a crawl job), checked by the capability, which answers 404 for another customer's (its existence is not disclosed).
 */
export type CustomerScope = 'required' | 'optional' | 'resource';

/** What an API declares: `admin` is about no single customer; the other levels say which customer. */
export type RouteAccess = { access: 'admin'; customer: 'none' } | { access: Exclude<Access, 'admin'>; customer: CustomerScope };

type Schema = z.ZodType;
type Out<S> = S extends Schema ? z.output<S> : undefined;

export type StaffRouteSpec<P extends Schema | undefined, Q extends Schema | undefined, B extends Schema | undefined> = RouteAccess & {
  /** The route's path pattern (`/api/admin/customers/[id]`): its metrics label, checked against the file. */
  route: string;
  /** The path parameters. */
  params?: P;
  /** The query string (as an object of its first values). */
  query?: Q;
  /** The JSON body, read up to `maxBytes` (64 KiB by default: lib/http.ts MAX_ADMIN_BODY_BYTES). */
  body?: B;
  maxBytes?: number;
  /** Headers on an error answer too (a download's `cache-control: no-store`). */
  errorHeaders?: Record<string, string>;
};

export interface StaffRequest<P, Q, B> {
  request: Request;
  config: Config;
  staff: Staff;
  /** What the staff may read: the serving database for an administrator, RLS-scoped for a member. */
  db: Db;
  /** The serving database: for writes, which run with the service role once the envelope has checked the caller. */
  service: Db;
  params: P;
  query: Q;
  body: B;
}

type Context = { params?: Promise<Record<string, string>> };
/** Tests pass their own serving database. */
export type RouteDeps = { db?: Db };

export type StaffRouteHandler = ((request: Request, context?: Context, deps?: RouteDeps) => Promise<Response>) & {
  /** The declaration, for the access table's test. */
  readonly declared: RouteAccess & { route: string };
};

/**
 * The customer a request names: the `[id]` of a customer's own routes (`inPath`), else its
 * `customerId`.
 */
function namedCustomer(inPath: boolean, input: { params?: unknown; query?: unknown; body?: unknown }): string | undefined {
  const field = (value: unknown, name: string) =>
    value !== null && typeof value === 'object' && typeof (value as Record<string, unknown>)[name] === 'string' ? ((value as Record<string, string>)[name]) : undefined;
  if (inPath) return field(input.params, 'id');
  return field(input.body, 'customerId') ?? field(input.query, 'customerId');
}

function checkCustomer(spec: RouteAccess & { route: string }, staff: Staff, customerId: string | undefined): void {
  if (spec.customer === 'required') {
    if (customerId === undefined) throw new HttpError(400, 'invalid_request', 'customerId: required');
    requireAccess(staff, spec.access, customerId);
  } else if (spec.customer === 'optional') {
    requireNamedCustomer(staff, customerId, spec.access);
  }
}

/** An admin API handler inside the envelope (see the top of this file). */
export function staffRoute<P extends Schema | undefined = undefined, Q extends Schema | undefined = undefined, B extends Schema | undefined = undefined>(
  spec: StaffRouteSpec<P, Q, B>,
  handler: (input: StaffRequest<Out<P>, Out<Q>, Out<B>>) => Promise<Response>,
): StaffRouteHandler {
  const declared = { route: spec.route, access: spec.access, customer: spec.customer } as RouteAccess & { route: string };
  const inPath = spec.route.startsWith('/api/admin/customers/[id]');
  const run = observed(spec.route, async (request: Request, context?: Context, deps: RouteDeps = {}) => {
    try {
      const config = getConfig();
      const staff = await staffOfRequest(request);
      if (!staff) throw new HttpError(401, 'unauthorized', 'sign in at /login');
      requireSameOriginJson(request);
      if (spec.access === 'admin') requireAccess(staff, 'admin');
      const params = spec.params ? parseWith(spec.params, (await context?.params) ?? {}) : undefined;
      if (inPath) checkCustomer(declared, staff, namedCustomer(true, { params }));
      const query = spec.query ? parseWith(spec.query, Object.fromEntries(new URL(request.url).searchParams)) : undefined;
      const body = spec.body ? parseWith(spec.body, await readJson(request, spec.maxBytes ?? MAX_ADMIN_BODY_BYTES)) : undefined;
      if (!inPath) checkCustomer(declared, staff, namedCustomer(false, { query, body }));
      const service = deps.db ?? (await resolveDb(config));
      const db = staff.kind === 'admin' ? service : await staffDb(config, staff);
      return await handler({ request, config, staff, db, service, params: params as Out<P>, query: query as Out<Q>, body: body as Out<B> });
    } catch (error) {
      return errorResponse(error, spec.errorHeaders);
    }
  });
  return Object.assign(run, { declared });
}
