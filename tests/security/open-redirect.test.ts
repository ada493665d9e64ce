/**
 * Finding 5 of issue 14: an open redirect after sign-in. `next` travels from /login's query into a
 * hidden field and back to the login route, which redirects to it (relative Location). A value a
 * browser resolves to another host sends the freshly signed-in user there. Every value below is
 * resolved as a browser would (`new URL(location, origin)`) and must stay on the app's origin.
 */
import { describe, expect, it } from 'vitest';
import { POST as login } from '@/app/api/auth/login/route';
import { safeNextPath } from '@/lib/auth/redirect';
import { useAppEnv } from '../support/app';

const ORIGIN = 'http://127.0.0.1:3000';

/** Values that browsers (WHATWG URL parsing) may resolve off-site, or that are no path at all. */
const HOSTILE = [
  '//evil.example/',
  '///evil.example/',
  '/\\evil.example/',
  '\\\\evil.example/',
  '/\t/evil.example/',
  '/%09/evil.example/',
  '/\n/evil.example/',
  '/\r\n/evil.example/',
  '/ /evil.example/',
  '/\\/evil.example/',
  '/%5Cevil.example/',
  '/%5C%5Cevil.example/',
  '/%2F%2Fevil.example/',
  '/%2f/evil.example/',
  '\t//evil.example/',
  ' //evil.example/',
  'https://evil.example/',
  'HTTPS://evil.example/',
  'http:evil.example',
  'https:/\\evil.example/',
  'javascript:alert(1)',
  'JaVaScRiPt:alert(1)',
  '/javascript:alert(1)//',
  'data:text/html,<script>alert(1)</script>',
  'evil.example',
  '',
  '@evil.example',
  '/@evil.example',
  '/.//evil.example/',
  '/./%2e//evil.example/',
  '/..//evil.example/',
  '/\u0000//evil.example/',
  '/\u3002evil.example',
];

/** Where a browser lands for a relative Location `location` served from ORIGIN. */
const landing = (location: string) => new URL(location, ORIGIN);

describe('the post-sign-in destination (next)', () => {
  it.each(HOSTILE)('%j never leaves the app origin', (value) => {
    const next = safeNextPath(value);
    const url = landing(next);
    expect(url.origin, next).toBe(ORIGIN);
    // Not merely same-origin by accident: a path the app serves, starting with a single slash.
    expect(next).toMatch(/^\/(?![/\\])/);
    expect(next).not.toMatch(/[\u0000-\u001f\\]/);
  });

  it('keeps ordinary destinations, query and fragment included', () => {
    for (const ok of ['/dashboard', '/dashboard/queue?status=failed', '/dashboard/customers/abc#staff', '/dashboard/conversations?q=a%2Fb']) {
      expect(safeNextPath(ok)).toBe(ok);
    }
  });

  it('the login route redirects a form sign-in to the app origin only', async () => {
    const token = 'open-redirect-test-admin-token-0123456789';
    await useAppEnv({ OMNIOPS_ADMIN_TOKEN: token, DB_FALLBACK: 'off', REDIS_URL: '' });
    for (const next of ['/%09/evil.example/', '/\t/evil.example/', '/\\evil.example/', '//evil.example/', 'https://evil.example/']) {
      const response = await login(
        new Request(`${ORIGIN}/api/auth/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', host: '127.0.0.1:3000' },
          body: new URLSearchParams({ token, next }),
        }),
      );
      expect(response.status).toBe(303);
      const location = response.headers.get('location')!;
      expect(landing(location).origin, `${JSON.stringify(next)} → ${location}`).toBe(ORIGIN);
    }
  });
});
