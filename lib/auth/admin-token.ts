/**
 * The admin token of deployments without Supabase Auth: `OMNIOPS_ADMIN_TOKEN`, or else a random
 * token generated once into the data directory (mode 0600) and reused on every start.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '@/lib/config';

export interface AdminToken {
  token: string;
  source: 'env' | 'file';
  /** Where a generated token is kept. */
  file: string;
  /** True when this call generated it (first start). */
  created: boolean;
}

export function resolveAdminToken(config: Pick<Config, 'adminToken' | 'dataDir'>): AdminToken {
  const file = path.join(config.dataDir, 'admin-token');
  if (config.adminToken) return { token: config.adminToken, source: 'env', file, created: false };
  try {
    return { token: fs.readFileSync(file, 'utf8').trim(), source: 'file', file, created: false };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const token = crypto.randomBytes(24).toString('base64url');
  fs.mkdirSync(config.dataDir, { recursive: true });
  try {
    fs.writeFileSync(file, `${token}\n`, { flag: 'wx', mode: 0o600 });
  } catch (error) {
    // Another process generated it first: use theirs.
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return resolveAdminToken(config);
    throw error;
  }
  return { token, source: 'file', file, created: true };
}
