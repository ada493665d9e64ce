/**
 * Finding 9 of issue 14: sign-in read an unbounded body (`request.json()` / `formData()`), so one
 * client could make the server buffer and parse megabytes per request — before any credential
 * check and for every address the rate limit has not caught yet. The body is now read through the
 * bounded reader of lib/http.ts: a declared oversize body is refused before reading, a streamed one
 * is cut off as soon as it passes the limit (413, the error shape of lib/http.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POST as login } from '@/app/api/auth/login/route';
import { resetApp, useAppEnv } from '../support/app';

const TOKEN = 'login-body-test-admin-token-0123456789';
const TEN_MB = 10 * 1024 * 1024;

/** A body stream of `total` bytes of `fill`, counting how much the server pulled. */
function countingStream(total: number, fill: string) {
  const chunk = new TextEncoder().encode(fill.repeat(64 * 1024).slice(0, 64 * 1024));
  const state = { pulled: 0 };
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (state.pulled >= total) return controller.close();
      state.pulled += chunk.byteLength;
      controller.enqueue(chunk);
    },
  });
  return { stream, state };
}

const post = (headers: Record<string, string>, body: BodyInit) =>
  login(new Request('http://127.0.0.1:3000/api/auth/login', { method: 'POST', headers: { host: '127.0.0.1:3000', ...headers }, body, duplex: 'half' } as RequestInit));

describe('sign-in reads a bounded body', () => {
  beforeAll(async () => {
    await useAppEnv({ OMNIOPS_ADMIN_TOKEN: TOKEN, DB_FALLBACK: 'off' });
  });
  afterAll(async () => {
    await resetApp();
  });

  it.each([
    ['JSON', 'application/json', ' '],
    ['a form', 'application/x-www-form-urlencoded', 'a'],
  ])('a streamed 10 MB %s body is cut off early: 413, not read whole', async (_label, type, fill) => {
    const { stream, state } = countingStream(TEN_MB, fill);
    const response = await post({ 'content-type': type, 'x-forwarded-for': `203.0.113.${type.length}` }, stream);
    expect(response.status).toBe(413);
    expect(await response.json()).toEqual({ error: { code: 'body_too_large', message: expect.stringMatching(/^body: at most \d+ bytes$/) } });
    expect(state.pulled).toBeLessThan(1024 * 1024);
  });

  it('a declared 10 MB body is refused before reading', async () => {
    const { stream, state } = countingStream(TEN_MB, ' ');
    const response = await post({ 'content-type': 'application/json', 'content-length': String(TEN_MB), 'x-forwarded-for': '203.0.113.50' }, stream);
    expect(response.status).toBe(413);
    expect(state.pulled).toBeLessThanOrEqual(2 * 64 * 1024);
  });

  it('an ordinary sign-in still works, as JSON and as the /login form', async () => {
    const json = await post({ 'content-type': 'application/json', 'x-forwarded-for': '203.0.113.60' }, JSON.stringify({ token: TOKEN }));
    expect(json.status).toBe(200);
    expect(json.headers.get('set-cookie')).toMatch(/^omniops_session=/);
    const form = await post({ 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': '203.0.113.61' }, new URLSearchParams({ token: TOKEN, next: '/dashboard/queue' }));
    expect(form.status).toBe(303);
    expect(form.headers.get('location')).toBe('/dashboard/queue');
    const wrong = await post({ 'content-type': 'application/json', 'x-forwarded-for': '203.0.113.62' }, '{"token":');
    expect(wrong.status).toBe(400);
  });
});
