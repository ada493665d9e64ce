/**
 * What the crawler reads from a page or a sitemap. Plain JavaScript (types in extract.d.mts): the
 * parse worker (html-worker.mjs) loads this file with Node directly, outside the app's bundle,
 * and the crawler (crawler.ts) imports normalizeUrl from it.
 */
import { XMLParser } from 'fast-xml-parser';
import { parse } from 'node-html-parser';

/** An absolute http(s) URL without its fragment, or null. */
export function normalizeUrl(href, base) {
  try {
    const url = new URL(href, base);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
    url.hash = '';
    return url.toString();
  } catch {
    return null;
  }
}

const tidy = (text) =>
  text
    .split('\n')
    .map((line) => line.replace(/\s+/g, ' ').trim())
    .filter(Boolean)
    .join('\n');

/** Title, headings, main text and links of an HTML page. */
export function extractPage(html, pageUrl) {
  const root = parse(html, { comment: false, blockTextElements: { script: false, style: false, noscript: false, pre: true } });
  const robots = (root.querySelector('meta[name="robots"]')?.getAttribute('content') ?? '').toLowerCase();
  const base = normalizeUrl(root.querySelector('base[href]')?.getAttribute('href') ?? pageUrl, pageUrl) ?? pageUrl;
  const links = root
    .querySelectorAll('a[href]')
    .filter((a) => !(a.getAttribute('rel') ?? '').toLowerCase().split(/\s+/).includes('nofollow'))
    .map((a) => normalizeUrl(a.getAttribute('href'), base))
    .filter((url) => url !== null);
  for (const element of root.querySelectorAll('template, svg, nav, footer, form, iframe')) element.remove();
  const main = root.querySelector('main') ?? root.querySelector('article') ?? root.querySelector('body') ?? root;
  return {
    title: tidy(root.querySelector('title')?.text ?? ''),
    headings: tidy(main.querySelectorAll('h1, h2, h3').map((h) => h.text).join('\n')),
    content: tidy(main.structuredText).slice(0, 500_000),
    links: [...new Set(links)],
    noindex: /\b(noindex|none)\b/.test(robots),
    nofollow: /\b(nofollow|none)\b/.test(robots),
  };
}

/** `<loc>` entries of a sitemap or sitemap index. */
export function sitemapLocations(xml) {
  const doc = new XMLParser({ ignoreAttributes: true }).parse(xml);
  const locs = (node, child) => {
    const entries = node?.[child];
    return (Array.isArray(entries) ? entries : entries ? [entries] : [])
      .map((entry) => String(entry?.loc ?? '').trim())
      .filter(Boolean);
  };
  return { pages: locs(doc.urlset, 'url'), sitemaps: locs(doc.sitemapindex, 'sitemap') };
}
