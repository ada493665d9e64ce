import { describe, expect, it } from 'vitest';
import {
  contentHashKey,
  crawlJobKey,
  crawlResultsKey,
  domainDelayKey,
  domainRateKey,
  addressBucket,
  loginRateKey,
  widgetAddressDailyKey,
  widgetInlineBudgetKey,
  widgetIpRateKey,
  widgetSessionRateKey,
} from '@/lib/cache/keys';

const SECOND = 1000;

describe('cache keys', () => {
  it('follow the documented patterns with their TTLs (docs/cache.md)', () => {
    expect(crawlJobKey('job-123')).toEqual({ key: 'crawl:job:job-123', ttlMs: 3600 * SECOND });
    expect(crawlResultsKey('job-123')).toEqual({ key: 'crawl:results:job-123', ttlMs: 24 * 3600 * SECOND });
    expect(domainRateKey('Example.com')).toEqual({ key: 'rate:example.com', ttlMs: 60 * SECOND, limit: 60 });
    expect(domainDelayKey('example.com')).toEqual({ key: 'rate:delay:example.com', ttlMs: 300 * SECOND });
    expect(contentHashKey('c1', '9f86d081')).toEqual({ key: 'content:hash:c1:9f86d081', ttlMs: 24 * 3600 * SECOND });
  });

  it('give the widget a per-session and a per-IP window', () => {
    expect(widgetSessionRateKey('send', 'c1', 's1')).toEqual({ key: 'rate:widget:send:session:c1:s1', ttlMs: 60 * SECOND, limit: 100 });
    expect(widgetSessionRateKey('read', 'c1', 's1')).toEqual({ key: 'rate:widget:read:session:c1:s1', ttlMs: 60 * SECOND, limit: 60 });
    expect(widgetIpRateKey('send', '203.0.113.7')).toEqual({ key: 'rate:widget:send:ip:203.0.113.7', ttlMs: 60 * SECOND, limit: 300 });
    expect(widgetIpRateKey('read', '203.0.113.7')).toEqual({ key: 'rate:widget:read:ip:203.0.113.7', ttlMs: 60 * SECOND, limit: 1200 });
    expect(loginRateKey('203.0.113.7')).toEqual({ key: 'rate:login:203.0.113.7', ttlMs: 60 * SECOND, limit: 10 });
    expect(widgetAddressDailyKey('c1', '203.0.113.7', 50)).toEqual({ key: 'rate:widget:daily:c1:203.0.113.7', ttlMs: 24 * 3600 * SECOND, limit: 50 });
    expect(widgetInlineBudgetKey('c1')).toEqual({ key: 'rate:widget:inline:c1', ttlMs: 60 * SECOND, limit: 600 });
  });

  it('key IPv6 clients by their /64, which one subscriber controls whole', () => {
    expect(addressBucket('203.0.113.7')).toBe('203.0.113.7');
    expect(addressBucket('2001:db8:0:12:a:b:c:d')).toBe('2001:db8:0:12::/64');
    expect(addressBucket('2001:0DB8:0000:0012::1')).toBe('2001:db8:0:12::/64');
    expect(addressBucket('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(addressBucket('::1')).toBe('0:0:0:0::/64');
    expect(loginRateKey('2001:db8:0:12::5').key).toBe(loginRateKey('2001:db8:0:12:ffff::9').key);
    expect(widgetIpRateKey('send', '2001:db8:0:12::5').key).not.toBe(widgetIpRateKey('send', '2001:db8:0:13::5').key);
  });

  it('escape separators inside variable parts, so different inputs never share a key', () => {
    expect(widgetSessionRateKey('send', 'a:b', 'c').key).not.toBe(widgetSessionRateKey('send', 'a', 'b:c').key);
    expect(widgetIpRateKey('send', '::1').key).toBe('rate:widget:send:ip:0%3A0%3A0%3A0%3A%3A%2F64');
    // A domain called "delay:x" cannot reach the adaptive-delay key of "x".
    expect(domainRateKey('delay:x').key).not.toBe(domainDelayKey('x').key);
  });
});
