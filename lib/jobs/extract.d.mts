/** Types of extract.mjs (plain JavaScript, so that the parse worker can load it without a build). */
export interface ExtractedPage {
  title: string;
  headings: string;
  content: string;
  links: string[];
  noindex: boolean;
  nofollow: boolean;
}

export interface SitemapLocations {
  pages: string[];
  sitemaps: string[];
}

/** An absolute http(s) URL without its fragment, or null. */
export function normalizeUrl(href: string, base: string): string | null;
/** Title, headings, main text and links of an HTML page. */
export function extractPage(html: string, pageUrl: string): ExtractedPage;
/** `<loc>` entries of a sitemap or sitemap index. */
export function sitemapLocations(xml: string): SitemapLocations;
