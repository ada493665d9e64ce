import { describe, expect, it } from 'vitest';
import { againstBaseline, parseOptions, summarize, type RoundResult } from '../../bench/http';

const round = (requestsPerSecond: number, p99: number, non2xx = 0): RoundResult => ({ requestsPerSecond, p50: p99 / 4, p99, non2xx, errors: 1, timeouts: 1 });

describe('npm run bench -- http: options and verdicts', () => {
  it('reads --name=N options over the defaults and leaves benchmark names alone', () => {
    expect(parseOptions(['http', '--rounds=1', '--seconds=3', '--poll-sessions=50'])).toEqual({
      rounds: 1,
      seconds: 3,
      warmup: 3,
      connections: 50,
      customers: 40,
      pollSessions: 50,
    });
    expect(parseOptions([]).rounds).toBe(5);
    expect(parseOptions(['--warmup=0']).warmup).toBe(0);
  });

  it('refuses unknown options and zero where at least 1 is needed', () => {
    expect(() => parseOptions(['--round=1'])).toThrow(/unknown option --round=1/);
    expect(() => parseOptions(['--rounds=x'])).toThrow(/unknown option/);
    expect(() => parseOptions(['--connections=0'])).toThrow(/at least 1/);
  });

  it('summarises rounds by their medians and sums the refusals', () => {
    expect(summarize([round(100, 40, 1), round(300, 10), round(200, 30, 2)])).toEqual({
      requestsPerSecond: 200,
      p50: 7.5,
      p99: 30,
      non2xx: 3,
      errors: 3,
      timeouts: 3,
    });
  });

  it('meets a goal only when both the throughput share and the p99 factor hold', () => {
    const trivial = summarize([round(1000, 100)]);
    expect(againstBaseline(summarize([round(600, 200)]), trivial, { minThroughputShare: 0.6, maxP99Factor: 2 })).toEqual({
      throughputShare: 0.6,
      p99Factor: 2,
      met: true,
    });
    expect(againstBaseline(summarize([round(599, 100)]), trivial, { minThroughputShare: 0.6, maxP99Factor: 2 }).met).toBe(false);
    expect(againstBaseline(summarize([round(900, 201)]), trivial, { minThroughputShare: 0.6, maxP99Factor: 2 }).met).toBe(false);
    // No p99 goal (the poll): throughput alone decides.
    expect(againstBaseline(summarize([round(700, 900)]), trivial, { minThroughputShare: 0.7 }).met).toBe(true);
  });
});
