import type { TestProject } from 'vitest/node';
import { ensurePostgres } from './services';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Admin URL of the PostgreSQL server for this run; test files create their own databases on it. */
    postgresUrl: string;
  }
}

export default async function setup(project: TestProject) {
  const pg = await ensurePostgres();
  project.provide('postgresUrl', pg.url);
  return async () => {
    await pg.stop();
  };
}
