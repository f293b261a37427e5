// Batched loading for the admin API: one DataLoader per request and per name, so that a list of
// owners with their calendars and channels costs a constant number of SQL queries, not one per row.
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
