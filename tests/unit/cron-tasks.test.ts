/**
 * The task registry against vercel.json (Vercel Cron must call exactly the registered tasks on the
 * same schedules the local scheduler uses), and the schedule-slot rule the run ledger keys on.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EARLY_DELIVERY_TOLERANCE_MS, parseSchedule, scheduledSlot } from '@/lib/cron/schedule';
import { cronTasks } from '@/lib/cron/tasks';

const vercel = JSON.parse(fs.readFileSync(path.resolve(import.meta.dirname, '../../vercel.json'), 'utf8')) as {
  crons: { path: string; schedule: string }[];
};

describe('the cron task registry', () => {
  it('is what vercel.json declares, path for path and schedule for schedule', () => {
    expect(vercel.crons).toEqual(cronTasks.map((task) => ({ path: `/api/cron/${task.name}`, schedule: task.schedule })));
  });

  it('has the queue worker and the crawler every minute and the seed’s daily queue cleanup, weekly crawl-job cleanup and retention', () => {
    expect(cronTasks.map((t) => [t.name, t.schedule])).toEqual([
      ['process-queue', '* * * * *'],
      ['scrape', '* * * * *'],
      ['cleanup-message-queue', '0 3 * * *'],
      ['cleanup-scrape-jobs', '0 4 * * 0'],
      ['conversation-retention', '30 4 * * 0'],
    ]);
  });

  it('uses names the ledger accepts and schedules Vercel accepts (5 fields)', () => {
    for (const task of cronTasks) {
      expect(task.name).toMatch(/^[a-z0-9][a-z0-9-]{0,63}$/); // cleanup_runs.task's check
      expect(() => parseSchedule(task.name, task.schedule)).not.toThrow();
    }
    expect(() => parseSchedule('x', '0 0 3 * * *')).toThrow('[omniops] [cron] x: invalid schedule "0 0 3 * * *"');
    expect(() => parseSchedule('x', 'daily')).toThrow('[omniops] [cron] x: invalid schedule "daily"');
  });
});

describe('scheduledSlot', () => {
  const daily = (iso: string) => scheduledSlot('t', '0 3 * * *', new Date(iso)).toISOString();

  it('is the latest tick at or before the delivery, in UTC', () => {
    expect(daily('2026-11-22T03:00:00.000Z')).toBe('2026-11-22T03:00:00.000Z');
    expect(daily('2026-11-22T03:00:00.001Z')).toBe('2026-11-22T03:00:00.000Z');
    expect(daily('2026-11-22T23:59:59.999Z')).toBe('2026-11-22T03:00:00.000Z');
    expect(daily('2026-11-23T02:59:00.000Z')).toBe('2026-11-22T03:00:00.000Z');
    expect(scheduledSlot('t', '0 4 * * 0', new Date('2026-11-26T12:00:00Z')).toISOString()).toBe('2026-11-22T04:00:00.000Z');
    expect(scheduledSlot('t', '* * * * *', new Date('2026-11-22T10:15:58.999Z')).toISOString()).toBe('2026-11-22T10:15:00.000Z');
  });

  it('counts a delivery up to the tolerance early for its tick', () => {
    expect(EARLY_DELIVERY_TOLERANCE_MS).toBe(1000);
    expect(daily('2026-11-22T02:59:59.000Z')).toBe('2026-11-22T03:00:00.000Z');
    expect(daily('2026-11-22T02:59:58.999Z')).toBe('2026-11-21T03:00:00.000Z');
  });
});
