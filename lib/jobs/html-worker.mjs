/**
 * The crawler's parse worker (a node:worker_threads thread, started by html-parse.ts): parsing a
 * 5 MiB page takes a second or more of CPU, which on the server's event loop would stall every
 * request in the meantime. Messages: { id, kind: 'html' | 'sitemap', bytes: Uint8Array, url }
 * → { id, result } or { id, error }.
 */
import { parentPort } from 'node:worker_threads';
import { extractPage, sitemapLocations } from './extract.mjs';

const decoder = new TextDecoder('utf-8');

parentPort.on('message', ({ id, kind, bytes, url }) => {
  try {
    const text = decoder.decode(bytes);
    parentPort.postMessage({ id, result: kind === 'sitemap' ? sitemapLocations(text) : extractPage(text, url) });
  } catch (error) {
    parentPort.postMessage({ id, error: error instanceof Error ? error.message : String(error) });
  }
});
