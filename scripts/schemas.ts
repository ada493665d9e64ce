/**
 * npm run db:schemas [-- --url postgres://user@host:5432/postgres]
 *
 * Regenerates `supabase/schemas/` — the current definition of every table, index, function,
 * trigger, grant and policy, one file per capability — from a database built by applying
 * `supabase/migrations/` to a new, empty database on the PostgreSQL server at --url (else
 * DATABASE_URL). The database is dropped afterwards. Needs `pg_dump` and `pg_restore` of the
 * server's major version or newer on PATH. See docs/database.md.
 *
 * How: `pg_dump` writes the built database; its table of contents is split by capability
 * (CAPABILITIES below: every table, sequence and function must match exactly one rule, else this
 * script stops and names it) and `pg_restore -L` writes each capability's part in dependency
 * order, with each object's comment and grants right after it. `00_platform.sql` (what Supabase
 * provides: roles, schema auth) is written by hand and left alone.
 * `tests/integration/schemas.test.ts` checks the result independently: it builds one database
 * from the migrations and one from these files and compares their catalogs.
 */
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { getConfig, loadEnvFiles } from '@/lib/config';
import { loadMigrations, migrate } from '@/lib/db/migrations';
import { PostgresDb } from '@/lib/db/postgres';

const run = promisify(execFile);
const SCHEMAS_DIR = path.join(process.cwd(), 'supabase', 'schemas');
const HAND_WRITTEN = '00_platform.sql';

/**
 * Capabilities in the order their files are applied (a file may use what an earlier one defines),
 * each with the tables, sequences and functions (`schema.name`) it holds. docs/architecture.md
 * lists where each capability lives in lib/ and app/.
 */
const CAPABILITIES: { file: string; about: string; objects: RegExp }[] = [
  {
    file: '01_database.sql',
    about: 'schema private and the helpers every capability uses (RPC grants, updated_at, argument parsing)',
    objects: /^private\.(touch_updated_at|restrict_public_functions|restrict_rpcs_to_service_role|arg|utc_iso|stable_uuid|refuse_update)$/,
  },
  {
    file: '02_tenancy.sql',
    about: 'customers, staff memberships and what members may read and call',
    objects:
      /^(public\.(customers|customers_.*|customer_members|customer_members_.*|staff_memberships)|private\.(are_valid_origins|customer_json|member_customer_ids|managed_customer_ids|member_rpcs))$/,
  },
  {
    file: '03_messaging.sql',
    about: 'conversations, messages and the message_queue outbox with its RPCs',
    objects:
      /^(public\.(conversations|messages|message_queue|message_position_seq|queue_.*|conversation_get|conversation_reply|conversations_list)|private\.(queue_json|claimed_json|message_json|session_conversation|queue_message_id))$/,
  },
  {
    file: '04_widget.sql',
    about: 'what the widget API calls: the customer behind a public key, one send',
    objects: /^public\.widget_.*$/,
  },
  {
    file: '05_crawl.sql',
    about: 'crawl jobs (scrape_jobs), their results and statistics, the frontier, crawled pages and search',
    objects:
      /^(public\.(scrape_jobs|scrape_job_results|scrape_job_results_id_seq|scrape_job_stats|scraped_pages|crawl_.*)|private\.(crawl_.*|scrape_job_stats_.*))$/,
  },
  {
    file: '06_usage.sql',
    about: 'usage metering and plan limits',
    objects: /^(public\.(usage|usage_.*|plan_limits)|private\.usage_.*)$/,
  },
  {
    file: '07_scheduled.sql',
    about: 'scheduled tasks: the run ledger and the cleanup and retention steps',
    objects:
      /^(public\.(cleanup_runs|cleanup_runs_id_seq|cron_.*|cleanup_.*)|private\.(cleanup_run_json|cron_.*|delete_in_batches))$/,
  },
  {
    file: '08_journal.sql',
    about: 'the outage journal: writes recorded while the primary is down, replayed afterwards',
    objects: /^(public\.(journal_.*|system_journaled_functions)|private\.(outage_journal|outage_journal_seq_seq|journal_.*))$/,
  },
  {
    file: '09_transfer.sql',
    about: 'moving one customer between backends: export pages, staged import, commit',
    objects: /^(public\.transfer_.*|private\.transfer_.*)$/,
  },
  {
    file: '10_dashboard.sql',
    about: 'what the staff dashboard reads',
    objects: /^public\.dashboard_.*$/,
  },
  {
    file: '11_health.sql',
    about: 'health checks',
    objects: /^public\.system_(ping|echo|health)$/,
  },
];

interface TocEntry {
  line: string;
  id: number;
  desc: string;
  schema: string;
  tag: string;
}

const TOC_LINE = /^(\d+); \d+ \d+ (FK CONSTRAINT|ROW SECURITY|TABLE DATA|SEQUENCE SET|SEQUENCE OWNED BY|DEFAULT ACL|[A-Z]+) (\S+) (.*) \S+$/;

function parseToc(list: string): TocEntry[] {
  return list
    .split('\n')
    .filter((line) => line && !line.startsWith(';'))
    .map((line) => {
      const m = TOC_LINE.exec(line);
      if (!m) throw new Error(`[omniops] [schemas] cannot read pg_restore list line: ${line}`);
      return { line, id: Number(m[1]), desc: m[2]!, schema: m[3]!, tag: m[4]! };
    });
}

/** The table, sequence, function or schema an entry defines or belongs to, as `schema.name`. */
function ownerOf(e: TocEntry, indexTables: Map<string, string>): string {
  const bare = (tag: string) => tag.replace(/\(.*$/, '');
  switch (e.desc) {
    case 'SCHEMA':
      return `schema.${e.tag}`;
    case 'FUNCTION':
    case 'TABLE':
    case 'SEQUENCE':
    case 'TABLE DATA':
    case 'ROW SECURITY':
    case 'SEQUENCE OWNED BY':
      return `${e.schema}.${bare(e.tag)}`;
    case 'CONSTRAINT':
    case 'FK CONSTRAINT':
    case 'TRIGGER':
    case 'POLICY':
    case 'DEFAULT':
      return `${e.schema}.${e.tag.split(' ')[0]}`;
    case 'INDEX': {
      const table = indexTables.get(`${e.schema}.${e.tag}`);
      if (!table) throw new Error(`[omniops] [schemas] no table for index ${e.schema}.${e.tag}`);
      return table;
    }
    case 'ACL':
    case 'COMMENT': {
      const [kind, ...rest] = e.tag.split(' ');
      const name = bare(rest.join(' '));
      if (kind === 'SCHEMA') return `schema.${name}`;
      if (kind === 'COLUMN') return `${e.schema}.${name.split('.')[0]}`;
      return `${e.schema}.${name}`;
    }
    default:
      throw new Error(`[omniops] [schemas] pg_dump entry of a kind this script does not place: ${e.line}`);
  }
}

function capabilityOf(owner: string): string {
  if (owner.startsWith('schema.')) return CAPABILITIES[0]!.file;
  const matches = CAPABILITIES.filter((c) => c.objects.test(owner));
  if (matches.length !== 1) {
    throw new Error(
      `[omniops] [schemas] ${owner} matches ${matches.length === 0 ? 'no capability' : matches.map((c) => c.file).join(' and ')}: ` +
        'give it exactly one in CAPABILITIES (scripts/schemas.ts)',
    );
  }
  return matches[0]!.file;
}

/** Split one `(v1, v2, …)` row of an INSERT into its values (quotes and parentheses respected). */
function splitRow(row: string): string[] {
  const values: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < row.length; i += 1) {
    const ch = row[i];
    if (ch === "'") quoted = !quoted;
    else if (!quoted && ch === '(') depth += 1;
    else if (!quoted && ch === ')') depth -= 1;
    else if (!quoted && depth === 0 && ch === ',') {
      values.push(row.slice(start, i).trim());
      start = i + 1;
    }
  }
  values.push(row.slice(start).trim());
  return values;
}

/**
 * Rows the migrations insert, with the columns that record when (default now()) written as
 * DEFAULT, so that regenerating gives the same text.
 */
function withDefaultTimes(sql: string, nowColumns: Map<string, number[]>): string {
  return sql.replace(/^INSERT INTO (\S+) VALUES\n((?:\t\(.*\)[,;]\n)+)/gm, (all, table: string, rows: string) => {
    const positions = nowColumns.get(table);
    if (!positions) return all;
    const edited = rows.replace(/^\t\((.*)\)([,;])$/gm, (_row, inner: string, end: string) => {
      const values = splitRow(inner).map((v, i) => (positions.includes(i) ? 'DEFAULT' : v));
      return `\t(${values.join(', ')})${end}`;
    });
    return `INSERT INTO ${table} VALUES\n${edited}`;
  });
}

/** pg_restore's text, made for reading: one comment line per object, no dump banners or settings. */
function tidy(sql: string, capability: (typeof CAPABILITIES)[number], nowColumns: Map<string, number[]>): string {
  const label = (name: string, type: string, schema: string) => {
    const qualified = (n: string) => (schema === '-' ? n : `${schema}.${n}`);
    if (type === 'ACL' || type === 'COMMENT') {
      const [kind, ...rest] = name.split(' ');
      return `${type === 'ACL' ? 'grants on' : 'comment on'} ${kind!.toLowerCase()} ${kind === 'SCHEMA' ? rest.join(' ') : qualified(rest.join(' '))}`;
    }
    return `${type.toLowerCase()} ${qualified(name)}`;
  };
  const body = withDefaultTimes(sql, nowColumns)
    .replace(/^\\(un)?restrict .*\n/gm, '')
    .replace(/^--\n-- PostgreSQL database dump( complete)?\n--\n/gm, '')
    .replace(/^-- Dumped (from|by) .*\n/gm, '')
    .replace(/^SET (?!check_function_bodies).*\n/gm, '')
    .replace(/^SELECT pg_catalog\.set_config\('search_path', '', false\);\n/m, '')
    .replace(/^--\n-- (?:Data for )?Name: (.*); Type: (.*); Schema: (.*); Owner: .*\n--\n/gm, (_all, name: string, type: string, schema: string) =>
      `-- ${label(name, type, schema)}\n`,
    )
    .replace(/\n{3,}/g, '\n\n')
    .trim();
  return (
    `-- ${capability.file.replace(/^\d+_|\.sql$/g, '')}: ${capability.about}.\n` +
    '-- Generated by `npm run db:schemas` from supabase/migrations/ (docs/database.md): do not edit;\n' +
    '-- change the schema with a new migration and regenerate. Names are schema-qualified and function\n' +
    '-- bodies are checked when called, so the files apply in file-name order on any database.\n\n' +
    "SELECT pg_catalog.set_config('search_path', '', false);\n" +
    `${body}\n`
  );
}

/**
 * pg_restore's output in the order of `entries` (it keeps the list's order except for grants, which
 * it writes last), without entries that write nothing (the rows of an empty table).
 */
function inListOrder(sql: string, entries: TocEntry[]): string {
  const HEADER = /^--\n-- (?:Data for )?Name: (.*); Type: (.*); Schema: (.*); Owner: .*$/m;
  const [preamble, ...parts] = sql.split(/^(?=--\n-- (?:Data for )?Name: )/m);
  const blocks = new Map<string, string>();
  for (const part of parts) {
    const m = HEADER.exec(part);
    if (!m) throw new Error(`[omniops] [schemas] unexpected pg_restore output: ${part.slice(0, 200)}`);
    blocks.set(`${m[2]}|${m[3]}|${m[1]}`, part);
  }
  const writes = (block: string) => block.split('\n').some((l) => l.trim() && !l.startsWith('--') && !l.startsWith('SET '));
  const ordered = entries.map((e) => {
    const block = blocks.get(`${e.desc}|${e.schema}|${e.tag}`);
    if (block === undefined) throw new Error(`[omniops] [schemas] pg_restore wrote nothing for ${e.line}`);
    return block;
  });
  return [preamble ?? '', ...ordered.filter(writes)].join('');
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { url: { type: 'string' } } });
  loadEnvFiles();
  const serverUrl = values.url ?? getConfig().databaseUrl;
  if (!serverUrl) throw new Error('[omniops] [schemas] give a PostgreSQL server with --url postgres://… or DATABASE_URL');

  const name = `omniops_schemas_${crypto.randomBytes(4).toString('hex')}`;
  const server = postgres(serverUrl, { max: 1, onnotice: () => {} });
  await server.unsafe(`create database ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'omniops-schemas-'));
  try {
    const db = new PostgresDb(url.toString());
    let indexTables: Map<string, string>;
    const nowColumns = new Map<string, number[]>();
    const tableFunctions = new Set<string>();
    try {
      await migrate(db.admin, loadMigrations());
      const rows = await db.admin.query<{ index: string; table: string }>(
        `select n.nspname || '.' || i.relname as index, tn.nspname || '.' || t.relname as table
           from pg_catalog.pg_index x
           join pg_catalog.pg_class i on i.oid = x.indexrelid join pg_catalog.pg_namespace n on n.oid = i.relnamespace
           join pg_catalog.pg_class t on t.oid = x.indrelid join pg_catalog.pg_namespace tn on tn.oid = t.relnamespace`,
      );
      indexTables = new Map(rows.map((r) => [r.index, r.table]));
      const times = await db.admin.query<{ table: string; position: number }>(
        `select format('%I.%I', n.nspname, c.relname) as table,
                (select count(*) from pg_catalog.pg_attribute b
                  where b.attrelid = a.attrelid and b.attnum > 0 and b.attnum < a.attnum and not b.attisdropped)::int as position
           from pg_catalog.pg_attrdef d
           join pg_catalog.pg_attribute a on a.attrelid = d.adrelid and a.attnum = d.adnum
           join pg_catalog.pg_class c on c.oid = d.adrelid join pg_catalog.pg_namespace n on n.oid = c.relnamespace
          where pg_catalog.pg_get_expr(d.adbin, d.adrelid) = 'now()'`,
      );
      const used = await db.admin.query<{ fn: string }>(
        `select distinct n.nspname || '.' || p.proname as fn
           from pg_catalog.pg_depend d
           join pg_catalog.pg_proc p on p.oid = d.refobjid join pg_catalog.pg_namespace n on n.oid = p.pronamespace
          where d.refclassid = 'pg_catalog.pg_proc'::regclass
            and d.classid in ('pg_catalog.pg_attrdef'::regclass, 'pg_catalog.pg_constraint'::regclass)`,
      );
      for (const u of used) tableFunctions.add(u.fn);
      for (const t of times) nowColumns.set(t.table, [...(nowColumns.get(t.table) ?? []), t.position]);
    } finally {
      await db.close();
    }

    const dump = path.join(work, 'schema.dump');
    // Data too: a few tables hold rows the migrations insert (private.member_rpcs, plan_limits).
    await run('pg_dump', ['--format=custom', '--no-owner', '--inserts', '--rows-per-insert=1000', '--exclude-schema=auth',
      '--exclude-schema=supabase_migrations', `--file=${dump}`, url.toString()]);
    const entries = parseToc((await run('pg_restore', ['--list', dump])).stdout).filter((e) => e.desc !== 'SEQUENCE SET');

    // Each object's comment and grants right after it, so a reader finds them together.
    const owners = new Map(entries.map((e) => [e.id, ownerOf(e, indexTables)]));
    const attached = (e: TocEntry) => e.desc === 'ACL' || e.desc === 'COMMENT';
    const byOwner = new Map<string, TocEntry[]>();
    for (const e of entries.filter(attached)) byOwner.set(owners.get(e.id)!, [...(byOwner.get(owners.get(e.id)!) ?? []), e]);
    const anchors = new Set<string>();
    const groups: TocEntry[][] = [];
    for (const e of entries.filter((x) => !attached(x))) {
      const owner = owners.get(e.id)!;
      const isAnchor = ['SCHEMA', 'FUNCTION', 'TABLE', 'SEQUENCE'].includes(e.desc);
      if (isAnchor && !anchors.has(owner)) {
        anchors.add(owner);
        groups.push([e, ...(byOwner.get(owner) ?? [])]);
      } else groups.push([e]);
    }
    for (const e of entries.filter(attached)) if (!anchors.has(owners.get(e.id)!)) groups.unshift([e]);
    // Within a file: schemas, the functions tables use in defaults and checks, tables and
    // sequences, the other functions (some take a table's row type), then constraints, indexes,
    // triggers, row-level security and policies, in pg_dump's order within each.
    const rank = ([e]: TocEntry[]) => {
      if (e!.desc === 'SCHEMA' || e!.desc === 'ACL' || e!.desc === 'COMMENT') return 0;
      if (e!.desc === 'FUNCTION') return tableFunctions.has(owners.get(e!.id)!) ? 1 : 3;
      if (e!.desc === 'TABLE' || e!.desc === 'SEQUENCE') return 2;
      return 4;
    };
    const ordered = groups
      .map((group, i) => ({ group, i }))
      .sort((a, b) => rank(a.group) - rank(b.group) || a.i - b.i)
      .flatMap(({ group }) => group);

    // Every entry placed before any file is touched: an unplaced object leaves the files as they were.
    const files = new Map(ordered.map((e) => [e.id, capabilityOf(owners.get(e.id)!)]));
    fs.mkdirSync(SCHEMAS_DIR, { recursive: true });
    for (const file of fs.readdirSync(SCHEMAS_DIR)) {
      if (file.endsWith('.sql') && file !== HAND_WRITTEN) fs.rmSync(path.join(SCHEMAS_DIR, file));
    }
    for (const capability of CAPABILITIES) {
      const mine = ordered.filter((e) => files.get(e.id) === capability.file);
      const listFile = path.join(work, `${capability.file}.list`);
      fs.writeFileSync(listFile, `${mine.map((e) => e.line).join('\n')}\n`);
      const { stdout } = await run('pg_restore', ['--no-owner', `--use-list=${listFile}`, '--file=-', dump], { maxBuffer: 64 << 20 });
      fs.writeFileSync(path.join(SCHEMAS_DIR, capability.file), tidy(inListOrder(stdout, mine), capability, nowColumns));
      console.log(`wrote supabase/schemas/${capability.file} (${mine.length} objects)`);
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
    await server.unsafe(`drop database if exists ${name} with (force)`);
    await server.end();
  }
}

main().catch((error: unknown) => {
  console.error((error as Error).message);
  process.exit(1);
});
