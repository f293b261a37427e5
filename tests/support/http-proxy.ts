// A small HTTP forwarder for tests: put it between the service and Google (the emulator) to act
// between two requests (hold one, fail one, kill the service while one is in flight), or in front
// of several services as a splitter. Every request forwarded is logged with the status it got.
// (Moved here from tests/oncall/swap-saga.test.ts, where it was written inline.)

export interface ProxiedRequest {
  method: string;
  path: string;
  search: string;
  target: string;
  status: number;
}

/** Runs before a request is forwarded: return a Response to answer it instead, nothing to forward it. */
export type ProxyHook = (req: Request, url: URL) => Promise<Response | void> | Response | void;

export interface HttpProxy {
  /** Base URL with a trailing slash (googleapis keeps only the origin of a rootUrl anyway). */
  url: string;
  port: number;
  hook: ProxyHook | undefined;
  /** Every forwarded request, in order. */
  seen: ProxiedRequest[];
  stop(): Promise<void>;
}

export function startHttpProxy(opts: { target: string | ((req: Request, url: URL) => string); hook?: ProxyHook }): HttpProxy {
  const seen: ProxiedRequest[] = [];
  const proxy: HttpProxy = {
    url: '',
    port: 0,
    hook: opts.hook,
    seen,
    async stop() {
      await server.stop(true);
    },
  };
  const server = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    idleTimeout: 60,
    async fetch(req) {
      const url = new URL(req.url);
      const early = proxy.hook ? await proxy.hook(req, url) : undefined;
      if (early) return early;
      const target = typeof opts.target === 'string' ? opts.target : opts.target(req, url);
      const headers = new Headers(req.headers);
      headers.delete('host');
      headers.delete('accept-encoding');
      const body = req.method === 'GET' || req.method === 'HEAD' ? undefined : await req.arrayBuffer();
      let res: Response;
      try {
        res = await fetch(new URL(url.pathname + url.search, target), { method: req.method, headers, body, redirect: 'manual' });
      } catch {
        // The target is down (a killed service): what a client would see is a refused connection;
        // the closest a proxy can say is 502.
        seen.push({ method: req.method, path: url.pathname, search: url.search, target, status: 502 });
        return new Response(null, { status: 502 });
      }
      seen.push({ method: req.method, path: url.pathname, search: url.search, target, status: res.status });
      const out = new Headers(res.headers);
      out.delete('content-encoding');
      out.delete('content-length');
      return new Response(res.status === 204 || res.status === 304 ? null : await res.arrayBuffer(), { status: res.status, headers: out });
    },
  });
  proxy.port = server.port!;
  proxy.url = `http://127.0.0.1:${server.port}/`;
  return proxy;
}
