/**
 * npm run db:migrate [-- --dry-run] [-- --rollback] [-- --status] [-- --url postgres://…]
 *
 * Applies pending migrations from supabase/migrations/ to DATABASE_URL (or --url), else to the
 * embedded PGlite in OMNIOPS_DATA_DIR. --dry-run applies them in a transaction that is rolled back
 * and lists what would run; --rollback reverts the last applied migration; --status lists them.
 */
import { parseArgs } from 'node:util';
import { getConfig, loadEnvFiles } from '@/lib/config';
import { loadMigrations, migrate, migrationStatus, rollback } from '@/lib/db/migrations';
import { openAdminDb } from '@/lib/db/resolve';

const { values } = parseArgs({
  options: {
    'dry-run': { type: 'boolean', default: false },
    rollback: { type: 'boolean', default: false },
    status: { type: 'boolean', default: false },
    url: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (values.help) {
  console.log('usage: npm run db:migrate -- [--dry-run] [--rollback] [--status] [--url postgres://…]');
  process.exit(0);
}

async function main(): Promise<void> {
  loadEnvFiles();
  const config = getConfig();
  const migrations = loadMigrations();
  const db = await openAdminDb(config, values.url);
  const target = db.kind === 'pglite' ? `embedded PGlite (${config.dataDir})` : 'PostgreSQL';
  const dryRun = values['dry-run'];
  const prefix = dryRun ? '[dry run] ' : '';
  try {
    if (values.status) {
      for (const m of await migrationStatus(db.admin, migrations)) {
        console.log(`${m.applied ? 'applied' : 'pending'}  ${m.version}_${m.name}`);
      }
    } else if (values.rollback) {
      const reverted = await rollback(db.admin, migrations, { dryRun });
      console.log(
        reverted
          ? `${prefix}${dryRun ? 'would revert' : 'reverted'} ${reverted.file} on ${target}`
          : `${prefix}nothing to roll back on ${target}`,
      );
    } else {
      const applied = await migrate(db.admin, migrations, { dryRun });
      if (applied.length === 0) console.log(`${prefix}${target} is up to date`);
      for (const m of applied) console.log(`${prefix}${dryRun ? 'would apply' : 'applied'} ${m.file}`);
      if (dryRun) console.log(`${prefix}rolled back: the database is unchanged`);
    }
  } finally {
    await db.close();
  }
}

main().catch((error: unknown) => {
  console.error((error as Error).message);
  process.exit(1);
});
