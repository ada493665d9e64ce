/**
 * A TCP proxy in front of a real server (Redis), to stage network faults without stopping the
 * shared server: `pause()` stops forwarding in both directions on open connections and new ones
 * (a partition: requests hang, nothing is lost), `cut()` drops every connection and stops listening
 * (the server "went away": connection refused), `blackhole()` keeps accepting connections and
 * keeps them open but drops every byte either way (a server or network that stopped answering
 * without refusing: a hung primary), `resume()` / `restore()` undo them on the same port.
 * Connections that lost bytes in the blackhole stay dead after `restore()` (their protocol stream
 * is broken, as after a real outage); new connections forward again.
 */
import net from 'node:net';
import { viaPort } from './cache';

export interface TcpProxy {
  readonly port: number;
  /**
   * Data chunks forwarded from clients to the server so far: on loopback, one per request a client
   * writes (a pipelined batch is one write), so the deltas count round trips.
   */
  readonly requests: number;
  pause(): void;
  resume(): void;
  blackhole(): void;
  cut(): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(
  target: { host: string; port: number },
  /** Port to listen on. @default a free port */
  listenPort = 0,
): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  let requests = 0;
  let paused = false;
  let blackholed = false;
  /** Connections open during a blackhole: they dropped bytes, so they never forward again. */
  const dead = new WeakSet<net.Socket>();

  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    if (paused) socket.pause();
  };

  const server = net.createServer((client) => {
    const upstream = net.connect(target);
    track(client);
    track(upstream);
    // Forward by hand rather than with pipe(): pause() on a piped stream is not reliable.
    const forward = (to: net.Socket) => (chunk: Buffer) => {
      if (blackholed || dead.has(client)) {
        dead.add(client);
        return; // dropped: neither an answer nor an error reaches the other side
      }
      to.write(chunk);
    };
    if (blackholed) dead.add(client);
    const toServer = forward(upstream);
    client.on('data', (chunk: Buffer) => {
      requests++;
      toServer(chunk);
    });
    upstream.on('data', forward(client));
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });

  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve((server.address() as net.AddressInfo).port);
      });
    });

  const port = await listen(listenPort);
  const cut = async () => {
    if (!server.listening) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    await closed;
  };

  return {
    port,
    get requests() {
      return requests;
    },
    pause() {
      paused = true;
      for (const socket of sockets) socket.pause();
    },
    resume() {
      paused = false;
      for (const socket of sockets) socket.resume();
    },
    blackhole() {
      blackholed = true;
      for (const socket of sockets) dead.add(socket);
    },
    cut,
    async restore() {
      blackholed = false;
      if (!server.listening) await listen(port);
    },
    close: cut,
  };
}

/** A proxy in front of the server of `url` (PostgreSQL, Redis…), and the same URL through it. */
export async function proxyFor(url: string, defaultPort: number): Promise<{ proxy: TcpProxy; url: string }> {
  const target = new URL(url);
  const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || defaultPort) });
  return { proxy, url: viaPort(url, proxy.port) };
}
