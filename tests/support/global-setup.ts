import type { TestProject } from 'vitest/node';
import { ensurePostgres, ensureRedis, type RedisService } from './services';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Admin URL of the PostgreSQL server for this run; test files create their own databases on it. */
    postgresUrl: string;
    /** URL of the Redis server for this run (DB 0 is shared: test files use their own key prefix). */
    redisUrl: string;
  }
}

export default async function setup(project: TestProject) {
  const pg = await ensurePostgres();
  let redis: RedisService;
  try {
    redis = await ensureRedis();
  } catch (error) {
    await pg.stop(); // an embedded PostgreSQL started above must not outlive the failed setup
    throw error;
  }
  project.provide('postgresUrl', pg.url);
  project.provide('redisUrl', redis.url);
  return async () => {
    await Promise.all([pg.stop(), redis.stop()]);
  };
}
