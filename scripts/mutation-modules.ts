/**
 * The modules whose guarantees mutation testing measures (docs/testing.md, "Mutation testing"):
 * for each, the files (or line ranges) Stryker mutates and the test files that guard them — only
 * those run, so a module's score says what its own tests catch.
 */
import fs from 'node:fs';

export interface MutationModule {
  name: string;
  mutate: string[];
  testFiles: string[];
}

/** `file:start-end` covering the declarations from `first` through the end of `last` (a top-level function). */
function linesOf(file: string, first: RegExp, last: RegExp): string {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const start = lines.findIndex((l) => first.test(l));
  const lastAt = lines.findIndex((l) => last.test(l));
  const end = lines.findIndex((l, i) => i > lastAt && l === '}');
  if (start < 0 || lastAt < start || end < 0) throw new Error(`${file}: cannot find ${first} … ${last}`);
  return `${file}:${start + 1}-${end + 1}`;
}

export function mutationModules(): MutationModule[] {
  return [
    {
      name: 'chat-widget',
      mutate: ['lib/chat-widget/**/*.ts'],
      testFiles: ['tests/unit/persistent-message-queue.test.ts', 'tests/unit/transport.test.ts', 'tests/unit/outbox-store.test.ts'],
    },
    {
      name: 'cache',
      mutate: ['lib/cache/rate-limit.ts', 'lib/cache/memory.ts', 'lib/cache/fallback.ts'],
      testFiles: [
        'tests/unit/rate-limit.test.ts',
        'tests/unit/cache-circuit.test.ts',
        'tests/unit/cache-memory.test.ts',
        'tests/integration/cache-contract.test.ts',
        'tests/integration/cache-fallback.test.ts',
      ],
    },
    {
      name: 'cron-auth',
      mutate: ['lib/cron/auth.ts'],
      testFiles: ['tests/unit/cron-auth.test.ts', 'tests/integration/cron-routes.test.ts'],
    },
    {
      name: 'widget-auth',
      // originOf … authorizeWidget: the request's origins, the embedding origin and the key check.
      mutate: [linesOf('lib/widget/index.ts', /^function originOf\(/, /^export async function authorizeWidget\(/)],
      testFiles: ['tests/unit/widget-auth.test.ts', 'tests/integration/widget.test.ts', 'tests/security/widget-leaks.test.ts'],
    },
    {
      name: 'transfer',
      mutate: ['lib/transfer/read.ts', 'lib/transfer/format.ts', 'lib/transfer/protect.ts'],
      testFiles: ['tests/unit/transfer-format.test.ts', 'tests/integration/transfer.test.ts', 'tests/security/transfer-forgery.test.ts'],
    },
    {
      name: 'db-fallback',
      mutate: ['lib/db/fallback.ts'],
      testFiles: ['tests/integration/db-fallback.test.ts'],
    },
  ];
}
