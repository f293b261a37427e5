// A TCP proxy between the service and its database, so a test can make Postgres "go away" and
// come back without touching the server other suites use.
import { createServer, connect, type Socket, type Server } from 'node:net';

export interface TcpProxy {
  port: number;
  /** The same URL, pointed at the proxy. */
  url(targetUrl: string): string;
  /** Refuse new connections and cut the open ones. */
  down(): void;
  up(): void;
  stop(): Promise<void>;
}

export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  let accepting = true;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    if (!accepting) {
      client.destroy();
      return;
    }
    const upstream = connect(targetPort, targetHost);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const down = () => {
    accepting = false;
    for (const s of sockets) s.destroy();
    sockets.clear();
  };
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    port,
    url(targetUrl) {
      const u = new URL(targetUrl);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.toString();
    },
    down,
    up() {
      accepting = true;
    },
    async stop() {
      down();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
