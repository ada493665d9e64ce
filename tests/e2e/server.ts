import os from 'node:os';
import path from 'node:path';

/** Where the e2e server listens and keeps its (fresh, per-run) embedded data directory. */
export const E2E_PORT = 3210;
export const E2E_DATA_DIR = path.join(os.tmpdir(), `omniops-e2e-${E2E_PORT}`);
