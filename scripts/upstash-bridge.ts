/**
 * npm run upstash-bridge [-- --port 8079 --redis redis://127.0.0.1:6379 --token T --host 127.0.0.1]
 *
 * Serves the Upstash REST protocol on a local Redis, so the app's Upstash adapter (the one used on
 * Vercel) can run on a laptop: start this, then set the two printed variables and `npm start`.
 * Redis defaults to REDIS_URL, else redis://127.0.0.1:6379; the token to a random one.
 */
import { parseArgs } from 'node:util';
import { loadConfig, loadEnvFiles } from '@/lib/config';
import { startUpstashBridge } from '../tests/support/upstash-bridge';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '8079' },
    host: { type: 'string', default: '127.0.0.1' },
    redis: { type: 'string' },
    token: { type: 'string' },
  },
});

loadEnvFiles('development');
const redisUrl = values.redis ?? loadConfig().redisUrl ?? 'redis://127.0.0.1:6379';
const bridge = await startUpstashBridge({ redisUrl, port: Number(values.port), host: values.host, token: values.token });
console.log(`
  Upstash REST bridge on ${bridge.url} → ${redisUrl}

  UPSTASH_REDIS_REST_URL=${bridge.url}
  UPSTASH_REDIS_REST_TOKEN=${bridge.token}
`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void bridge.close().then(() => process.exit(0));
  });
}
