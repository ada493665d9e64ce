/**
 * Attack: forging the client's address. Per-address limits (sign-in, widget) key on it, so a client
 * that picks its own address with `X-Forwarded-For` gets a fresh bucket on every request.
 *
 * The server (scripts/serve.ts) hands the app `X-Forwarded-For` ending in the socket address; the
 * requests here carry exactly that (`<whatever the client sent>, 127.0.0.1`), and a real socket
 * checks the server's rewrite itself.
 */
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { POST as login } from '@/app/api/auth/login/route';
import { clientIp, withSocketAddress } from '@/lib/http';
import { resetApp, useAppEnv } from '../support/app';

const randomAddress = () => `198.51.100.${crypto.randomInt(1, 255)}, 203.0.113.${crypto.randomInt(1, 255)}`;

/** A sign-in attempt from socket 127.0.0.1 as the server passes it on, with a forged list before it. */
const attempt = (forged: string) =>
  login(
    new Request('http://127.0.0.1:3000/api/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': `${forged}, 127.0.0.1`, 'x-real-ip': forged.split(',')[0]! },
      body: JSON.stringify({ token: 'a wrong guess of the token' }),
    }),
  );

afterAll(resetApp);

describe('sign-in guessing with a forged X-Forwarded-For', () => {
  it('is limited per socket address: the 11th guess in a minute is refused whatever the header says', async () => {
    await useAppEnv({ NODE_ENV: 'test', OMNIOPS_ADMIN_TOKEN: 'the-admin-token-of-this-test' });
    const statuses: number[] = [];
    for (let i = 0; i < 15; i++) statuses.push((await attempt(randomAddress())).status);
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401));
    expect(statuses.slice(10)).toEqual(Array(5).fill(429));
  });

  it('trusts exactly TRUST_PROXY_HOPS proxies: behind one, the address that proxy saw', async () => {
    await useAppEnv({ NODE_ENV: 'test', OMNIOPS_ADMIN_TOKEN: 'the-admin-token-of-this-test', TRUST_PROXY_HOPS: '1' });
    // The client forges 192.0.2.1; the proxy appends the address it saw (198.51.100.9); the server
    // appends the proxy's socket address. The forged entry is never the key.
    const request = (xff: string) => new Request('http://x/', { headers: { 'x-forwarded-for': xff } });
    expect(clientIp(request('192.0.2.1, 198.51.100.9, 10.0.0.2'))).toBe('198.51.100.9');
    // A request that reached the server directly, bypassing the proxy: its socket.
    expect(clientIp(request('10.0.0.7'))).toBe('10.0.0.7');
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) statuses.push((await attempt(`${randomAddress()}, 198.51.100.9`)).status);
    expect(statuses.at(-1)).toBe(429);
  });

  it('on Vercel, reads only Vercel’s own header', async () => {
    await useAppEnv({ NODE_ENV: 'test', VERCEL: '1' });
    const headers = { 'x-forwarded-for': '192.0.2.1', 'x-vercel-forwarded-for': '198.51.100.20' };
    expect(clientIp(new Request('http://x/', { headers }))).toBe('198.51.100.20');
    expect(clientIp(new Request('http://x/', { headers: { 'x-real-ip': '198.51.100.21' } }))).toBe('198.51.100.21');
  });

  it('never keys on garbage: an unparseable entry is "unknown"', () => {
    const options = { trustProxyHops: 0, vercel: false };
    expect(clientIp(new Request('http://x/', { headers: { 'x-forwarded-for': 'a, <script>' } }), options)).toBe('unknown');
    expect(clientIp(new Request('http://x/', { headers: { 'x-forwarded-for': '::ffff:127.0.0.1' } }), options)).toBe('127.0.0.1');
    expect(clientIp(new Request('http://x/'), options)).toBe('unknown');
  });
});

describe('the server’s rewrite (scripts/serve.ts), on a real socket', () => {
  it('ends X-Forwarded-For with the socket address, whatever the client sent', async () => {
    const seen: (string | undefined)[] = [];
    const server = http.createServer(
      withSocketAddress((req, res: http.ServerResponse) => {
        seen.push(req.headers['x-forwarded-for'] as string | undefined);
        res.end();
      }),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      await fetch(`http://127.0.0.1:${port}/`, { headers: { 'x-forwarded-for': '203.0.113.5' } });
      await fetch(`http://127.0.0.1:${port}/`);
    } finally {
      server.close();
    }
    expect(seen).toEqual(['203.0.113.5, 127.0.0.1', '127.0.0.1']);
    const options = { trustProxyHops: 0, vercel: false };
    for (const xff of seen) expect(clientIp(new Request('http://x/', { headers: { 'x-forwarded-for': xff! } }), options)).toBe('127.0.0.1');
  });
});
