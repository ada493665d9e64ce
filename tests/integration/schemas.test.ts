/**
 * `supabase/schemas/` (the current definition of everything, one file per capability) against
 * `supabase/migrations/` (the applied history): one database built by the migration runner, one by
 * applying the schema files in file-name order — on the run's PostgreSQL server and on PGlite; their catalogs must
 * be identical — functions (signature, result, body, security, volatility, settings), tables and
 * columns, constraints, indexes, triggers, sequences, grants, default privileges, row-level security
 * and policies, comments, and the rows the migrations insert. A difference is listed by object.
 * The catalog is read here with its own queries, not with the generator (scripts/schemas.ts).
 * When this fails after a new migration: `npm run db:schemas` (docs/database.md).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMigrations, migrate } from '@/lib/db/migrations';
import type { SqlAdmin, SqlTx } from '@/lib/db/types';
import { emptySqlBackends, type EmptySqlBackend } from '../support/databases';

const SCHEMAS_DIR = path.join(process.cwd(), 'supabase', 'schemas');
const schemaFiles = fs
  .readdirSync(SCHEMAS_DIR)
  .filter((f) => f.endsWith('.sql'))
  .sort();
const IN_SCOPE = `('public', 'private', 'auth')`;
/** An ACL as its sorted items; a missing one (NULL: the defaults) as the defaults it stands for. */
const sortedAcl = (acl: string, defaults?: string) =>
  `array(select x::text from unnest(${defaults ? `coalesce(${acl}, ${defaults})` : acl}) x order by 1)::text`;

/**
 * Every object of the application's schemas, as `kind name` → its definition. Read with an empty
 * search_path, so that every name in the definitions is schema-qualified the same way.
 */
function catalog(admin: SqlAdmin): Promise<Map<string, string>> {
  return admin.transaction(async (tx) => {
    await tx.exec(`set local search_path = ''`);
    return catalogIn(tx);
  });
}

async function catalogIn(admin: SqlTx): Promise<Map<string, string>> {
  const rows = await admin.query<{ key: string; def: string }>(`
    select 'schema ' || n.nspname as key,
           concat_ws(' | ', 'acl=' || ${sortedAcl('n.nspacl', `acldefault('n', n.nspowner)`)}, 'comment=' || obj_description(n.oid, 'pg_namespace')) as def
      from pg_catalog.pg_namespace n where n.nspname in ${IN_SCOPE}
    union all
    select 'relation ' || c.oid::regclass::text,
           concat_ws(' | ', 'kind=' || c.relkind::text, 'persistence=' || c.relpersistence::text,
                     'rls=' || c.relrowsecurity, 'forced=' || c.relforcerowsecurity, 'options=' || c.reloptions::text,
                     'acl=' || ${sortedAcl('c.relacl', `acldefault(case c.relkind when 'S' then 's' else 'r' end::"char", c.relowner)`)}, 'comment=' || obj_description(c.oid, 'pg_class'))
      from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
     where n.nspname in ${IN_SCOPE} and c.relkind <> 'i'
    union all
    select 'column ' || a.attrelid::regclass::text || '.' || a.attname,
           concat_ws(' | ', 'position=' || rank() over (partition by a.attrelid order by a.attnum),
                     'type=' || format_type(a.atttypid, a.atttypmod), 'not null=' || a.attnotnull,
                     'default=' || pg_get_expr(d.adbin, d.adrelid), 'identity=' || nullif(a.attidentity::text, ''),
                     'generated=' || nullif(a.attgenerated::text, ''), 'collation=' || nullif(a.attcollation, 0)::regcollation::text,
                     'acl=' || ${sortedAcl('a.attacl')}, 'comment=' || col_description(a.attrelid, a.attnum))
      from pg_catalog.pg_attribute a
      join pg_catalog.pg_class c on c.oid = a.attrelid join pg_catalog.pg_namespace n on n.oid = c.relnamespace
      left join pg_catalog.pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
     where n.nspname in ${IN_SCOPE} and c.relkind in ('r', 'p', 'v', 'm', 'f', 'c') and a.attnum > 0 and not a.attisdropped
    union all
    select 'constraint ' || c.conrelid::regclass::text || '.' || c.conname,
           concat_ws(' | ', pg_get_constraintdef(c.oid), 'deferrable=' || c.condeferrable, 'deferred=' || c.condeferred,
                     'comment=' || obj_description(c.oid, 'pg_constraint'))
      from pg_catalog.pg_constraint c join pg_catalog.pg_namespace n on n.oid = c.connamespace
     where n.nspname in ${IN_SCOPE}
    union all
    select 'index ' || i.indexrelid::regclass::text,
           concat_ws(' | ', pg_get_indexdef(i.indexrelid), 'comment=' || obj_description(i.indexrelid, 'pg_class'))
      from pg_catalog.pg_index i join pg_catalog.pg_class c on c.oid = i.indexrelid
      join pg_catalog.pg_namespace n on n.oid = c.relnamespace
     where n.nspname in ${IN_SCOPE}
    union all
    select 'trigger ' || t.tgrelid::regclass::text || '.' || t.tgname,
           concat_ws(' | ', pg_get_triggerdef(t.oid), 'enabled=' || t.tgenabled::text)
      from pg_catalog.pg_trigger t join pg_catalog.pg_class c on c.oid = t.tgrelid
      join pg_catalog.pg_namespace n on n.oid = c.relnamespace
     where not t.tgisinternal and n.nspname in ${IN_SCOPE}
    union all
    select 'policy ' || p.schemaname || '.' || p.tablename || '.' || p.policyname,
           concat_ws(' | ', p.permissive, p.cmd, 'roles=' || p.roles::text, 'using=' || p.qual, 'check=' || p.with_check)
      from pg_catalog.pg_policies p where p.schemaname in ${IN_SCOPE}
    union all
    select 'function ' || n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')',
           concat_ws(E'\\n', pg_get_functiondef(p.oid), 'acl=' || ${sortedAcl('p.proacl', `acldefault('f', p.proowner)`)},
                     'comment=' || obj_description(p.oid, 'pg_proc'))
      from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
     where n.nspname in ${IN_SCOPE} and p.prokind in ('f', 'p')
    union all
    select 'sequence ' || s.seqrelid::regclass::text,
           concat_ws(' | ', format_type(s.seqtypid, null), s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcache, s.seqcycle,
                     'owned by=' || (select d.refobjid::regclass::text || '.' || d.refobjsubid from pg_catalog.pg_depend d
                                      where d.classid = 'pg_class'::regclass and d.objid = s.seqrelid and d.deptype in ('a', 'i')
                                        and d.refclassid = 'pg_class'::regclass))
      from pg_catalog.pg_sequence s join pg_catalog.pg_class c on c.oid = s.seqrelid
      join pg_catalog.pg_namespace n on n.oid = c.relnamespace
     where n.nspname in ${IN_SCOPE}
    union all
    select 'type ' || t.oid::regtype::text, concat_ws(' | ', t.typtype::text, format_type(t.typbasetype, t.typtypmod),
           (select string_agg(e.enumlabel, ',' order by e.enumsortorder) from pg_catalog.pg_enum e where e.enumtypid = t.oid))
      from pg_catalog.pg_type t join pg_catalog.pg_namespace n on n.oid = t.typnamespace
     where n.nspname in ${IN_SCOPE} and t.typtype in ('e', 'd')
    union all
    select 'default privileges ' || coalesce(n.nspname, '(all schemas)') || ' ' || d.defaclobjtype::text || ' for ' || d.defaclrole::regrole::text,
           ${sortedAcl('d.defaclacl')}
      from pg_catalog.pg_default_acl d left join pg_catalog.pg_namespace n on n.oid = d.defaclnamespace
    union all
    select 'extension ' || e.extname, e.extversion || ' in ' || e.extnamespace::regnamespace::text
      from pg_catalog.pg_extension e`);
  const items = new Map(rows.map((r) => [r.key, r.def]));

  // The rows the migrations insert (private.member_rpcs, plan_limits, …), without the columns that
  // record when a row was written (default now()).
  const tables = await admin.query<{ name: string; times: string[] }>(`
    select c.oid::regclass::text as name,
           array(select a.attname::text from pg_catalog.pg_attribute a join pg_catalog.pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
                  where a.attrelid = c.oid and pg_get_expr(d.adbin, d.adrelid) = 'now()') as times
      from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
     where n.nspname in ('public', 'private') and c.relkind in ('r', 'p')`);
  for (const t of tables) {
    const [data] = await admin.query<{ rows: string }>(
      `select coalesce(string_agg(r, E'\\n' order by r), '(empty)') as rows from (select (to_jsonb(t) - $1::text[])::text as r from ${t.name} t) s`,
      [t.times],
    );
    items.set(`rows of ${t.name}`, data!.rows);
  }
  return items;
}

/** What differs between the two catalogs, one readable entry per object. */
function differences(fromMigrations: Map<string, string>, fromSchemas: Map<string, string>): string[] {
  const out: string[] = [];
  for (const key of [...new Set([...fromMigrations.keys(), ...fromSchemas.keys()])].sort()) {
    const a = fromMigrations.get(key);
    const b = fromSchemas.get(key);
    if (a === b) continue;
    if (b === undefined) out.push(`${key}: only in the migrations`);
    else if (a === undefined) out.push(`${key}: only in supabase/schemas/`);
    else {
      const aLines = a.split('\n');
      const bLines = b.split('\n');
      const lines = [];
      for (let i = 0; i < Math.max(aLines.length, bLines.length); i += 1) {
        if (aLines[i] === bLines[i]) continue;
        lines.push(`  line ${i + 1}\n    migrations: ${aLines[i] ?? '(none)'}\n    schemas:    ${bLines[i] ?? '(none)'}`);
      }
      out.push(`${key} differs:\n${lines.join('\n')}`);
    }
  }
  return out;
}

describe.each(['postgres', 'pglite'] as const)('supabase/schemas/ against supabase/migrations/ on %s', (kind) => {
  const opened: EmptySqlBackend[] = [];
  let fromMigrations: Map<string, string>;
  let fromSchemas: Map<string, string>;

  async function open(): Promise<EmptySqlBackend> {
    const backend = await emptySqlBackends[kind]();
    opened.push(backend);
    return backend;
  }

  beforeAll(async () => {
    const migrated = await open();
    await migrate(migrated.admin, loadMigrations());
    const declared = await open();
    for (const file of schemaFiles) {
      try {
        await declared.admin.exec(fs.readFileSync(path.join(SCHEMAS_DIR, file), 'utf8'));
      } catch (error) {
        throw new Error(`supabase/schemas/${file} failed to apply: ${(error as Error).message}`, { cause: error });
      }
    }
    fromMigrations = await catalog(migrated.admin);
    fromSchemas = await catalog(declared.admin);
  }, 60_000);

  afterAll(async () => {
    await Promise.all(opened.map((b) => b.close()));
  });

  it('reads every kind of object it compares (the catalog queries find them)', () => {
    const kinds = new Set([...fromMigrations.keys()].map((k) => k.split(' ')[0]));
    for (const kind of ['schema', 'relation', 'column', 'constraint', 'index', 'trigger', 'policy', 'function', 'sequence', 'rows']) {
      expect(kinds, kind).toContain(kind);
    }
    expect(fromMigrations.get('rows of private.member_rpcs')).not.toBe('(empty)');
  });

  it('builds the same database as the migrations (else run `npm run db:schemas`, docs/database.md)', () => {
    const diff = differences(fromMigrations, fromSchemas);
    expect(diff, `\n${diff.join('\n\n')}\n`).toEqual([]);
  });

  it('defines every function of public and private in exactly one schema file', () => {
    const definedIn = new Map<string, string[]>();
    for (const file of schemaFiles) {
      const sql = fs.readFileSync(path.join(SCHEMAS_DIR, file), 'utf8');
      for (const m of sql.matchAll(/^CREATE (?:OR REPLACE )?FUNCTION ((?:public|private)\.\w+)\(/gim)) {
        definedIn.set(m[1]!, [...(definedIn.get(m[1]!) ?? []), file]);
      }
    }
    const functions = [...fromMigrations.keys()]
      .filter((k) => /^function (public|private)\./.test(k))
      .map((k) => k.slice('function '.length).replace(/\(.*$/, ''));
    const wrong = [...new Set(functions)]
      .map((name) => ({ name, files: definedIn.get(name) ?? [], overloads: functions.filter((f) => f === name).length }))
      .filter((f) => f.files.length !== f.overloads || new Set(f.files).size !== 1)
      .map((f) => `${f.name}: defined in ${f.files.length === 0 ? 'no file' : f.files.join(', ')}`);
    expect(wrong).toEqual([]);
    expect([...definedIn.keys()].filter((name) => !functions.includes(name))).toEqual([]);
  });
});
