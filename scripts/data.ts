/**
 * npm run data -- <export|import|migrate|list> …  — move a customer between backends
 * (docs/transfer.md). Backends: `embedded`, `supabase`, `configured` or a
 * postgres:// URL. Exit code 0 on success, 1 on a failure (the message says which and why), 2 on a
 * usage error.
 */
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { z } from 'zod';
import { getConfig, loadEnvFiles, type Config } from '@/lib/config';
import { configuredBackends, openBackend, parseBackend, type BackendSpec } from '@/lib/transfer/backends';
import { TransferError } from '@/lib/transfer/errors';
import { exportToFile, inventory, type TransferProgress } from '@/lib/transfer/export';
import { CONFLICT_POLICIES, importFile } from '@/lib/transfer/import';
import { migrateCustomer, rollbackFromBackup, type Endpoint } from '@/lib/transfer/migrate';
import { TENANT_TABLES } from '@/lib/transfer/tables';

const USAGE = `usage: npm run data -- <command> [options]

  export   --customer ID [--from BACKEND] --out FILE [--include-public-key]
  import   --in FILE [--to BACKEND] [--on-conflict skip|overwrite|fail] [--dry-run] [--validate]
           [--import-members]
  migrate  --customer ID --from BACKEND --to BACKEND [--out FILE] [--backup FILE]
           [--on-conflict skip|overwrite|fail] [--dry-run] [--include-public-key] [--import-members]
  migrate  --rollback --backup FILE --to BACKEND [--dry-run] [--import-members]

--import-members: also import the file's memberships (who may sign in to the customer, as what);
without it the target's own memberships are kept as they are.
EXPORT_SIGNING_KEY / EXPORT_ENCRYPTION_KEY sign / encrypt exports; with a signing key, imports
refuse files not signed with it.
  list     [--from BACKEND] [--to BACKEND]

BACKEND: embedded | supabase | configured (default) | postgres://…`;

class UsageError extends Error {}

function parseCommandLine() {
  try {
    return parseArgs({ allowPositionals: true, options: OPTIONS });
  } catch (error) {
    console.error(`[omniops] [transfer] ${(error as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
}

const OPTIONS = {
  customer: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  in: { type: 'string' },
  out: { type: 'string' },
  backup: { type: 'string' },
  'on-conflict': { type: 'string' },
  'include-public-key': { type: 'boolean', default: false },
  'import-members': { type: 'boolean', default: false },
  'dry-run': { type: 'boolean', default: false },
  validate: { type: 'boolean', default: false },
  rollback: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

const { values, positionals } = parseCommandLine();

function required(name: 'customer' | 'in' | 'out' | 'backup'): string {
  const value = values[name];
  if (!value) throw new UsageError(`--${name} is required`);
  return value;
}

function customerId(): string {
  const parsed = z.guid().safeParse(required('customer'));
  if (!parsed.success) throw new UsageError(`--customer: not a customer id (a UUID): ${values.customer}`);
  return parsed.data;
}

function onConflict() {
  const parsed = z.enum(CONFLICT_POLICIES).optional().safeParse(values['on-conflict']);
  if (!parsed.success) throw new UsageError(`--on-conflict: must be ${CONFLICT_POLICIES.join(', ')}`);
  return parsed.data;
}

/** A progress bar on stderr for long operations (drawn only on a terminal). */
function progressBar() {
  const bar = new cliProgress.SingleBar(
    { format: '{phase} |{bar}| {value}/{total} rows  {table}', hideCursor: true, stream: process.stderr, clearOnComplete: true },
    cliProgress.Presets.shades_classic,
  );
  let phase: string | null = null;
  return {
    onProgress(p: TransferProgress) {
      const payload = { phase: p.phase.padEnd(8), table: p.table ?? '' };
      if (p.phase !== phase) {
        if (phase) bar.stop();
        phase = p.phase;
        bar.start(p.total ?? p.done, p.done, payload);
      } else {
        bar.setTotal(Math.max(p.total ?? p.done, p.done));
        bar.update(p.done, payload);
      }
    },
    stop() {
      if (phase) bar.stop();
    },
  };
}

async function withBackends<T>(config: Config, specs: string[], fn: (endpoints: Endpoint[]) => Promise<T>): Promise<T> {
  const endpoints: Endpoint[] = [];
  try {
    for (const spec of specs) endpoints.push(await openBackend(parseBackend(spec, config), config));
    return await fn(endpoints);
  } finally {
    await Promise.all(endpoints.map((e) => e.db.close()));
  }
}

const rowsOf = (tables: Record<string, { rows: number }>) => Object.values(tables).reduce((a, t) => a + t.rows, 0);

async function exportCommand(config: Config): Promise<void> {
  const id = customerId();
  const out = required('out');
  const bar = progressBar();
  try {
    await withBackends(config, [values.from ?? 'configured'], async ([source]) => {
      const result = await exportToFile(source!.db, id, out, {
        includeSecrets: values['include-public-key'],
        label: source!.label,
        onProgress: bar.onProgress,
        keys: config.transferKeys,
      });
      bar.stop();
      console.log(`exported customer ${id} from ${source!.label}: ${rowsOf(result.footer.tables)} rows, ${result.bytes} bytes → ${result.file}`);
      console.log(`sha256 ${result.footer.sha256}`);
    });
  } finally {
    bar.stop();
  }
}

async function importCommand(config: Config): Promise<void> {
  const file = required('in');
  const policy = onConflict();
  const bar = progressBar();
  try {
    await withBackends(config, [values.to ?? 'configured'], async ([target]) => {
      const result = await importFile(target!.db, file, {
        onConflict: policy,
        dryRun: values['dry-run'],
        validate: values.validate,
        label: target!.label,
        onProgress: bar.onProgress,
        importMembers: values['import-members'],
        keys: config.transferKeys,
      });
      bar.stop();
      const prefix = result.dryRun ? '[dry run] would import' : 'imported';
      const written = Object.values(result.written).reduce((a, n) => a + n, 0);
      const skipped = Object.values(result.skipped).reduce((a, n) => a + n, 0);
      console.log(`${prefix} customer ${result.customerId} into ${target!.label}: ${written} rows written, ${skipped} skipped (existing)`);
      if (result.membersLeftOut > 0) {
        console.log(`${result.membersLeftOut} membership row(s) of the file left out, the target's kept (--import-members imports them)`);
      }
      if (values.validate && !result.dryRun) console.log('validated: row counts and checksums of every table match the file');
      if (result.dryRun) console.log('[dry run] rolled back: the target is unchanged');
    });
  } finally {
    bar.stop();
  }
}

async function migrateCommand(config: Config): Promise<void> {
  if (!values.to) throw new UsageError('--to is required');
  const bar = progressBar();
  try {
    if (values.rollback) {
      const backup = required('backup');
      await withBackends(config, [values.to], async ([target]) => {
        const result = await rollbackFromBackup(target!, backup, {
          dryRun: values['dry-run'],
          onProgress: bar.onProgress,
          importMembers: values['import-members'],
          keys: config.transferKeys,
        });
        bar.stop();
        const verb = result.action === 'deleted' ? 'deleted customer' : 'restored customer';
        console.log(`${result.dryRun ? '[dry run] would have ' : ''}${verb} ${result.customerId} on ${target!.label} from ${backup}`);
      });
      return;
    }
    const id = customerId();
    const policy = onConflict();
    if (!values.from) throw new UsageError('--from is required');
    await withBackends(config, [values.from, values.to], async ([source, target]) => {
      const result = await migrateCustomer(source!, target!, {
        customerId: id,
        file: values.out,
        backup: values.backup,
        onConflict: policy,
        dryRun: values['dry-run'],
        includeSecrets: values['include-public-key'],
        importMembers: values['import-members'],
        keys: config.transferKeys,
        onProgress: bar.onProgress,
      });
      bar.stop();
      const rows = rowsOf(result.exported.footer.tables);
      if (result.backup) {
        const kept = rowsOf(result.backup.footer.tables);
        console.log(`backup of the target's previous data (${kept} rows${kept === 0 ? ': the customer was absent' : ''}) → ${result.backup.file}`);
      }
      if (result.imported.dryRun) {
        console.log(`[dry run] would migrate customer ${id} (${rows} rows) from ${source!.label} to ${target!.label}; the target is unchanged`);
      } else {
        console.log(`migrated customer ${id} (${rows} rows) from ${source!.label} to ${target!.label}`);
        console.log(`validated: row counts and checksums of every table are equal on both sides (sha256 ${result.exported.footer.sha256})`);
      }
    });
  } finally {
    bar.stop();
  }
}

const SHORT_NAMES: Record<string, string> = {
  customer_members: 'members',
  message_queue: 'queue',
  scrape_jobs: 'jobs',
  scrape_job_results: 'results',
  scrape_job_stats: 'stats',
  scraped_pages: 'pages',
};

async function listBackend(spec: BackendSpec, config: Config): Promise<void> {
  let endpoint: Endpoint;
  try {
    endpoint = await openBackend(spec, config);
  } catch (error) {
    const reason = error instanceof TransferError && error.cause instanceof Error ? error.cause.message : (error as Error).message;
    console.log(`${spec.label}\n  unreachable: ${reason}\n`);
    return;
  }
  try {
    const customers = await inventory(endpoint.db, endpoint.label);
    console.log(`${spec.label}\n  reachable, ${customers.length} customer(s)`);
    const tables = TENANT_TABLES.filter((t) => t.name !== 'customers').map((t) => t.name);
    const header = ['customer', 'id', 'plan', ...tables.map((t) => SHORT_NAMES[t] ?? t)];
    const rows = customers.map((c) => [c.name, c.id, c.plan, ...tables.map((t) => String(c.rows[t] ?? 0))]);
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    for (const r of customers.length > 0 ? [header, ...rows] : []) {
      console.log(`  ${r.map((c, i) => (i < 3 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')}`);
    }
    console.log('');
  } finally {
    await endpoint.db.close();
  }
}

async function listCommand(config: Config): Promise<void> {
  const specs = configuredBackends(config);
  for (const extra of [values.from, values.to]) {
    if (extra && extra !== 'configured') {
      const spec = parseBackend(extra, config);
      if (!specs.some((s) => s.label === spec.label)) specs.push(spec);
    }
  }
  for (const spec of specs) await listBackend(spec, config);
}

async function main(): Promise<void> {
  const command = positionals[0];
  if (values.help || !command) {
    console.log(USAGE);
    return;
  }
  loadEnvFiles();
  const config = getConfig();
  switch (command) {
    case 'export':
      return exportCommand(config);
    case 'import':
      return importCommand(config);
    case 'migrate':
      return migrateCommand(config);
    case 'list':
      return listCommand(config);
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

main().catch((error: unknown) => {
  if (error instanceof UsageError) {
    console.error(`[omniops] [transfer] ${error.message}\n\n${USAGE}`);
    process.exit(2);
  }
  console.error(error instanceof TransferError ? error.message : `[omniops] [transfer] ${(error as Error).stack ?? String(error)}`);
  process.exit(1);
});
