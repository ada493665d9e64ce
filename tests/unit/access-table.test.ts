/**
 * Access is declared once, where each admin API and dashboard page is (lib/auth/route.ts
 * `staffRoute`, lib/auth/page.ts `staffPage`), and docs/dashboard.md's table of who may call what
 * is this test's expectation of those declarations: a route whose access changes, a new route, or a
 * route written outside the envelope fails here until the table says the same.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { StaffRouteHandler } from '@/lib/auth/route';
import type { StaffPageComponent } from '@/lib/auth/page';

const root = path.resolve(import.meta.dirname, '../..');
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

/** The files named `name` under `dir`, as the URL path pattern of each (`[param]` kept). */
function filesNamed(dir: string, name: string): { file: string; pattern: string }[] {
  return (fs.readdirSync(path.join(root, dir), { recursive: true }) as string[])
    .filter((f) => path.basename(f) === name)
    .map((f) => {
      const sub = path.dirname(f).split(path.sep).join('/');
      return { file: path.join(root, dir, f), pattern: sub === '.' ? `/${dir.replace(/^app\//, '')}` : `/${dir.replace(/^app\//, '')}/${sub}` };
    })
    .sort((a, b) => a.pattern.localeCompare(b.pattern));
}

/** The Markdown table right under `heading` in docs/dashboard.md, as its lines. */
function documentedTable(heading: string): string {
  const lines = fs.readFileSync(path.join(root, 'docs/dashboard.md'), 'utf8').split('\n');
  const start = lines.indexOf(heading);
  expect(start, `docs/dashboard.md has no heading "${heading}"`).toBeGreaterThan(-1);
  const first = lines.findIndex((line, i) => i > start && line.startsWith('|'));
  const end = lines.findIndex((line, i) => i > first && !line.startsWith('|'));
  return lines.slice(first, end === -1 ? undefined : end).join('\n');
}

describe('the access table of docs/dashboard.md', () => {
  it('lists every admin API method with the access and customer scope its handler declares', async () => {
    const rows: string[] = [];
    for (const { file, pattern } of filesNamed('app/api/admin', 'route.ts')) {
      const exports = (await import(file)) as Record<string, unknown>;
      for (const method of METHODS) {
        const handler = exports[method] as StaffRouteHandler | undefined;
        if (handler === undefined) continue;
        expect(handler.declared, `${method} ${pattern}: not written in staffRoute (lib/auth/route.ts)`).toBeDefined();
        expect(handler.declared.route, `${method} ${pattern}: declared under another path`).toBe(pattern);
        rows.push(`| \`${method}\` | \`${pattern}\` | ${handler.declared.access} | ${handler.declared.customer} |`);
      }
    }
    expect(rows.length).toBeGreaterThanOrEqual(15);
    const table = ['| method | API | access | customer |', '|---|---|---|---|', ...rows].join('\n');
    expect(documentedTable('### Who may call each admin API'), 'docs/dashboard.md differs from the declarations: the table they give is shown as expected').toBe(table);
  });

  it('lists every dashboard page with the customer scope it declares', async () => {
    const rows: string[] = [];
    for (const { file, pattern } of [...filesNamed('app/dashboard', 'layout.tsx'), ...filesNamed('app/dashboard', 'page.tsx')]) {
      const page = ((await import(file)) as { default: StaffPageComponent | undefined }).default;
      const kind = path.basename(file, '.tsx');
      expect(page?.declared, `${kind} ${pattern}: not written in staffPage (lib/auth/page.ts)`).toBeDefined();
      expect(page!.declared.path, `${kind} ${pattern}: declared under another path`).toBe(pattern);
      rows.push(`| ${kind} | \`${pattern}\` | ${page!.declared.customer} |`);
    }
    const table = ['| file | path | customer |', '|---|---|---|', ...rows].join('\n');
    expect(documentedTable('### Who may see each dashboard page'), 'docs/dashboard.md differs from the declarations: the table they give is shown as expected').toBe(table);
  });
});
