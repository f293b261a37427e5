// The receiver of bench/fanout.ts, in its own process so that its work (verifying every signature
// with the standardwebhooks library) does not share a CPU thread with the service. It records, per
// request, the webhook-id, the arrival time and the body's occurredAt; GET /_stats?path= returns them
// (GET /_count?path= only how many). A path starting with /slow answers after SLOW_MS (500 ms): the
// slow subscriber of the isolation scenario.
import { Webhook } from 'standardwebhooks';

const secrets = new Map<string, Webhook>();
const records = new Map<string, Array<{ id: string; at: number; occurredAt: number; calendarId: string; seq: number; verified: boolean }>>();

const SLOW_MS = Number(process.env.SLOW_MS ?? 500);

const server = Bun.serve({
  port: Number(process.env.RECEIVER_PORT ?? 0),
  hostname: '127.0.0.1',
  async fetch(req) {
    const url = new URL(req.url);
    if (url.pathname === '/_secret') {
      const { path, secret } = (await req.json()) as { path: string; secret: string };
      secrets.set(path, new Webhook(secret));
      return new Response(null, { status: 204 });
    }
    if (url.pathname === '/_count') {
      return Response.json(records.get(url.searchParams.get('path') ?? '')?.length ?? 0);
    }
    if (url.pathname === '/_stats') {
      return Response.json(records.get(url.searchParams.get('path') ?? '') ?? []);
    }
    const raw = await req.text();
    const at = Date.now();
    const headers = Object.fromEntries(req.headers);
    let verified = false;
    let body: any;
    try {
      body = secrets.get(url.pathname)!.verify(raw, headers);
      verified = true;
    } catch {
      body = JSON.parse(raw);
    }
    const list = records.get(url.pathname) ?? [];
    records.set(url.pathname, list);
    list.push({
      id: headers['webhook-id'] ?? '',
      at,
      occurredAt: Date.parse(body.occurredAt),
      calendarId: body.calendarId,
      seq: Number(body.data?.seq ?? -1),
      verified,
    });
    if (url.pathname.startsWith('/slow')) await Bun.sleep(SLOW_MS);
    return new Response(null, { status: 204 });
  },
});
console.log(server.port);
