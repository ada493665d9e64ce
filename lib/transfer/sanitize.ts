/**
 * Secrets never leave in an export (docs/transfer.md): a credential anywhere in a row — a crawl job's
 * login, an API key in metadata, a column holding a password — is written as "[REDACTED]", decided
 * by the name of its key, at any depth of any column, so new columns and JSON shapes are covered
 * without an edit. The widget key (customers.public_key) is redacted unless explicitly included.
 */
import type { TenantTable } from './tables';

export const REDACTED = '[REDACTED]';

/** Words that make a key name a credential, matched against its words (camelCase, kebab and snake split). */
const SECRET_WORDS = new Set([
  'password', 'passwd', 'pwd', 'passphrase', 'secret', 'token', 'tokens', 'cookie', 'cookies',
  'credential', 'credentials', 'authorization', 'auth', 'bearer', 'apikey', 'signature', 'otp',
]);
/** Two-word names: `api_key`, `private-key`, `accessKey`, `client_secret` (secret alone is covered above). */
const SECRET_PAIRS = new Set(['api key', 'private key', 'access key', 'signing key', 'encryption key', 'session key']);

function words(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

/** Whether a key of that name holds a credential (`password`, `apiKey`, `X-Api-Key`, `set-cookie`, …). */
export function isSecretName(name: string): boolean {
  const w = words(name);
  return w.some((word, i) => SECRET_WORDS.has(word) || (i > 0 && SECRET_PAIRS.has(`${w[i - 1]} ${word}`)));
}

function scrub(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(scrub);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, v !== null && isSecretName(k) ? REDACTED : scrub(v)]),
    );
  }
  return value;
}

/** The row as it may leave the database: credentials redacted; secret columns too unless included. */
export function sanitizeRow(
  table: TenantTable,
  row: Record<string, unknown>,
  { includeSecrets }: { includeSecrets: boolean },
): Record<string, unknown> {
  const clean = scrub(row) as Record<string, unknown>;
  for (const column of table.secretColumns ?? []) {
    if (clean[column] !== null && clean[column] !== undefined) {
      clean[column] = includeSecrets ? row[column] : REDACTED;
    }
  }
  return clean;
}
