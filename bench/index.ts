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
import * as http from './http';
import * as queue from './queue';
import * as transfer from './transfer';
import * as widget from './widget';

/** Each gets the `--name=value` arguments (`npm run bench -- http --rounds=1`); the other arguments name the benchmarks to run. */
const benchmarks: Record<string, { run(options: readonly string[]): Promise<void> }> = {
  'db-port': dbPort,
  queue,
  widget,
  cache,
  cleanup,
  crawl,
  transfer,
  fallback,
  http,
};

loadEnvFiles();
const args = process.argv.slice(2);
const options = args.filter((arg) => arg.startsWith('--'));
const only = args.filter((arg) => !arg.startsWith('--'));
for (const [name, benchmark] of Object.entries(benchmarks)) {
  if (only.length > 0 && !only.includes(name)) continue;
  await benchmark.run(options);
}
