/**
 * `npm run test:mutation [-- [--incremental] [module…]]`: Stryker over the modules of
 * scripts/mutation-modules.ts, one run per module with only its own test files (stryker.config.mjs
 * holds the shared options), then the score per module and overall. With --incremental each module
 * reuses its previous results (reports/mutation/<module>.incremental.json) and tests only mutants in
 * changed code or covered by changed tests. --mutate=<file,…> mutates only those files of the module.
 * Reports: reports/mutation/<module>.json.
 * `npm run test:mutation -- sql` runs the SQL mutants of scripts/mutation-sql.ts instead.
 */
import path from 'node:path';
import { Stryker } from '@stryker-mutator/core';
import type { MutantResult, PartialStrykerOptions } from '@stryker-mutator/api/core';
import { mutationModules } from './mutation-modules';
import { runSqlMutants } from './mutation-sql';

const args = process.argv.slice(2);
if (args[0] === 'sql') process.exit(runSqlMutants() ? 0 : 1);
const incremental = args.includes('--incremental');
// --mutate=a.ts,b.ts narrows the selected module to some of its files (a partial measurement: say so
// wherever its score is quoted).
const narrowed = args.find((a) => a.startsWith('--mutate='))?.slice('--mutate='.length).split(',').filter(Boolean);
const names = args.filter((a) => !a.startsWith('--'));
const modules = mutationModules().filter((m) => names.length === 0 || names.includes(m.name));
if (modules.length === 0) {
  console.error(`unknown module: ${names.join(', ')} (known: ${mutationModules().map((m) => m.name).join(', ')})`);
  process.exit(2);
}

const KILLED = new Set(['Killed', 'Timeout']);
const COUNTED = new Set(['Killed', 'Timeout', 'Survived', 'NoCoverage']);

interface Row {
  module: string;
  killed: number;
  survived: number;
  noCoverage: number;
  score: number;
  seconds: number;
}

const rows: Row[] = [];
for (const mod of modules) {
  const started = Date.now();
  const dir = path.join('reports', 'mutation');
  // Stryker reads stryker.config.mjs from the working directory and lays these over it.
  const options: PartialStrykerOptions = {
    configFile: 'stryker.config.mjs',
    mutate: narrowed ?? mod.mutate,
    testFiles: mod.testFiles,
    incremental,
    incrementalFile: path.join(dir, `${mod.name}.incremental.json`),
    jsonReporter: { fileName: path.join(dir, `${mod.name}.json`) },
  };
  console.log(`\n[mutation] ${mod.name}: ${(narrowed ?? mod.mutate).join(' ')} ← ${mod.testFiles.join(' ')}`);
  const results: MutantResult[] = await new Stryker(options).runMutationTest();
  const counted = results.filter((r) => COUNTED.has(r.status));
  const killed = counted.filter((r) => KILLED.has(r.status)).length;
  rows.push({
    module: mod.name,
    killed,
    survived: counted.filter((r) => r.status === 'Survived').length,
    noCoverage: counted.filter((r) => r.status === 'NoCoverage').length,
    score: counted.length === 0 ? 100 : (100 * killed) / counted.length,
    seconds: Math.round((Date.now() - started) / 1000),
  });
}

const total = rows.reduce((t, r) => ({ killed: t.killed + r.killed, all: t.all + r.killed + r.survived + r.noCoverage }), { killed: 0, all: 0 });
console.log('\n[mutation] module        score  killed survived no-cov   time');
for (const r of rows) {
  console.log(
    `[mutation] ${r.module.padEnd(12)} ${r.score.toFixed(1).padStart(6)} % ${String(r.killed).padStart(6)} ${String(r.survived).padStart(8)} ${String(r.noCoverage).padStart(6)} ${String(r.seconds).padStart(5)} s`,
  );
}
console.log(`[mutation] overall      ${(total.all === 0 ? 100 : (100 * total.killed) / total.all).toFixed(1).padStart(6)} % (${total.killed}/${total.all})`);
