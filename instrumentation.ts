/**
 * Runs once when the Next.js server starts: a bad environment stops start-up here, with a message
 * naming the variable, instead of failing on the first request; then the database is opened so the
 * first request does not pay for it (and the embedded database's lock is taken at once), and the
 * cache's Redis connection is opened in the background for the same reason; then, with
 * CRON_MODE=internal (the default off Vercel), the local scheduler of the cron tasks starts.
 */
export async function register() {
  if (process.env.NEXT_RUNTIME !== 'nodejs') return;
  const { getConfig } = await import('@/lib/config');
  const config = getConfig();
  const { resolveDb } = await import('@/lib/db/resolve');
  const { createLogger } = await import('@/lib/log');
  const { getRedisClientWithFallback } = await import('@/lib/cache/resolve');
  const { announceEgressPolicy } = await import('@/lib/jobs/egress');
  announceEgressPolicy(config);
  const cacheKind = getRedisClientWithFallback(config).kind;
  createLogger('cache').info(`ephemeral tier: ${cacheKind === 'memory' ? 'memory' : `${cacheKind}, falling back to memory`}`);
  const log = createLogger('db');
  try {
    const db = await resolveDb(config);
    await db.ping();
    const { servingStatus } = await import('@/lib/db/fallback');
    // On the outage fallback, the switch was logged with its reason already.
    if (!(await servingStatus(db)).fallbackActive) log.info(`connected to ${db.kind}`);
  } catch (error) {
    // Not fatal: /api/health reports it and requests retry the connection.
    log.error(`database unavailable at start-up: ${(error as Error).message}`);
  }
  if (config.cronMode === 'internal') {
    const { startCronScheduler } = await import('@/lib/cron/scheduler');
    const { cronTasks } = await import('@/lib/cron/tasks');
    startCronScheduler({ tasks: cronTasks, config, getDb: () => resolveDb(config) });
  }
}
