/**
 * Admin sign-in for deployments without Supabase Auth: the admin token is exchanged at /login for
 * a signed, httpOnly session cookie.
 *
 * The cookie is `v1.<expiresAtMs>.<nonce>.<hmac>`, signed with a key derived from the admin token,
 * so changing the token signs every session out. Verification is constant-time.
 */
import crypto from 'node:crypto';
import { resolveAdminToken } from './admin-token';
import type { Config } from '@/lib/config';
import { primaryKind } from '@/lib/db/resolve';
import { secretsEqual } from './secrets';

export const SESSION_COOKIE = 'omniops_session';
/** Sessions last a working day. @default 12 h */
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;

function sessionKey(adminToken: string): Buffer {
  return crypto.createHmac('sha256', adminToken).update('omniops-admin-session-v1').digest();
}

function sign(adminToken: string, payload: string): string {
  return crypto.createHmac('sha256', sessionKey(adminToken)).update(payload).digest('base64url');
}

export function issueSession(adminToken: string, now = Date.now()): string {
  const payload = `v1.${now + SESSION_TTL_MS}.${crypto.randomBytes(16).toString('base64url')}`;
  return `${payload}.${sign(adminToken, payload)}`;
}

export function verifySession(adminToken: string, cookie: string | undefined, now = Date.now()): boolean {
  if (!cookie) return false;
  const cut = cookie.lastIndexOf('.');
  if (cut < 0) return false;
  const payload = cookie.slice(0, cut);
  const [version, expires] = payload.split('.');
  if (version !== 'v1' || !(Number(expires) > now)) return false;
  return secretsEqual(cookie.slice(cut + 1), sign(adminToken, payload));
}

const globalForAdmin = globalThis as typeof globalThis & { __omniopsAdminToken?: { token: string | undefined } };

/**
 * The admin token this server accepts, or undefined when admin sign-in is disabled: with Supabase
 * configured (where staff use Supabase Auth) only an explicit OMNIOPS_ADMIN_TOKEN enables it;
 * otherwise the token from OMNIOPS_ADMIN_TOKEN or the data directory (generated on first use).
 */
export function serverAdminToken(config: Config): string | undefined {
  globalForAdmin.__omniopsAdminToken ??= {
    token:
      config.adminToken ?? (primaryKind(config) === 'supabase' ? undefined : resolveAdminToken(config).token),
  };
  return globalForAdmin.__omniopsAdminToken.token;
}

/** True when `cookie` is a valid admin session for this server. */
export function isAdminSession(config: Config, cookie: string | undefined): boolean {
  const token = serverAdminToken(config);
  return token !== undefined && verifySession(token, cookie);
}
