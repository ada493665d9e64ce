/**
 * npm run bench — every benchmark in turn. Figures and ratios are measured in the same run as
 * their baseline; nothing here asserts a timing.
 */
import { loadEnvFiles } from '@/lib/config';
import * as cache from './cache';
import * as cleanup from './cleanup';
import * as crawl from './crawl';
import * as dbPort from './db-port';
import * as fallback from './fallback';
import * as queue from './queue';
import * as transfer from './transfer';
import * as widget from './widget';

const benchmarks: Record<string, { run(): Promise<void> }> = {
  'db-port': dbPort,
  queue,
  widget,
  cache,
  cleanup,
  crawl,
  transfer,
  fallback,
};

loadEnvFiles();
const only = process.argv.slice(2);
for (const [name, benchmark] of Object.entries(benchmarks)) {
  if (only.length > 0 && !only.includes(name)) continue;
  await benchmark.run();
}
