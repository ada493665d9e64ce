/**
 * The staff dashboard's data: typed wrappers over the dashboard RPCs
 * (supabase/migrations/20261122070000_dashboard.sql) and the schemas its admin APIs validate with.
 */
import { z } from 'zod';
import { canSeeCustomer, requireAccess, requireNamedCustomer } from '@/lib/auth/access';
import type { Staff } from '@/lib/auth/staff';
import { replyInputSchema, replyToConversation } from '@/lib/conversations';
import type { CronRun } from '@/lib/cron/run';
import { customerUpdateSchema, updateCustomer, type Customer } from '@/lib/customers';
import type { Db } from '@/lib/db/types';
import { createResponder } from '@/lib/chat';
import type { CrawlJob, PersistentJobManager } from '@/lib/jobs/persistent-job-manager';
import type { Config } from '@/lib/config';
import { HttpError } from '@/lib/http';
import { createLogger } from '@/lib/log';
import { queueStats, retryMessages } from '@/lib/queue';
import { processMessages } from '@/lib/queue/processor';
import type { ConversationMessage, QueuedMessage, QueueStats } from '@/lib/queue/types';

const log = createLogger('dashboard');

export const CONVERSATION_STATUSES = ['open', 'needs_staff', 'closed'] as const;
export const QUEUE_STATUSES = ['pending', 'processing', 'completed', 'failed'] as const;

export interface ConversationSummary {
  id: string;
  customerId: string;
  customerName: string;
  sessionId: string;
  status: (typeof CONVERSATION_STATUSES)[number];
  lastMessageAt: string;
  lastMessage: { role: string; content: string } | null;
  messageCount: number;
}

export interface ConversationThread {
  conversation: Omit<ConversationSummary, 'lastMessage' | 'messageCount'> & { createdAt: string };
  messages: ConversationMessage[];
}

export interface Point {
  at: string;
  count: number;
}

export interface Activity {
  messagesPerHour: Point[];
  crawlPagesPerMinute: Point[];
  cleanupRuns: CronRun[];
}

export const conversationQuerySchema = z.object({
  customerId: z.guid().optional(),
  status: z.enum(CONVERSATION_STATUSES).optional(),
  search: z.string().trim().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(20),
  offset: z.coerce.number().int().min(0).default(0),
});

export const queueQuerySchema = z.object({
  customerId: z.guid().optional(),
  status: z.enum(QUEUE_STATUSES).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});

export const retrySchema = z.object({ ids: z.array(z.guid()).min(1).max(500), customerId: z.guid().optional() });

/**
 * Dead letters back to pending, then processed at once (as the widget API processes what it
 * enqueues) rather than at the next `process-queue` tick. If processing fails again, the message
 * is pending with its backoff and the worker takes it from there. A staff member (Supabase Auth)
 * names one of their customers: only that customer's messages are retried.
 */
export async function retryAndDeliver(
  db: Db,
  config: Pick<Config, 'openai'>,
  staff: Staff,
  input: z.input<typeof retrySchema>,
): Promise<{ retried: QueuedMessage[]; delivered: string[] }> {
  const { ids, customerId } = retrySchema.parse(input);
  requireNamedCustomer(staff, customerId);
  const retried = await retryMessages(db, ids, customerId);
  const pending = retried.filter((m) => m.status === 'pending').map((m) => m.id);
  let delivered: string[] = [];
  if (pending.length > 0) {
    try {
      delivered = (await processMessages(db, createResponder(db, config), { ids: pending, limit: pending.length })).delivered;
    } catch (error) {
      log.warn(`retried messages left to the queue worker: ${(error as Error).message}`);
    }
  }
  return { retried, delivered };
}

export async function listConversations(db: Db, query: z.input<typeof conversationQuerySchema>): Promise<{ conversations: ConversationSummary[]; total: number }> {
  return db.rpc('conversations_list', conversationQuerySchema.parse(query));
}

export async function getConversation(db: Db, id: string): Promise<ConversationThread | null> {
  return db.rpc('conversation_get', { id: z.guid().parse(id) });
}

export async function listQueue(db: Db, query: z.input<typeof queueQuerySchema>): Promise<{ messages: QueuedMessage[]; total: number }> {
  return db.rpc('queue_list', queueQuerySchema.parse(query));
}

export async function purgeExpired(db: Db): Promise<number> {
  return (await db.rpc<{ deleted: number }>('queue_purge_expired', {})).deleted;
}

export function getActivity(db: Db, customerId?: string): Promise<Activity> {
  return db.rpc('dashboard_activity', { customerId });
}

/**
 * A crawl job as `staff` may see it, read through `manager` (on their Db: RLS for members), or null
 * when absent or another customer's — whose existence is not disclosed. `hot` reads the Redis copy
 * first (a running crawl's progress, cheap to poll), else the database.
 */
export async function findStaffJob(
  manager: PersistentJobManager,
  staff: Staff,
  jobId: string,
  options: { hot?: boolean } = {},
): Promise<CrawlJob | null> {
  const job = options.hot ? await manager.getJob(jobId) : await manager.getJobFromSupabase(jobId);
  return job && canSeeCustomer(staff, job.customerId) ? job : null;
}

/** findStaffJob for the admin APIs: 404 instead of null. */
export async function requireStaffJob(...args: Parameters<typeof findStaffJob>): Promise<CrawlJob> {
  const job = await findStaffJob(...args);
  if (!job) throw new HttpError(404, 'not_found', `crawl job ${args[2]} does not exist`);
  return job;
}

export function crawlTimeline(db: Db, jobId: string): Promise<{ second: number; count: number }[]> {
  return db.rpc('crawl_job_timeline', { jobId });
}

/**
 * Queue depth and activity over the customers a staff member may see (`customerIds`), or over all
 * of them (null, an administrator). One read per customer: staff belong to a handful.
 */
export async function scopedOverview(
  db: Db,
  customerIds: string[] | null,
): Promise<{ depth: QueueStats; activity: Activity }> {
  if (customerIds === null) {
    const [depth, activity] = await Promise.all([queueStats(db), getActivity(db)]);
    return { depth, activity };
  }
  const parts = await Promise.all(customerIds.map(async (id) => ({ depth: await queueStats(db, id), activity: await getActivity(db, id) })));
  const sumPoints = (series: Point[][]): Point[] =>
    (series[0] ?? []).map((p, i) => ({ at: p.at, count: series.reduce((n, s) => n + (s[i]?.count ?? 0), 0) }));
  const total = (status: keyof QueueStats) => parts.reduce((n, p) => n + p.depth[status], 0);
  return {
    depth: { pending: total('pending'), processing: total('processing'), completed: total('completed'), failed: total('failed') },
    activity: {
      messagesPerHour: sumPoints(parts.map((p) => p.activity.messagesPerHour)),
      crawlPagesPerMinute: sumPoints(parts.map((p) => p.activity.crawlPagesPerMinute)),
      // The scheduled runs are the whole system's housekeeping, the same for everyone.
      cleanupRuns: parts[0]?.activity.cleanupRuns ?? [],
    },
  };
}

/**
 * A staff reply. A staff member (Supabase Auth) replies only in their customers' conversations:
 * another customer's is answered as absent (404), never disclosed.
 */
export async function staffReply(
  db: Db,
  staff: Staff,
  conversationId: string,
  input: z.output<typeof replyInputSchema>,
): Promise<{ message: ConversationMessage; created: boolean }> {
  let customerId: string | undefined;
  if (staff.kind === 'member') {
    const thread = await getConversation(db, conversationId);
    if (!thread || !canSeeCustomer(staff, thread.conversation.customerId)) {
      throw new HttpError(404, 'not_found', 'conversationId: no such conversation');
    }
    customerId = thread.conversation.customerId;
  }
  // customerId makes the database check ownership again (P0002 otherwise).
  return replyToConversation(db, { ...input, conversationId, customerId });
}

/**
 * A customer's settings by staff: its owners and admins (staff members) edit the name, origins and
 * retention, never the plan (an administrator's); its agents change nothing.
 */
export async function staffUpdateCustomer(
  db: Db,
  staff: Staff,
  id: string,
  input: z.input<typeof customerUpdateSchema>,
): Promise<Customer> {
  requireAccess(staff, 'manager', id);
  if (staff.kind === 'member' && input.plan !== undefined) {
    throw new HttpError(403, 'forbidden', 'plan: changed by an administrator only');
  }
  return updateCustomer(db, id, input);
}
