/**
 * The production HTTP server `npm start` runs (scripts/start.ts): Next.js's request handler behind a
 * Node server of our own, which is what `next start` is minus one thing — every request reaches the
 * app with `X-Forwarded-For` ending in the socket address (lib/http.ts withSocketAddress), so the
 * client's address the rate limits key on (lib/http.ts clientIp) cannot be chosen by the client.
 * `next start` keeps a client-sent `X-Forwarded-For` as it is and the socket is out of the app's reach.
 */
import http from 'node:http';
import next from 'next';
import { getConfig } from '@/lib/config';
import { withSocketAddress } from '@/lib/http';
import { createLogger } from '@/lib/log';

const log = createLogger('serve');
const config = getConfig();
const app = next({ dev: false, dir: process.cwd(), hostname: config.host ?? 'localhost', port: config.port });
const handle = app.getRequestHandler();
await app.prepare();

const server = http.createServer(withSocketAddress((req, res: http.ServerResponse) => handle(req, res)));
server.listen(config.port, config.host, () => log.info(`listening on ${config.host ?? '*'}:${config.port}`));

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    server.close();
    void app.close().finally(() => process.exit(0));
  });
}
