import { describe, expect, it } from 'vitest';
import { SESSION_TTL_MS, issueSession, verifySession } from '@/lib/auth/admin-session';
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

describe('safeNextPath', () => {
  it('keeps same-site paths and refuses everything else', () => {
    expect(safeNextPath('/dashboard/queue?status=failed')).toBe('/dashboard/queue?status=failed');
    for (const bad of ['//evil.example', 'https://evil.example/', '/\\evil.example', 'dashboard', undefined, 42]) {
      expect(safeNextPath(bad)).toBe('/dashboard');
    }
  });
});
