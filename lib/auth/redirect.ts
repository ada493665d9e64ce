/**
 * Where the browser goes after signing in (`next`, from /login's query through its hidden field).
 *
 * A prefix check is not enough: browsers strip tabs and newlines from URLs, read `\` as `/`, and
 * collapse dot segments, so `/\t/evil.example/` or `/.//evil.example` become `//evil.example/`, a
 * different host (tests/security/open-redirect.test.ts). Instead `next` is resolved as a browser
 * would, against an origin of our own, and only a result on that origin is kept — re-serialised
 * (control characters and backslashes encoded or normalised), so what the Location says is
 * exactly what was checked.
 */
const BASE = 'http://omniops.invalid';

/** A post-login destination: a path of this site (with its query and fragment), else `fallback`. */
export function safeNextPath(next: unknown, fallback = '/dashboard'): string {
  if (typeof next !== 'string' || !next.startsWith('/')) return fallback;
  let url: URL;
  try {
    url = new URL(next, BASE);
  } catch {
    return fallback;
  }
  const path = `${url.pathname}${url.search}${url.hash}`;
  // A pathname starting `//` (from dot segments) would itself be read as a host in a Location.
  if (url.origin !== BASE || path.startsWith('//')) return fallback;
  return path;
}
