import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWidgetApi, retryAfterMs } from '@/lib/chat-widget/transport';

/** A real HTTP server answering POST /api/widget/messages as each test scripts it. */
let answer: (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void;
let server: http.Server;
let baseUrl: string;
const received: { method?: string; url?: string; headers: http.IncomingHttpHeaders; body: unknown }[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push({ method: req.method, url: req.url, headers: req.headers, body: body ? JSON.parse(body) : null });
      answer(req, res, body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const json = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
};
const messages = [{ type: 'chat' as const, key: 'k1', value: 'hello', timestamp: Date.parse('2026-11-22T10:00:00Z') }];
const api = (timeoutMs = 2000) => createWidgetApi({ baseUrl, key: 'pk_test', hostOrigin: 'https://shop.example', timeoutMs });

describe('widget transport', () => {
  it('sends the batch with the host origin and reads the acknowledgement', async () => {
    answer = (_req, res) => json(res, 200, { messages: [{ clientMessageId: 'k1', status: 'completed', position: 1 }] });
    expect(await api().send('session-1', messages)).toEqual({ kind: 'ok', acknowledged: ['k1'] });
    const last = received.at(-1)!;
    expect(last).toMatchObject({ method: 'POST', url: '/api/widget/messages' });
    expect(last.headers['content-type']).toBe('application/json');
    expect(last.headers['x-omniops-host-origin']).toBe('https://shop.example');
    expect(last.body).toEqual({
      key: 'pk_test',
      sessionId: 'session-1',
      messages: [{ clientMessageId: 'k1', text: 'hello', sentAt: '2026-11-22T10:00:00.000Z' }],
    });
  });

  it.each([
    [503, { 'retry-after': '5' }, 5000],
    [429, { 'retry-after': '2' }, 2000],
    [408, {}, undefined],
    [500, {}, undefined],
  ])('retries HTTP %i (Retry-After → %j)', async (status, headers, wait) => {
    answer = (_req, res) => json(res, status, { error: { code: 'x', message: `status ${status}` } }, headers);
    expect(await api().send('s', messages)).toEqual({ kind: 'retry', error: `status ${status}`, retryAfterMs: wait });
  });

  it.each([400, 403, 413])('rejects HTTP %i for good, with the server message', async (status) => {
    answer = (_req, res) => json(res, status, { error: { code: 'bad', message: 'messages.0.text: must not be empty' } });
    expect(await api().send('s', messages)).toEqual({ kind: 'reject', error: 'messages.0.text: must not be empty' });
  });

  it('treats a timeout as ambiguous and retryable', async () => {
    answer = () => {}; // never answers
    const outcome = await api(100).send('s', messages);
    expect(outcome).toMatchObject({ kind: 'retry', error: expect.stringContaining('timed out') });
  });

  it('treats an unreachable server as retryable', async () => {
    const closed = createWidgetApi({ baseUrl: 'http://127.0.0.1:1', key: 'pk', hostOrigin: null });
    expect(await closed.send('s', messages)).toEqual({ kind: 'retry', error: 'network unreachable' });
  });

  it('surfaces API refusals of other calls as WidgetApiError', async () => {
    answer = (_req, res) => json(res, 403, { error: { code: 'origin_not_allowed', message: 'not allowed here' } });
    await expect(api().session(null)).rejects.toMatchObject({ status: 403, code: 'origin_not_allowed', message: 'not allowed here' });
  });

  it('starts a session (new or resumed) and polls it, returning the server’s JSON', async () => {
    answer = (_req, res) => json(res, 200, { sessionId: 'session-9', messages: [] });
    expect(await api().session(null)).toEqual({ sessionId: 'session-9', messages: [] });
    expect(received.at(-1)).toMatchObject({ method: 'POST', url: '/api/widget/session', body: { key: 'pk_test' } });
    await api().session('session-9');
    expect(received.at(-1)).toMatchObject({ method: 'POST', url: '/api/widget/session', body: { key: 'pk_test', sessionId: 'session-9' } });

    answer = (_req, res) => json(res, 200, { messages: [{ position: 8 }] });
    expect(await api().poll('session-9', 7)).toEqual({ messages: [{ position: 8 }] });
    const polled = received.at(-1)!;
    expect(polled.method).toBe('GET');
    expect(Object.fromEntries(new URL(polled.url!, baseUrl).searchParams)).toEqual({ key: 'pk_test', sessionId: 'session-9', after: '7' });
    expect(new URL(polled.url!, baseUrl).pathname).toBe('/api/widget/messages');
  });

  it('reports a refusal whose body is not JSON by its status', async () => {
    answer = (_req, res) => {
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end('<h1>Bad gateway</h1>');
    };
    await expect(api().poll('s', 0)).rejects.toMatchObject({ name: 'WidgetApiError', status: 502, code: 'http_error', message: 'HTTP 502' });
    expect(await api().send('s', messages)).toEqual({ kind: 'retry', error: 'HTTP 502', retryAfterMs: undefined });
  });

  it('parses Retry-After as seconds or a date', () => {
    const now = Date.parse('2026-11-22T10:00:00Z');
    expect(retryAfterMs('7', now)).toBe(7000);
    expect(retryAfterMs('Sun, 22 Nov 2026 10:00:30 GMT', now)).toBe(30_000);
    expect(retryAfterMs('soon', now)).toBeUndefined();
    expect(retryAfterMs(null, now)).toBeUndefined();
    expect(retryAfterMs('999999', now)).toBe(3_600_000);
    // A negative delay is no delay (and never a negative wait); a past date is no delay either.
    expect(retryAfterMs('-5', now)).toBe(0);
    expect(retryAfterMs('Sun, 22 Nov 2026 09:59:00 GMT', now)).toBe(0);
    expect(retryAfterMs('0', now)).toBe(0);
  });
});
