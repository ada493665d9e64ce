import { afterEach, describe, expect, it } from 'vitest';
import { SESSION_TTL_MS, issueSession, serverAdminToken, verifySession } from '@/lib/auth/admin-session';
import { loadConfig } from '@/lib/config';
import { secretsEqual } from '@/lib/auth/secrets';
import { safeNextPath } from '@/lib/auth/redirect';

const token = 'admin-token-0123456789abcdef';

describe('admin session cookie', () => {
  it('verifies a session it issued until it expires', () => {
    const now = Date.parse('2026-11-22T10:00:00Z');
    const cookie = issueSession(token, now);
    expect(verifySession(token, cookie, now)).toBe(true);
    expect(verifySession(token, cookie, now + SESSION_TTL_MS - 1)).toBe(true);
    expect(verifySession(token, cookie, now + SESSION_TTL_MS)).toBe(false);
  });

  it('rejects tampering, other tokens and garbage', () => {
    const now = Date.now();
    const cookie = issueSession(token, now);
    const [version, expires, nonce, sig] = cookie.split('.') as [string, string, string, string];
    expect(verifySession(token, `${version}.${Number(expires) + 1e9}.${nonce}.${sig}`, now)).toBe(false);
    expect(verifySession(token, `${version}.${expires}.${nonce}x.${sig}`, now)).toBe(false);
    expect(verifySession(token, `${cookie.slice(0, -2)}AA`, now)).toBe(false);
    // A new admin token signs every existing session out.
    expect(verifySession('another-admin-token-000000', cookie, now)).toBe(false);
    for (const bad of [undefined, '', 'v1', 'v1.x.y.z', 'v2.9999999999999.n.s', '....']) {
      expect(verifySession(token, bad, now)).toBe(false);
    }
  });

  it('compares secrets of any length', () => {
    expect(secretsEqual(token, token)).toBe(true);
    expect(secretsEqual(token, `${token}x`)).toBe(false);
    expect(secretsEqual('', token)).toBe(false);
  });
});

describe('admin sign-in with Supabase configured', () => {
  const supabase = { NEXT_PUBLIC_SUPABASE_URL: 'https://project.supabase.co', NEXT_PUBLIC_SUPABASE_ANON_KEY: 'anon-key', SUPABASE_SERVICE_ROLE_KEY: 'service-role-key' };
  const forget = () => {
    (globalThis as { __omniopsAdminToken?: unknown }).__omniopsAdminToken = undefined;
  };
  afterEach(forget);

  it('is off unless OMNIOPS_ADMIN_TOKEN is set (staff use Supabase Auth; no token is generated)', () => {
    forget();
    expect(serverAdminToken(loadConfig({ ...supabase, OMNIOPS_DATA_DIR: '/nonexistent/omniops' }))).toBeUndefined();
    forget();
    expect(serverAdminToken(loadConfig({ ...supabase, OMNIOPS_ADMIN_TOKEN: token }))).toBe(token);
  });
});

describe('safeNextPath', () => {
  it('keeps same-site paths and refuses everything else', () => {
    expect(safeNextPath('/dashboard/queue?status=failed')).toBe('/dashboard/queue?status=failed');
    for (const bad of ['//evil.example', 'https://evil.example/', '/\\evil.example', 'dashboard', undefined, 42]) {
      expect(safeNextPath(bad)).toBe('/dashboard');
    }
  });
});
