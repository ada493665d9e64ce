import path from 'node:path';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { alias: { '@': path.resolve(import.meta.dirname) } },
  test: {
    include: ['tests/unit/**/*.test.ts', 'tests/integration/**/*.test.ts', 'tests/security/**/*.test.ts'],
    globalSetup: ['tests/support/global-setup.ts'],
    // The app's log lines are captured, not printed (a passing run prints none), and shown for a failing test.
    setupFiles: ['tests/support/log-capture.ts'],
    environment: 'node',
    // Opening a fresh PGlite runs initdb in WASM (≈ 3–4 s on this class of machine).
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
