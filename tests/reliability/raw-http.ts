// HTTP/1.1 over a bare TCP socket, for what fetch() refuses to send: non-ASCII or control bytes in
// headers, headers of any size, a request trickled byte by byte (slowloris). Reads until the
// server closes the connection (requests carry `Connection: close`) or the client gives up.
import { connect } from 'node:net';

export interface RawResponse {
  /** 0 when the server closed without answering. */
  status: number;
  headers: Record<string, string>;
  body: string;
  /** How long until the server closed the connection (or the client gave up). */
  ms: number;
  /** The server closed the connection (false: the client gave up first). */
  closedByServer: boolean;
}

/** `trickleMs`: send one byte every so many ms (after the first `trickleAfter` bytes, sent at once). */
export function rawRequest(port: number, request: Buffer | string, opts: { trickleMs?: number; trickleAfter?: number; timeoutMs?: number } = {}): Promise<RawResponse> {
  const bytes = typeof request === 'string' ? Buffer.from(request, 'latin1') : request;
  return new Promise((resolve) => {
    const started = performance.now();
    const chunks: Buffer[] = [];
    let done = false;
    let timer: ReturnType<typeof setInterval> | undefined;
    const finish = (closedByServer: boolean) => {
      if (done) return;
      done = true;
      if (timer) clearInterval(timer);
      clearTimeout(giveUp);
      socket.destroy();
      const text = Buffer.concat(chunks).toString('utf8');
      const [head = '', ...rest] = text.split('\r\n\r\n');
      const [statusLine = '', ...headerLines] = head.split('\r\n');
      const headers: Record<string, string> = {};
      for (const l of headerLines) {
        const i = l.indexOf(':');
        if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
      }
      resolve({ status: Number(statusLine.split(' ')[1] ?? 0) || 0, headers, body: rest.join('\r\n\r\n'), ms: Math.round(performance.now() - started), closedByServer });
    };
    const socket = connect(port, '127.0.0.1', () => {
      if (!opts.trickleMs) {
        socket.write(bytes);
        return;
      }
      let i = opts.trickleAfter ?? 0;
      if (i > 0) socket.write(bytes.subarray(0, i));
      timer = setInterval(() => {
        if (i >= bytes.length || socket.destroyed) return clearInterval(timer);
        socket.write(bytes.subarray(i, i + 1));
        i++;
      }, opts.trickleMs);
    });
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('close', () => finish(true));
    socket.on('error', () => finish(true));
    const giveUp = setTimeout(() => finish(false), opts.timeoutMs ?? 10_000);
  });
}

/** A request with these headers (name, value as raw bytes or latin1 text) and an optional body. */
export function rawPost(path: string, headers: Array<[string, string | Buffer]>, body?: Buffer | string, method = 'POST'): Buffer {
  const parts: Buffer[] = [Buffer.from(`${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n`, 'latin1')];
  for (const [name, value] of headers) parts.push(Buffer.from(`${name}: `, 'latin1'), typeof value === 'string' ? Buffer.from(value, 'latin1') : value, Buffer.from('\r\n'));
  const b = body === undefined ? undefined : typeof body === 'string' ? Buffer.from(body) : body;
  parts.push(Buffer.from(`Content-Length: ${b?.length ?? 0}\r\n\r\n`, 'latin1'));
  if (b) parts.push(b);
  return Buffer.concat(parts);
}
