/**
 * The test setup's log capture (tests/support/log-capture.ts): the app's log lines are captured
 * instead of printed, a test takes the ones it expects, and a logged 500 fails the test.
 */
import { describe, expect, it, vi } from 'vitest';
import { errorResponse } from '@/lib/http';
import { createLogger } from '@/lib/log';
import { takeLogs } from '../support/log-capture';

describe('log capture in tests', () => {
  it('captures log lines instead of printing them, and hands a test the ones it expects', () => {
    const spies = (['debug', 'info', 'warn', 'error'] as const).map((level) => vi.spyOn(console, level));
    try {
      const log = createLogger('capture-test');
      log.info('one thing happened', { n: 1 });
      log.warn('another thing');
      for (const spy of spies) expect(spy).not.toHaveBeenCalled();
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
    expect(takeLogs('thing').map((r) => [r.level, r.line])).toEqual([
      ['info', '[omniops] [capture-test] one thing happened {"n":1}'],
      ['warn', '[omniops] [capture-test] another thing'],
    ]);
    // Taken lines are gone.
    expect(takeLogs('thing')).toEqual([]);
  });

  it('a 500 the test expected (taken) passes', async () => {
    const response = errorResponse(new Error('boom'));
    expect(response.status).toBe(500);
    expect(takeLogs('unexpected failure', 'error')).toHaveLength(1);
  });

  // An untaken `unexpected failure` fails the test in the setup's afterEach: `it.fails` passes only if it does.
  it.fails('a 500 the test did not expect fails the test', async () => {
    expect(errorResponse(new Error('boom')).status).toBe(500);
  });
});
