import { describe, expect, it } from 'vitest';
import {
  contentHashKey,
  crawlJobKey,
  crawlResultsKey,
  domainDelayKey,
  domainRateKey,
  loginRateKey,
  widgetIpRateKey,
  widgetSessionRateKey,
} from '@/lib/cache/keys';

const SECOND = 1000;

describe('cache keys', () => {
  it('follow the patterns of seed 001 with their TTLs', () => {
    expect(crawlJobKey('job-123')).toEqual({ key: 'crawl:job:job-123', ttlMs: 3600 * SECOND });
    expect(crawlResultsKey('job-123')).toEqual({ key: 'crawl:results:job-123', ttlMs: 24 * 3600 * SECOND });
    expect(domainRateKey('Example.com')).toEqual({ key: 'rate:example.com', ttlMs: 60 * SECOND, limit: 60 });
    expect(domainDelayKey('example.com')).toEqual({ key: 'rate:delay:example.com', ttlMs: 300 * SECOND });
    expect(contentHashKey('c1', '9f86d081')).toEqual({ key: 'content:hash:c1:9f86d081', ttlMs: 24 * 3600 * SECOND });
  });

  it('give the widget a per-session and a per-IP window', () => {
    expect(widgetSessionRateKey('send', 'c1', 's1')).toEqual({ key: 'rate:widget:send:session:c1:s1', ttlMs: 60 * SECOND, limit: 30 });
    expect(widgetSessionRateKey('read', 'c1', 's1')).toEqual({ key: 'rate:widget:read:session:c1:s1', ttlMs: 60 * SECOND, limit: 60 });
    expect(widgetIpRateKey('send', '203.0.113.7')).toEqual({ key: 'rate:widget:send:ip:203.0.113.7', ttlMs: 60 * SECOND, limit: 300 });
    expect(widgetIpRateKey('read', '203.0.113.7')).toEqual({ key: 'rate:widget:read:ip:203.0.113.7', ttlMs: 60 * SECOND, limit: 1200 });
    expect(loginRateKey('203.0.113.7')).toEqual({ key: 'rate:login:203.0.113.7', ttlMs: 60 * SECOND, limit: 10 });
  });

  it('escape separators inside variable parts, so different inputs never share a key', () => {
    expect(widgetSessionRateKey('send', 'a:b', 'c').key).not.toBe(widgetSessionRateKey('send', 'a', 'b:c').key);
    expect(widgetIpRateKey('send', '::1').key).toBe('rate:widget:send:ip:%3A%3A1');
    // A domain called "delay:x" cannot reach the adaptive-delay key of "x".
    expect(domainRateKey('delay:x').key).not.toBe(domainDelayKey('x').key);
  });
});
