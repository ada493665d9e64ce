/**
 * `npm run test:mutation -- sql`: SQL mutants — bugs in the migrations' functions, grants and
 * policies that the TypeScript mutation run cannot make — each applied as one more migration (a
 * function redefined with the bug, or a grant/policy added) in a scratch copy of the project, with
 * its guarding test file run there; the mutant must make that file fail. The copy shares everything
 * with this checkout through symbolic links except `supabase/`, which loadMigrations
 * (lib/db/migrations.ts) reads from the working directory, so this checkout is never changed.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

interface SqlMutant {
  name: string;
  /** The guarding test file. */
  testFile: string;
  /** The migration added at the end: SQL text, or a function of the migrations to redefine with an edit. */
  sql: string | { file: string; fn: string; find: string; replace: string };
}

export const SQL_MUTANTS: SqlMutant[] = [
  {
    name: 'queue_claim waits for locked rows (for update without skip locked)',
    testFile: 'tests/integration/queue.test.ts',
    sql: { file: '20261122020000_message_queue_api.sql', fn: 'queue_claim', find: 'for update skip locked', replace: 'for update' },
  },
  {
    name: 'queue_retry ignores its customer',
    testFile: 'tests/integration/queue.test.ts',
    sql: {
      file: '20261122020000_message_queue_api.sql',
      fn: 'queue_retry',
      find: '       and (v_customer is null or q.customer_id = v_customer)\n',
      replace: '',
    },
  },
  {
    name: 'members may insert messages into any customer (grant + with check (true))',
    testFile: 'tests/security/rls-writes.test.ts',
    sql: 'grant insert on public.messages to authenticated;\ncreate policy messages_mutant on public.messages for insert to authenticated with check (true);\n',
  },
  {
    name: 'a write policy for members on scraped_pages (no grant)',
    testFile: 'tests/security/rls-writes.test.ts',
    sql: 'create policy scraped_pages_mutant on public.scraped_pages for all to authenticated using (true) with check (true);\n',
  },
];

/** `create function public.<fn>(jsonb) … $$;` of `source`, as `create or replace`, with `find` replaced. */
function redefined(source: string, fn: string, find: string, replace: string): string {
  const start = source.indexOf(`create function public.${fn}(`);
  if (start < 0) throw new Error(`no function ${fn}`);
  const bodyStart = source.indexOf('$$', start);
  const end = source.indexOf('$$;', bodyStart + 2) + 3;
  const text = source.slice(start, end);
  if (!text.includes(find)) throw new Error(`${fn}: "${find.trim()}" not found`);
  return text.replace('create function', 'create or replace function').replace(find, replace);
}

export function runSqlMutants(root = process.cwd()): boolean {
  let caught = 0;
  for (const mutant of SQL_MUTANTS) {
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'omniops-sql-mutant-'));
    try {
      for (const entry of fs.readdirSync(root)) {
        if (entry === 'supabase' || entry === '.git') continue;
        fs.symlinkSync(path.join(root, entry), path.join(scratch, entry));
      }
      fs.cpSync(path.join(root, 'supabase'), path.join(scratch, 'supabase'), { recursive: true });
      const sql =
        typeof mutant.sql === 'string'
          ? mutant.sql
          : redefined(fs.readFileSync(path.join(root, 'supabase/migrations', mutant.sql.file), 'utf8'), mutant.sql.fn, mutant.sql.find, mutant.sql.replace);
      const file = '99991231235959_sql_mutant.sql';
      fs.writeFileSync(path.join(scratch, 'supabase/migrations', file), `-- SQL mutant: ${mutant.name}\n${sql}\n`);
      fs.writeFileSync(path.join(scratch, 'supabase/rollbacks', file), '-- a scratch copy: never rolled back\n');
      const started = Date.now();
      const run = spawnSync('npx', ['vitest', 'run', mutant.testFile], { cwd: scratch, encoding: 'utf8' });
      const failedTests = /Tests\s+.*?(\d+) failed/.exec(run.stdout.replace(/\x1b\[[0-9;]*m/g, ''))?.[1];
      const killed = run.status !== 0 && failedTests !== undefined;
      if (killed) caught++;
      console.log(
        `[mutation] sql ${killed ? 'killed  ' : 'SURVIVED'} ${mutant.name} (${mutant.testFile}: ${failedTests ?? 0} failed, ${Math.round((Date.now() - started) / 1000)} s)`,
      );
      if (!killed && run.status !== 0) console.log(run.stdout.slice(-2000), run.stderr.slice(-2000));
    } finally {
      fs.rmSync(scratch, { recursive: true, force: true });
    }
  }
  console.log(`[mutation] sql: ${caught} of ${SQL_MUTANTS.length} mutants killed`);
  return caught === SQL_MUTANTS.length;
}
