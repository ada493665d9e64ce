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
  /**
   * The migration added at the end: SQL text, or a function to redefine with an edit — of its
   * current definition, as supabase/schemas/ holds it (docs/database.md), so that the mutant differs
   * from what runs by the edit alone.
   */
  sql: string | { fn: string; find: string; replace: string };
}

export const SQL_MUTANTS: SqlMutant[] = [
  {
    name: 'queue_claim waits for locked rows (for update without skip locked)',
    testFile: 'tests/integration/queue.test.ts',
    sql: { fn: 'queue_claim', find: 'for update skip locked', replace: 'for update' },
  },
  {
    name: 'queue_retry ignores its customer',
    testFile: 'tests/integration/queue.test.ts',
    sql: {
      fn: 'queue_retry',
      find: '       and (v_customer is null or q.customer_id = v_customer)\n',
      replace: '',
    },
  },
  {
    name: 'queue_claim and queue_deliver keep the plans a connection made while the queue was small',
    testFile: 'tests/integration/queue-plans.test.ts',
    sql: 'alter function public.queue_claim(jsonb) reset plan_cache_mode;\nalter function public.queue_deliver(jsonb) reset plan_cache_mode;\n',
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

/** `public.<fn>(jsonb)` as supabase/schemas/ defines it now, as `create or replace`, with `find` replaced. */
function redefined(root: string, fn: string, find: string, replace: string): string {
  const dir = path.join(root, 'supabase/schemas');
  for (const name of fs.readdirSync(dir).sort()) {
    const source = fs.readFileSync(path.join(dir, name), 'utf8');
    const start = source.indexOf(`CREATE FUNCTION public.${fn}(`);
    if (start < 0) continue;
    const tag = /AS (\$[A-Za-z_]*\$)/.exec(source.slice(start))?.[1];
    if (!tag) throw new Error(`${fn}: no body in ${name}`);
    const bodyStart = source.indexOf(`AS ${tag}`, start) + 3 + tag.length;
    const end = source.indexOf(`${tag};`, bodyStart) + tag.length + 1;
    const text = source.slice(start, end);
    if (!text.includes(find)) throw new Error(`${fn}: "${find.trim()}" not found`);
    return text.replace('CREATE FUNCTION', 'CREATE OR REPLACE FUNCTION').replace(find, replace);
  }
  throw new Error(`no function ${fn} in supabase/schemas/`);
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
          : redefined(root, mutant.sql.fn, mutant.sql.find, mutant.sql.replace);
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
