/**
 * The bridge's wire protocol, checked with plain fetch (the contract suite covers it through the
 * real @upstash/redis client): auth, the three endpoints, error shapes and the base64 rule.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { deleteKeys, uniquePrefix } from '../support/cache';
import { startUpstashBridge, type UpstashBridge } from '../support/upstash-bridge';

const prefix = uniquePrefix('bridge');
let bridge: UpstashBridge;

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${bridge.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${bridge.token}`, ...headers },
    body: JSON.stringify(body),
  });
const b64 = (s: string) => Buffer.from(s).toString('base64');

beforeAll(async () => {
  bridge = await startUpstashBridge({ redisUrl: inject('redisUrl') });
});
afterAll(async () => {
  await bridge.close();
  await deleteKeys(inject('redisUrl'), prefix);
});

describe('Upstash bridge', () => {
  it('refuses a missing or wrong token with 401', async () => {
    const response = await fetch(bridge.url, { method: 'POST', headers: { authorization: 'Bearer nope' }, body: '["PING"]' });
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ error: 'Unauthorized' });
  });

  it('runs one command at / and answers {result}, or 400 {error} for an error reply', async () => {
    const k = `${prefix}a`;
    expect(await (await post('/', ['SET', k, 'hello', 'PX', 60_000])).json()).toEqual({ result: 'OK' });
    expect(await (await post('/', ['GET', k])).json()).toEqual({ result: 'hello' });
    const refused = await post('/', ['INCR', k]);
    expect(refused.status).toBe(400);
    expect(await refused.json()).toEqual({ error: 'ERR value is not an integer or out of range' });
  });

  it('base64-encodes strings (inside arrays too) but not a top-level OK, integers or null', async () => {
    const base64 = { 'upstash-encoding': 'base64' };
    const l = `${prefix}list`;
    expect(await (await post('/', ['SET', `${prefix}b`, 'é', 'PX', 60_000], base64)).json()).toEqual({ result: 'OK' });
    expect(await (await post('/', ['GET', `${prefix}b`], base64)).json()).toEqual({ result: b64('é') });
    expect(await (await post('/', ['GET', `${prefix}missing`], base64)).json()).toEqual({ result: null });
    expect(await (await post('/', ['RPUSH', l, 'OK', 'x'], base64)).json()).toEqual({ result: 2 });
    expect(await (await post('/', ['LRANGE', l, 0, -1], base64)).json()).toEqual({ result: [b64('OK'), b64('x')] });
  });

  it('answers a pipeline item by item, errors included', async () => {
    const k = `${prefix}p`;
    const response = await post('/pipeline', [['SET', k, 'text'], ['INCR', k], ['GET', k]]);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual([{ result: 'OK' }, { error: 'ERR value is not an integer or out of range' }, { result: 'text' }]);
  });

  it('runs /multi-exec as one transaction', async () => {
    const k = `${prefix}m`;
    const response = await post('/multi-exec', [['SET', k, '0', 'PX', 60_000, 'NX'], ['INCR', k], ['INCR', k]]);
    expect(await response.json()).toEqual([{ result: 'OK' }, { result: 1 }, { result: 2 }]);
  });
});
