// Batched loading for the admin API: one DataLoader per request and per name, so that a list of
// owners with their calendars and channels costs a constant number of SQL queries, not one per row.
// A relation taking arguments (a range, a page size) names its loader with them (`loaderName`):
// parents asking with the same arguments share one batch.
import DataLoader from 'dataloader';
import type { AdminContext } from './graphql-builder.ts';

export function loaderFor<K, V>(
  ctx: AdminContext,
  name: string,
  batch: (keys: readonly K[]) => Promise<ReadonlyArray<V>>,
): DataLoader<K, V> {
  let loader = ctx.loaders.get(name) as DataLoader<K, V> | undefined;
  if (!loader) {
    loader = new DataLoader<K, V>(batch, { maxBatchSize: 500 });
    ctx.loaders.set(name, loader as DataLoader<unknown, unknown>);
  }
  return loader;
}

/** A loader's name for a relation with arguments: the same arguments share a batch. */
export const loaderName = (name: string, args: Record<string, unknown>) => `${name}:${JSON.stringify(args)}`;

/** Groups rows by key in the order of `keys` (what a DataLoader batch must return). */
export function groupBy<K, V>(keys: readonly K[], rows: V[], keyOf: (row: V) => K): V[][] {
  const map = new Map<K, V[]>();
  for (const row of rows) {
    const k = keyOf(row);
    const list = map.get(k);
    if (list) list.push(row);
    else map.set(k, [row]);
  }
  return keys.map((k) => map.get(k) ?? []);
}

/** The row of each key in the order of `keys`, null where there is none (a to-one relation). */
export function oneBy<K, V>(keys: readonly K[], rows: V[], keyOf: (row: V) => K): Array<V | null> {
  const map = new Map<K, V>();
  for (const row of rows) map.set(keyOf(row), row);
  return keys.map((k) => map.get(k) ?? null);
}
