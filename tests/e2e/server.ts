import crypto from 'node:crypto';
import os from 'node:os';
import path from 'node:path';

/**
 * Where the e2e server listens and keeps its (fresh, per-run) embedded data directory. The port
 * is derived from the checkout's path, so two checkouts on one machine can run e2e at once.
 */
export const E2E_PORT = 3200 + (crypto.createHash('sha256').update(process.cwd()).digest().readUInt16BE(0) % 700);
export const E2E_DATA_DIR = path.join(os.tmpdir(), `omniops-e2e-${E2E_PORT}`);
