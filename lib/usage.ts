/**
 * Usage metering (docs/usage-and-plans.md): per customer and calendar month (UTC), counters of messages, crawls
 * and exports, limited by the customer's plan (table `plan_limits`, the one place limits are
 * defined). Typed wrappers over the `usage_increment` / `usage_get` RPCs; the SQL does the month
 * arithmetic and the atomic check-and-increment.
 *
 * Operations that happen in SQL (enqueueing a message, starting a crawl) meter themselves by
 * calling `private.usage_consume` inside their own transaction, so an operation and its usage
 * commit together; `incrementUsage` is for operations that happen in TypeScript.
 */
import { z } from 'zod';
import type { Db } from '@/lib/db/types';
import type { Plan } from '@/lib/customers';

export const USAGE_TYPES = ['message', 'crawl', 'export'] as const;
export type UsageType = (typeof USAGE_TYPES)[number];

interface UsageOptions {
  /** The instant whose month counts. @default now (the database's clock) */
  at?: Date;
}

interface IncrementResultBase {
  type: UsageType;
  plan: Plan;
  /** This month's count after the call (unchanged when refused). */
  used: number;
  /** 'YYYY-MM', UTC. */
  monthYear: string;
  /** When the counter starts again from zero: the first day of next month, 00:00 UTC (ISO 8601). */
  resetsAt: string;
}

export interface UsageAllowed extends IncrementResultBase {
  allowed: true;
  /** null: unlimited on this plan. */
  limit: number | null;
  remaining: number | null;
}

/** The increment would have exceeded the plan's limit; nothing was counted. */
export interface UsageRefused extends IncrementResultBase {
  allowed: false;
  limit: number;
  remaining: number;
  /** For the user, e.g. `monthly message limit reached: 1000 of 1000 used on the free plan; resets 2026-12-01T00:00:00Z`. */
  message: string;
}

export type UsageIncrement = UsageAllowed | UsageRefused;

export interface UsageCounter {
  used: number;
  limit: number | null;
  remaining: number | null;
}

export interface Usage {
  customerId: string;
  plan: Plan;
  monthYear: string;
  resetsAt: string;
  messages: UsageCounter;
  crawls: UsageCounter;
  exports: UsageCounter;
}

const incrementSchema = z.object({
  customerId: z.guid(),
  type: z.enum(USAGE_TYPES),
  amount: z.number().int().min(1).max(1_000_000),
});

/**
 * Count `amount` (default 1) uses of `type` for the customer this month, unless that exceeds the
 * plan's limit: then nothing is counted and the result says so (`allowed: false`, with a message
 * naming the limit and when it resets). Rejects only for a bad argument, an unknown customer
 * (SQLSTATE P0002) or an unreachable database.
 */
export async function incrementUsage(
  db: Db,
  customerId: string,
  type: UsageType,
  { amount = 1, at }: UsageOptions & { amount?: number } = {},
): Promise<UsageIncrement> {
  const args = incrementSchema.parse({ customerId, type, amount });
  const result = await db.rpc<Omit<UsageAllowed, 'allowed'> & { allowed: boolean; message?: string }>(
    'usage_increment',
    { ...args, at: at?.toISOString() },
  );
  // An unlimited counter (limit null) is never refused; a refusal carries the database's message.
  if (result.allowed || result.limit === null) return { ...result, allowed: true };
  return {
    ...result,
    allowed: false,
    limit: result.limit,
    remaining: result.remaining ?? 0,
    message: result.message ?? `monthly ${type} limit reached`,
  };
}

/** This month's usage and limits of a customer, or null when the customer does not exist. */
export async function getUsage(db: Db, customerId: string, { at }: UsageOptions = {}): Promise<Usage | null> {
  return db.rpc<Usage | null>('usage_get', { customerId: z.guid().parse(customerId), at: at?.toISOString() });
}
