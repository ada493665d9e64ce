import path from 'node:path';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { alias: { '@': path.resolve(import.meta.dirname) } },
  test: {
    include: ['tests/unit/**/*.test.ts', 'tests/integration/**/*.test.ts', 'tests/security/**/*.test.ts'],
    globalSetup: ['tests/support/global-setup.ts'],
    environment: 'node',
    // Opening a fresh PGlite runs initdb in WASM (≈ 3–4 s on this class of machine).
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
