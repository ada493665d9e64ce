/**
 * The documentation keeps itself honest: the README stays a front door (≤ 250 lines), every
 * relative link in README.md and docs/*.md reaches an existing file — and, with `#anchor`, an
 * existing heading of that file under GitHub's slug rules — and no source comment cites a
 * document outside the repository (the numbered documents of the original design).
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const read = (file: string) => fs.readFileSync(path.join(root, file), 'utf8');

const README_MAX_LINES = 250;

function markdownFiles(): string[] {
  const docs = fs
    .readdirSync(path.join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`);
  return ['README.md', ...docs.sort()];
}

/** The lines of a Markdown file outside fenced code blocks, numbered from 1. */
function outsideFences(text: string): { line: string; number: number }[] {
  const out: { line: string; number: number }[] = [];
  let fence: string | null = null;
  text.split('\n').forEach((line, index) => {
    const marker = /^\s{0,3}(`{3,}|~{3,})/.exec(line)?.[1];
    if (marker !== undefined) {
      if (fence === null) fence = marker.charAt(0);
      else if (marker.charAt(0) === fence) fence = null;
      return;
    }
    if (fence === null) out.push({ line, number: index + 1 });
  });
  return out;
}

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens (github-slugger). */
function githubSlug(heading: string): string {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // a link or image in a heading: its text
    .replace(/<[^>]+>/g, '') // inline HTML
    .trim()
    .toLowerCase();
  return text.replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '').replace(/ /g, '-');
}

/** Every anchor a Markdown file offers: its headings (repeats get -1, -2 …) and `<a id|name>`. */
function anchorsOf(text: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const { line } of outsideFences(text)) {
    const heading = /^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)?.[1];
    if (heading !== undefined) {
      const slug = githubSlug(heading.replace(/`/g, ''));
      const count = seen.get(slug) ?? 0;
      seen.set(slug, count + 1);
      anchors.add(count === 0 ? slug : `${slug}-${count}`);
    }
    for (const match of line.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) if (match[1] !== undefined) anchors.add(match[1]);
  }
  return anchors;
}

interface Link {
  file: string;
  number: number;
  target: string;
}

function relativeLinks(file: string): Link[] {
  const links: Link[] = [];
  for (const { line, number } of outsideFences(read(file))) {
    const prose = line.replace(/(`+)(?:(?!\1).)*?\1/g, ''); // inline code spans hold no links
    for (const match of prose.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
      const target = match[1];
      if (target === undefined || /^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto: … — not a file here
      links.push({ file, number, target });
    }
  }
  return links;
}

/** Why a link is broken, or null when it reaches its file (and heading). */
function brokenReason({ file, target }: Link): string | null {
  const hash = target.indexOf('#');
  const pathPart = hash === -1 ? target : target.slice(0, hash);
  const anchor = hash === -1 ? undefined : target.slice(hash + 1);
  const resolved = pathPart === '' ? file : path.posix.normalize(path.posix.join(path.posix.dirname(file), decodeURI(pathPart)));
  if (resolved.startsWith('..')) return 'points outside the repository';
  const absolute = path.join(root, resolved);
  if (!fs.existsSync(absolute)) return `no file ${resolved}`;
  if (anchor === undefined) return null;
  if (!resolved.endsWith('.md')) return `an anchor into ${resolved}, which is not Markdown`;
  return anchorsOf(fs.readFileSync(absolute, 'utf8')).has(anchor) ? null : `no heading #${anchor} in ${resolved}`;
}

// Written in pieces so this file does not match itself.
const OUTSIDE_DOCUMENT = new RegExp(['seed [0-9]', 'DESIGN\\.md', 'design ' + 'doc'].join('|'), 'i');
const SOURCE_EXTENSIONS = new Set(['.ts', '.tsx', '.mts', '.sql', '.md', '.mjs', '.js']);
const SKIPPED_DIRS = new Set(['node_modules', '.git', '.next', '.data', 'test-results', 'playwright-report', 'coverage']);
/**
 * Migrations are the applied history and are never edited: their early headers keep the original
 * design's "seed" words, which docs/architecture.md explains (checked below). That explanation
 * is the one other place allowed to name them.
 */
const HISTORY_DIR = 'supabase/migrations';
const GLOSSARY = 'docs/architecture.md';

function sourceFiles(dir = ''): string[] {
  const files: string[] = [];
  for (const entry of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
    const relative = dir === '' ? entry.name : `${dir}/${entry.name}`;
    if (entry.isDirectory()) {
      if (!SKIPPED_DIRS.has(entry.name) && relative !== HISTORY_DIR) files.push(...sourceFiles(relative));
    } else if (SOURCE_EXTENSIONS.has(path.extname(entry.name))) {
      files.push(relative);
    }
  }
  return files;
}

describe('documentation', () => {
  it(`keeps the README a front door of at most ${README_MAX_LINES} lines`, () => {
    const lines = read('README.md').replace(/\n$/, '').split('\n').length;
    expect(lines).toBeLessThanOrEqual(README_MAX_LINES);
  });

  it('links only to files and headings that exist (README.md and docs/*.md)', () => {
    const links = markdownFiles().flatMap(relativeLinks);
    expect(links.length).toBeGreaterThan(20); // the parser finds the links it must check
    const broken = links
      .map((link) => ({ link, reason: brokenReason(link) }))
      .filter(({ reason }) => reason !== null)
      .map(({ link, reason }) => `${link.file}:${link.number} (${link.target}): ${reason}`);
    expect(broken).toEqual([]);
  });

  it('slugs headings as GitHub does', () => {
    expect(githubSlug('The widget API (anyone holding a page\'s public key)')).toBe(
      'the-widget-api-anyone-holding-a-pages-public-key',
    );
    expect(githubSlug('Dependencies and why')).toBe('dependencies-and-why');
    expect(githubSlug('Availability: a failing or hung database')).toBe('availability-a-failing-or-hung-database');
    expect(githubSlug('[Linked](x.md) heading — with a dash')).toBe('linked-heading--with-a-dash');
    expect(anchorsOf('# A\n## A\n```\n# not a heading\n```\n')).toEqual(new Set(['a', 'a-1']));
  });

  it('finds a broken link and a missing heading', () => {
    expect(brokenReason({ file: 'README.md', number: 1, target: 'docs/no-such-file.md' })).toBe('no file docs/no-such-file.md');
    expect(brokenReason({ file: 'docs/cache.md', number: 1, target: '../README.md#no-such-heading' })).toBe(
      'no heading #no-such-heading in README.md',
    );
    expect(brokenReason({ file: 'docs/cache.md', number: 1, target: '../README.md#configuration' })).toBeNull();
    expect(brokenReason({ file: 'README.md', number: 1, target: '../elsewhere.md' })).toBe('points outside the repository');
  });

  it('has no source comment or document citing a document outside the repository', () => {
    const files = sourceFiles().filter((file) => file !== GLOSSARY);
    expect(files.length).toBeGreaterThan(100);
    const citations = files.flatMap((file) =>
      read(file)
        .split('\n')
        .flatMap((line, index) => (OUTSIDE_DOCUMENT.test(line) ? [`${file}:${index + 1}: ${line.trim()}`] : [])),
    );
    expect(citations).toEqual([]);
  });

  it('explains in docs/architecture.md every seed word the migrations keep', () => {
    const glossary = read(GLOSSARY);
    const words = new Set<string>();
    for (const file of fs.readdirSync(path.join(root, HISTORY_DIR))) {
      for (const match of read(`${HISTORY_DIR}/${file}`).matchAll(/seed ([0-9]+)/gi)) words.add(`seed ${match[1]}`);
    }
    expect(words.size).toBeGreaterThan(0);
    for (const word of words) expect(glossary, `${GLOSSARY} explains "${word}"`).toContain(`*${word}*`);
  });
});
