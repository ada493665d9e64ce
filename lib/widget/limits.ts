/**
 * What one client may cost a customer through the public widget API (docs/security.md, "The widget
 * API"). The key and the allowed origins are in every embedding page, `Origin` is forged at will
 * outside a browser and session ids are invented by clients; the client's address
 * (lib/http.ts clientIp, the socket unless proxies are trusted) is the one thing an attacker cannot
 * change per request. So sending is limited, in messages, per session, per address, and per address
 * and customer per day — a share of the customer's monthly allowance, so one address can never spend
 * the month and lock the widget for every other visitor — and the inline answering a send pays for
 * (search, model calls) is bounded per request and per customer.
 *
 * All rules are charged in one cache round trip (lib/cache/rate-limit.ts; lib/http.ts
 * enforceRateLimits throws the 429); a refused send is given back, so a client retrying a refused
 * batch does not use up its allowance meanwhile.
 */
import {
  widgetAddressDailyKey,
  widgetInlineBudgetKey,
  widgetIpRateKey,
  widgetSessionRateKey,
  type WidgetAction,
} from '@/lib/cache/keys';
import type { Charge } from '@/lib/cache/rate-limit';
import { getRedisClientWithFallback } from '@/lib/cache/resolve';
import { getConfig } from '@/lib/config';
import type { Customer } from '@/lib/customers';
import { enforceRateLimits } from '@/lib/http';

/**
 * Messages of one send answered inside the request; the rest wait for the queue worker. The widget
 * sends batches of 10 (lib/chat-widget/storage/persistent-message-queue.ts), answered whole: a
 * visitor's messages enter the conversation when they are answered. @default 10
 */
export const MAX_INLINE_PER_REQUEST = 10;

/** A customer as the widget sees it: with its plan's monthly message allowance (null: unlimited). */
export interface WidgetCustomer extends Customer {
  monthlyMessageLimit: number | null;
}

/** Messages one address may send a customer in a day: `share` of its monthly allowance (at least 1). */
export function addressDailyLimit(monthlyMessageLimit: number, share: number): number {
  return Math.max(1, Math.floor(monthlyMessageLimit * share));
}

/**
 * Charge a send of `messages` messages against every limit, or throw 429 (with Retry-After). Resolves
 * to how many of its new messages may be answered inline: what is left of the customer's inline
 * budget for the minute, at most MAX_INLINE_PER_REQUEST.
 */
export async function limitSend(
  ip: string,
  customer: WidgetCustomer,
  sessionId: string,
  messages: number,
  share: number = getConfig().widgetAddressDailyShare,
): Promise<{ inline: number }> {
  const inline = Math.min(messages, MAX_INLINE_PER_REQUEST);
  const rules: Charge[] = [
    { ...widgetInlineBudgetKey(customer.id), cost: inline, soft: true },
    { ...widgetSessionRateKey('send', customer.id, sessionId), cost: messages },
    { ...widgetIpRateKey('send', ip), cost: messages },
    ...(customer.monthlyMessageLimit === null
      ? []
      : [{ ...widgetAddressDailyKey(customer.id, ip, addressDailyLimit(customer.monthlyMessageLimit, share)), cost: messages }]),
  ];
  const [budget] = await enforceRateLimits(getRedisClientWithFallback(), rules);
  // What the budget had left before this charge, whole or in part.
  return { inline: Math.max(0, Math.min(inline, budget!.limit - (budget!.used - inline))) };
}

/** Count a read (poll, session start) per session (when there is one) and per address, or throw 429. */
export async function limitRead(ip: string, customerId: string, sessionId?: string): Promise<void> {
  const action: WidgetAction = 'read';
  await enforceRateLimits(getRedisClientWithFallback(), [
    ...(sessionId ? [widgetSessionRateKey(action, customerId, sessionId)] : []),
    widgetIpRateKey(action, ip),
  ]);
}
