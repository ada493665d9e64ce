/**
 * npm start: serve Omniops with whatever is configured — on a machine with no configuration at
 * all, the embedded default (PGlite in OMNIOPS_DATA_DIR, in-memory cache).
 *
 *  1. validate the environment (a bad value stops here, naming the variable);
 *  2. build the app when there is no build or the sources changed since the last one (the first
 *     build takes about two minutes: it says so, and every 30 s that it is still going);
 *  3. embedded default: apply migrations to PGlite and seed the demo customer; other backends:
 *     report pending migrations (apply them with `npm run db:migrate` or `supabase db push`);
 *  4. run the server (scripts/serve.ts: `next start` with the socket address passed to the app) and,
 *     once /api/health answers, print the URLs and the admin token.
 */
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { resolveAdminToken } from '@/lib/auth/admin-token';
import { getConfig, loadEnvFiles, type Config } from '@/lib/config';
import { DEMO_CUSTOMER_ID, createCustomer } from '@/lib/customers';
import { isConnectionError } from '@/lib/db/errors';
import { loadMigrations, migrate, migrationStatus } from '@/lib/db/migrations';
import { embeddedDbPath, openAdminDb, primaryKind } from '@/lib/db/resolve';
import { createLogger } from '@/lib/log';

const log = createLogger('start');
const root = process.cwd();
const nextBin = path.join(root, 'node_modules', 'next', 'dist', 'bin', 'next');

/** Inputs of `next build`: a change to any of them (by path, size or mtime) means a rebuild. */
const BUILD_INPUTS = ['app', 'lib', 'public', 'proxy.ts', 'instrumentation.ts', 'next.config.ts', 'package.json', 'tsconfig.json'];

function buildFingerprint(): string {
  const hash = crypto.createHash('sha256');
  const visit = (rel: string) => {
    const abs = path.join(root, rel);
    let stat: fs.Stats;
    try {
      stat = fs.statSync(abs);
    } catch {
      return; // optional input absent
    }
    if (stat.isDirectory()) {
      for (const entry of fs.readdirSync(abs).sort()) visit(path.join(rel, entry));
    } else {
      hash.update(`${rel}\0${stat.size}\0${stat.mtimeMs}\n`);
    }
  };
  BUILD_INPUTS.forEach(visit);
  return hash.digest('hex');
}

/**
 * The environment of `next build` and the server (scripts/serve.ts): Next.js's anonymous telemetry off unless the
 * caller's environment says otherwise (any value, even empty, is theirs) — a documented choice
 * (README, Quick start): a self-hosted backend does not report to a third party by default.
 */
function nextEnv(): NodeJS.ProcessEnv {
  return { NEXT_TELEMETRY_DISABLED: '1', ...process.env };
}

/** How often a running build says it is still going: Next.js is silent while it compiles. */
const BUILD_HEARTBEAT_MS = 30_000;

async function buildIfNeeded(): Promise<void> {
  const stamp = path.join(root, '.next', 'omniops-build-fingerprint');
  const fingerprint = buildFingerprint();
  const built = fs.existsSync(path.join(root, '.next', 'BUILD_ID'));
  if (built && fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === fingerprint) return;
  log.info(
    built
      ? 'the sources changed since the last build: building the app again (next build, about 2 minutes on 2 cores)'
      : 'first start: building the app (next build, once; about 2 minutes on 2 cores, later starts skip this)',
  );
  const started = Date.now();
  const seconds = () => Math.round((Date.now() - started) / 1000);
  const heartbeat = setInterval(() => log.info(`still building… ${seconds()} s`), BUILD_HEARTBEAT_MS);
  const child = spawn(process.execPath, [nextBin, 'build'], { stdio: 'inherit', env: nextEnv() });
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  clearInterval(heartbeat);
  if (code !== 0) throw new Error('[omniops] [start] next build failed');
  fs.writeFileSync(stamp, fingerprint);
  log.info(`built in ${seconds()} s`);
}

interface Prepared {
  demoKey?: string;
}

async function prepareDatabase(config: Config): Promise<Prepared> {
  const kind = primaryKind(config);
  const migrations = loadMigrations();
  if (kind === 'supabase' && !config.databaseUrl) {
    log.info('Supabase: apply supabase/migrations with `supabase db push` (or set DATABASE_URL and run npm run db:migrate)');
    return {};
  }
  const db = await openAdminDb(config);
  try {
    if (kind !== 'pglite') {
      try {
        const pending = (await migrationStatus(db.admin, migrations)).filter((m) => !m.applied);
        if (pending.length > 0) {
          log.warn(`${pending.length} migration(s) pending on DATABASE_URL: run \`npm run db:migrate\``);
        }
      } catch (error) {
        if (!isConnectionError(error)) throw error;
        // Serve anyway: the server answers from the embedded fallback or with 503 until it is back.
        log.warn(
          `DATABASE_URL does not answer (${(error as Error).message}): ` +
            (config.dbFallback === 'embedded'
              ? 'serving from the embedded fallback until it does'
              : 'requests that need the database answer 503 until it does'),
        );
      }
      return {};
    }
    const applied = await migrate(db.admin, migrations);
    if (applied.length > 0) log.info(`embedded database: applied ${applied.length} migration(s)`);
    const origins = [`http://localhost:${config.port}`, `http://127.0.0.1:${config.port}`];
    const { customer, created } = await createCustomer(db, {
      id: DEMO_CUSTOMER_ID,
      name: 'Demo Store',
      allowedOrigins: origins,
      // A local trial: plan limits would only get in the way of trying the widget out.
      plan: 'enterprise',
    });
    if (created) log.info(`seeded the demo customer "${customer.name}"`);
    return { demoKey: customer.publicKey };
  } finally {
    await db.close();
  }
}

async function waitForHealth(url: string, child: ReturnType<typeof spawn>): Promise<boolean> {
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) return false;
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
      if (res.status === 200 || res.status === 503) return res.status === 200;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

function banner(config: Config, prepared: Prepared, healthy: boolean): string {
  const base = `http://localhost:${config.port}`;
  const kind = primaryKind(config);
  const admin = kind === 'supabase' ? undefined : resolveAdminToken(config);
  const lines = [
    '',
    `  Omniops is ${healthy ? 'running' : 'running, but /api/health reports a problem'}`,
    `  database     ${kind === 'pglite' ? `embedded PGlite (${embeddedDbPath(config)})` : kind}`,
    `  app          ${base}`,
    `  dashboard    ${base}/dashboard`,
    `  health       ${base}/api/health`,
  ];
  if (admin) {
    lines.push(
      admin.source === 'env'
        ? '  admin token  from OMNIOPS_ADMIN_TOKEN'
        : admin.created
          ? `  admin token  ${admin.token}   (generated; kept in ${admin.file})`
          : `  admin token  in ${admin.file}`,
    );
  }
  if (prepared.demoKey) lines.push(`  demo widget  public key ${prepared.demoKey}`);
  return lines.join('\n') + '\n';
}

async function main(): Promise<void> {
  loadEnvFiles('production');
  const config = getConfig();
  await buildIfNeeded();
  const prepared = await prepareDatabase(config);

  // NODE_ENV as `next start` sets it; tsx loads the TypeScript server.
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'scripts', 'serve.ts')], {
    stdio: 'inherit',
    env: { ...nextEnv(), NODE_ENV: 'production' },
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => child.kill(signal));
  }
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));

  const wildcard = !config.host || config.host === '0.0.0.0' || config.host === '::';
  const probeHost = wildcard ? '127.0.0.1' : config.host!.includes(':') ? `[${config.host}]` : config.host;
  const healthy = await waitForHealth(`http://${probeHost}:${config.port}/api/health`, child);
  if (child.exitCode === null) console.log(banner(config, prepared, healthy));
}

main().catch((error: unknown) => {
  console.error((error as Error).message);
  process.exit(1);
});
