import type { NextConfig } from 'next';

const nextConfig: NextConfig = {
  // PGlite loads its WASM and data files from its own package directory at run time;
  // bundling it breaks those paths (a webpack build fails at request time without this).
  // The crawler's parse worker (lib/jobs/html-parse.ts) loads lib/jobs/html-worker.mjs and its
  // parsers from disk at run time, outside the bundle: the parsers stay packages, traced with
  // their dependencies, and the worker's files are traced explicitly.
  serverExternalPackages: ['@electric-sql/pglite', 'node-html-parser', 'fast-xml-parser'],
  outputFileTracingIncludes: { '/**': ['./lib/jobs/html-worker.mjs', './lib/jobs/extract.mjs'] },
  poweredByHeader: false,
  reactStrictMode: true,
};

export default nextConfig;
