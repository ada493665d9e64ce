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

/** Verdicts by key name: rows repeat the same few names, so each is split into words once. */
const verdicts = new Map<string, boolean>();
const MAX_VERDICTS = 10_000;

/** Whether a key of that name holds a credential (`password`, `apiKey`, `X-Api-Key`, `set-cookie`, …). */
export function isSecretName(name: string): boolean {
  let verdict = verdicts.get(name);
  if (verdict === undefined) {
    const w = words(name);
    verdict = w.some((word, i) => SECRET_WORDS.has(word) || (i > 0 && SECRET_PAIRS.has(`${w[i - 1]} ${word}`)));
    if (verdicts.size >= MAX_VERDICTS) verdicts.clear(); // bounded whatever keys the data holds
    verdicts.set(name, verdict);
  }
  return verdict;
}

/** Sets an own property, as JSON.parse makes them (`__proto__` included, which `=` would not). */
function setOwn(record: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
}

/** The value with credentials redacted: the same value when there is nothing to redact, else a copy. */
export function scrub(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const clean = scrub(value[i]);
      if (clean !== value[i]) (copy ??= value.slice())[i] = clean;
    }
    return copy ?? value;
  }
  const record = value as Record<string, unknown>;
  let copy: Record<string, unknown> | undefined;
  for (const key of Object.keys(record)) {
    const member = record[key];
    const clean = member !== null && isSecretName(key) ? REDACTED : scrub(member);
    if (clean !== member) setOwn((copy ??= { ...record }), key, clean);
  }
  return copy ?? record;
}

/** The row as it may leave the database: credentials redacted; secret columns too unless included. */
export function sanitizeRow(
  table: TenantTable,
  row: Record<string, unknown>,
  { includeSecrets }: { includeSecrets: boolean },
): Record<string, unknown> {
  let clean = scrub(row) as Record<string, unknown>;
  for (const column of table.secretColumns ?? []) {
    if (clean[column] === null || clean[column] === undefined) continue;
    const value = includeSecrets ? row[column] : REDACTED;
    if (clean[column] === value) continue;
    if (clean === row) clean = { ...row };
    setOwn(clean, column, value);
  }
  return clean;
}
