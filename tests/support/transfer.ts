/**
 * Transfer test data: a customer with rows in every tenant table (tricky values included: unicode,
 * nested JSON, nulls, microsecond timestamps, credentials in crawl configs and metadata), an
 * independent canonical dump of a customer read with plain SQL (not with the code under test), and
 * a rewriter that edits a transfer file and re-signs it (for files that are intact but wrong).
 */
import fs from 'node:fs';
import { expect } from 'vitest';
import { createCustomer } from '@/lib/customers';
import type { Db, SqlAdmin } from '@/lib/db/types';
import { DataDigest } from '@/lib/transfer/digest';
import { TransferError } from '@/lib/transfer/errors';
import { line, type Footer, type Header, type RowLine } from '@/lib/transfer/format';
import { TENANT_TABLES } from '@/lib/transfer/tables';
import crypto from 'node:crypto';

/** Values that must never appear in an export. */
export const SECRETS = {
  password: 'hunter2-pw-5f1d0c',
  apiKey: 'sk_live_9a8b7c6d5e4f3a2b',
  authorization: 'Bearer eyJhbGciOiJIUzI1NiJ9.secret-token-77',
  cookie: 'sid=0ddba11cafe',
  accessToken: 'ya29.access-token-31415',
};

/** A customer with rows in every tenant table; returns its id. */
export async function seedTenant(db: Db, admin: SqlAdmin, name = 'Transfer Co'): Promise<string> {
  const { customer } = await createCustomer(db, {
    name,
    plan: 'pro',
    allowedOrigins: ['https://shop.example', 'http://localhost:3000'],
    retentionDays: 30,
  });
  const c = customer.id;
  await admin.transaction(async (tx) => {
    await tx.query(
      `insert into customer_members (customer_id, user_id, role) values
         ($1, '00000000-0000-4000-8000-0000000000a1', 'owner'), ($1, '00000000-0000-4000-8000-0000000000a2', 'agent')`,
      [c],
    );
    await tx.query(
      `insert into conversations (customer_id, session_id, status, metadata, last_message_at)
       select $1, 'session-' || i, (array['open', 'needs_staff', 'closed'])[1 + i % 3],
              jsonb_build_object('page', '/p/' || i, 'nested', jsonb_build_object('n', i, 'list', jsonb_build_array(1, 'two', null))),
              case when i % 2 = 0 then now() - make_interval(mins => i) end
         from generate_series(1, 3) i`,
      [c],
    );
    await tx.query(
      `insert into messages (conversation_id, customer_id, role, content, client_message_id, metadata, created_at)
       select cv.id, $1, (array['visitor', 'bot', 'staff', 'system'])[1 + i % 4],
              'Grüße 👋 ' || i || E' "quoted" \\\\ line\\nbreak', case when i % 5 = 0 then null else 'cm-' || i end,
              case when i % 7 = 0 then jsonb_build_object('apiKey', $2::text, 'lang', 'de') else '{}'::jsonb end,
              now() - make_interval(secs => i * 1.000123)
         from conversations cv, generate_series(1, 9) i where cv.customer_id = $1`,
      [c, SECRETS.apiKey],
    );
    await tx.query(
      `insert into message_queue (customer_id, session_id, client_message_id, message_data, status, retry_count,
                                  locked_until, last_error, processed_at, expires_at)
       values ($1, 'session-1', 'q-pending', '{"text":"pending hello"}', 'pending', 0, null, null, null, null),
              ($1, 'session-1', 'q-retry', '{"text":"retrying"}', 'pending', 2, null, 'responder timed out', null, null),
              ($1, 'session-2', 'q-processing', '{"text":"in flight"}', 'processing', 0, now() + interval '30 seconds', null, null, null),
              ($1, 'session-2', 'q-dead', '{"text":"dead letter"}', 'failed', 5, null, 'gave up', now(), null),
              ($1, 'session-3', 'q-done', '{"text":"delivered"}', 'completed', 0, null, null, now(), now() + interval '1 day')`,
      [c],
    );
    await tx.query(
      `insert into scrape_jobs (job_id, customer_id, domain, job_type, status, config, data, attempts, started_at, completed_at)
       values ('job-' || $2, $1, 'shop.example', 'full_crawl', 'completed',
               jsonb_build_object('depth', 2, 'auth', jsonb_build_object('username', 'crawler', 'password', $3::text),
                                  'headers', jsonb_build_object('Authorization', $4::text, 'Cookie', $5::text, 'Accept', 'text/html')),
               '{"pages": 3}', 1, now() - interval '1 hour', now()),
              ('job2-' || $2, $1, 'shop.example', 'sitemap', 'failed', jsonb_build_object('access_token', $6::text), '{}', 3, now(), null)`,
      [c, c.slice(0, 8), SECRETS.password, SECRETS.authorization, SECRETS.cookie, SECRETS.accessToken],
    );
    await tx.query(
      `insert into scrape_job_results (job_id, customer_id, url, status, http_status, processing_time_ms, bytes, content_hash, page_data, created_at)
       select 'job-' || $2, $1, 'https://shop.example/p/' || i, (array['success', 'failed', 'skipped'])[1 + i % 3],
              case when i % 3 = 1 then 500 else 200 end, case when i % 4 = 0 then null else 100 + i end, 1000 * i,
              md5(i::text), jsonb_build_object('title', 'Page ' || i), now() - make_interval(secs => 60 - i)
         from generate_series(1, 5) i`,
      [c, c.slice(0, 8)],
    );
    await tx.query(
      `insert into scrape_job_results (job_id, customer_id, url, status, created_at)
       values ('job2-' || $2, $1, 'https://shop.example/sitemap.xml', 'failed', now())`,
      [c, c.slice(0, 8)],
    );
    await tx.query(
      `insert into scraped_pages (customer_id, url, title, headings, content, content_hash, job_id)
       select $1, 'https://shop.example/p/' || i, 'Page ' || i, 'Heading ' || i, repeat('Lorem ipsum ' || i || ' ', 50), md5(i::text), 'job-' || $2
         from generate_series(1, 2) i`,
      [c, c.slice(0, 8)],
    );
    await tx.query(
      `insert into usage (customer_id, month_year, messages, crawls, exports) values ($1, '2026-10', 120, 4, 1), ($1, '2026-11', 33, 1, 0)`,
      [c],
    );
  });
  return c;
}

/**
 * Every row of the customer in every tenant table, read with plain SQL (generated columns
 * included), as sorted canonical JSON per table. Left out: the results' surrogate id and the
 * stats' updated_at (the target's own), and what `omitKey` names.
 */
export async function canonicalDump(admin: SqlAdmin, customerId: string, { omitKey = false } = {}): Promise<Record<string, string[]>> {
  const dump: Record<string, string[]> = {};
  await admin.transaction(async (tx) => {
    await tx.exec(`set local timezone = 'UTC'`);
    for (const { name } of TENANT_TABLES) {
      const drop = ['scrape_job_results:id', 'scrape_job_stats:updated_at', ...(omitKey ? ['customers:public_key'] : [])]
        .filter((d) => d.startsWith(`${name}:`))
        .map((d) => d.split(':')[1]!);
      const column = name === 'customers' ? 'id' : 'customer_id';
      const skip = name === 'message_queue' ? ` and status <> 'completed'` : '';
      const rows = await tx.query<{ j: Record<string, unknown> }>(
        `select to_jsonb(t) - $2::text[] as j from ${name} t where ${column} = $1${skip}`,
        [customerId, drop],
      );
      dump[name] = rows.map((r) => JSON.stringify(sortKeys(r.j))).sort();
    }
  });
  return dump;
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, sortKeys(v)]));
  }
  return value;
}

/**
 * Rewrite a transfer file with `mutate` applied to each row line (return null to drop it) and fresh,
 * correct checksums: a file that passes every integrity check but holds what the test wants.
 */
export function rewriteFile(file: string, out: string, mutate: (line: RowLine) => RowLine | null): void {
  const lines = fs.readFileSync(file, 'utf8').trimEnd().split('\n');
  const header = JSON.parse(lines[0]!) as Header;
  const digest = new DataDigest(header.customerId);
  const hash = crypto.createHash('sha256');
  const output: string[] = [line(header)];
  hash.update(output[0]!);
  for (const text of lines.slice(1, -1)) {
    const next = mutate(JSON.parse(text) as RowLine);
    if (!next) continue;
    digest.add(next.table, next.row);
    const l = line(next);
    hash.update(l);
    output.push(l);
  }
  const footer: Footer = { type: 'footer', ...digest.summary(), fileSha256: hash.digest('hex') };
  output.push(line(footer));
  fs.writeFileSync(out, output.join(''));
}

/** The rejection of `promise` as a TransferError (fails the test if it resolves or throws anything else). */
export async function transferFailure(promise: Promise<unknown>): Promise<TransferError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TransferError);
  return error as TransferError;
}
