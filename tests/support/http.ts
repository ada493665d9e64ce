import type http from 'node:http';
import nodeHttp from 'node:http';
import type { AddressInfo } from 'node:net';

/** The whole body of a request, as UTF-8 text. */
export function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export interface TestSite {
  /** `http://127.0.0.1:<port>` */
  origin: string;
  port: number;
  /** Each request's `Host` header and path, in arrival order. */
  hits: string[];
  close(): Promise<void>;
}

/** An HTTP server on 127.0.0.1 answering with `handler` (given the request's path), recording each request. */
export async function serveSite(handler: (path: string, res: http.ServerResponse, req: http.IncomingMessage) => void): Promise<TestSite> {
  const hits: string[] = [];
  const server = nodeHttp.createServer((req, res) => {
    hits.push(`${req.headers.host}${req.url}`);
    handler(new URL(req.url ?? '/', 'http://site').pathname, res, req);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
