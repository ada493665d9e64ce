/**
 * The origin a client addressed, which `next start` does not put in `request.url` (it names the
 * host the server was started with): the widget recognises its own iframe's requests by it.
 */
import { describe, expect, it } from 'vitest';
import { requestOrigin } from '@/lib/http';
import { embeddingOrigin, widgetRequestOf } from '@/lib/widget';

describe('requestOrigin', () => {
  it('is the Host the client used, not the server’s own name', () => {
    expect(requestOrigin(new Headers({ host: '127.0.0.1:3727' }), 'http://localhost:3727/x')).toBe('http://127.0.0.1:3727');
  });
  it('follows the first X-Forwarded-Host / -Proto of a reverse proxy', () => {
    const headers = new Headers({ host: '10.0.0.5:3000', 'x-forwarded-host': 'chat.example.com, proxy.internal', 'x-forwarded-proto': 'https' });
    expect(requestOrigin(headers, 'http://localhost:3000/')).toBe('https://chat.example.com');
  });
  it('falls back to the request URL without any host header', () => {
    expect(requestOrigin(new Headers(), 'http://localhost:3000/api')).toBe('http://localhost:3000');
  });
});

describe('widget requests from our iframe', () => {
  it('are recognised on the address the browser used, and answer for the page embedding them', () => {
    const request = new Request('http://localhost:3727/api/widget/messages', {
      headers: { host: '127.0.0.1:3727', origin: 'http://127.0.0.1:3727', 'x-omniops-host-origin': 'https://shop.example' },
    });
    expect(embeddingOrigin(widgetRequestOf(request))).toBe('https://shop.example');
  });

  it('are keyed on the address the server appended (scripts/serve.ts), not on a forged first hop', () => {
    const request = new Request('http://localhost:3727/api/widget/messages', {
      headers: { 'x-forwarded-for': '192.0.2.66, 203.0.113.9', 'x-real-ip': '192.0.2.67' },
    });
    // TRUST_PROXY_HOPS is unset here: the socket address, the last entry.
    expect(widgetRequestOf(request).ip).toBe('203.0.113.9');
  });
});
