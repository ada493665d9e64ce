import crypto from 'node:crypto';

/**
 * Constant-time equality of two secrets of any length: both are hashed to equal-length digests
 * first, so the time taken says nothing about the expected secret, not even its length.
 */
export function secretsEqual(given: string, expected: string): boolean {
  const a = crypto.createHash('sha256').update(given).digest();
  const b = crypto.createHash('sha256').update(expected).digest();
  return crypto.timingSafeEqual(a, b);
}
