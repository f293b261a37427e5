// Every Google and Slack request the emulator answered, for tests to assert on (e.g. which sendUpdates value a
// write carried). Bounded so that a long benchmark does not grow memory without limit.

export interface LoggedRequest {
  id: number;
  at: string;
  method: string;
  path: string;
  query: Record<string, string | string[]>;
  user: string | null;
  status: number;
}

export const REQUEST_LOG_LIMIT = 10_000;

export class RequestLog {
  private items: LoggedRequest[] = [];
  private nextId = 1;

  add(r: Omit<LoggedRequest, 'id' | 'at'>): void {
    this.items.push({ id: this.nextId++, at: new Date().toISOString(), ...r });
    if (this.items.length > REQUEST_LOG_LIMIT * 1.5) this.items = this.items.slice(-REQUEST_LOG_LIMIT);
  }

  list(filter: { path?: string; method?: string; sinceId?: number }): LoggedRequest[] {
    return this.items.filter(
      (r) =>
        (filter.path === undefined || r.path.includes(filter.path)) &&
        (filter.method === undefined || r.method === filter.method.toUpperCase()) &&
        (filter.sinceId === undefined || r.id > filter.sinceId),
    );
  }
}

/** URL query as an object; repeated parameters (googleapis sends arrays repeated) become arrays. */
export function queryObject(url: URL): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of url.searchParams) {
    const prev = out[k];
    if (prev === undefined) out[k] = v;
    else out[k] = Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}
