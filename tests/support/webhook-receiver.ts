// A local webhook receiver (fan-out and reliability suites): verifies every request with the standardwebhooks
// library under the secret registered for its path, records it, and answers what the test says
// (204 by default). It can be taken down (connection refused) and brought back on the same port.
import { Webhook } from 'standardwebhooks';

export interface Received {
  path: string;
  webhookId: string;
  timestamp: string;
  raw: string;
  body: any;
  verified: boolean;
  verifyError?: string;
  status: number;
  at: number;
  headers: Record<string, string>;
}

type Responder = (r: Received, n: number) => Response | Promise<Response>;

export interface Receiver {
  base: string;
  url(path: string): string;
  secret(path: string, secret: string): void;
  respond(path: string, fn: Responder): void;
  /** Every request to `path` (all attempts, whatever was answered). */
  all(path: string): Received[];
  /** Requests to `path` answered 2xx. */
  ok(path: string): Received[];
  down(): Promise<void>;
  up(): void;
  stop(): Promise<void>;
}

export function startReceiver(): Receiver {
  const secrets = new Map<string, string>();
  const responders = new Map<string, Responder>();
  const log: Received[] = [];
  const counts = new Map<string, number>();
  let port = 0;
  let server: ReturnType<typeof Bun.serve> | undefined;

  const serve = () =>
    Bun.serve({
      port,
      hostname: '127.0.0.1',
      async fetch(req) {
        const path = new URL(req.url).pathname;
        const raw = await req.text();
        const headers: Record<string, string> = {};
        req.headers.forEach((v, k) => (headers[k] = v));
        const secret = secrets.get(path);
        let verified = false;
        let verifyError: string | undefined;
        let body: unknown;
        try {
          if (!secret) throw new Error('no secret registered for this path');
          body = new Webhook(secret).verify(raw, headers);
          verified = true;
        } catch (err) {
          verifyError = err instanceof Error ? err.message : String(err);
          try {
            body = JSON.parse(raw);
          } catch {
            body = raw;
          }
        }
        const rec: Received = {
          path,
          webhookId: headers['webhook-id'] ?? '',
          timestamp: headers['webhook-timestamp'] ?? '',
          raw,
          body,
          verified,
          ...(verifyError ? { verifyError } : {}),
          status: 0,
          at: Date.now(),
          headers,
        };
        const n = (counts.get(path) ?? 0) + 1;
        counts.set(path, n);
        const responder = responders.get(path);
        const res = responder ? await responder(rec, n) : new Response(null, { status: 204 });
        rec.status = res.status;
        log.push(rec);
        return res;
      },
    });

  server = serve();
  port = server.port!;
  const base = `http://127.0.0.1:${port}`;
  return {
    base,
    url: (path) => `${base}${path}`,
    secret: (path, secret) => secrets.set(path, secret),
    respond: (path, fn) => responders.set(path, fn),
    all: (path) => log.filter((r) => r.path === path),
    ok: (path) => log.filter((r) => r.path === path && r.status >= 200 && r.status < 300),
    async down() {
      await server?.stop(true);
      server = undefined;
    },
    up() {
      server ??= serve();
    },
    async stop() {
      await server?.stop(true);
      server = undefined;
    },
  };
}
