/** A post-login destination: a same-site path only (never `//host` or an absolute URL). */
export function safeNextPath(next: unknown, fallback = '/dashboard'): string {
  return typeof next === 'string' && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/\\')
    ? next
    : fallback;
}
