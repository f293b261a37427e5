// The feed keeps CHANGES_RETENTION_DAYS. Pruned as a prefix of the feed's order (everything up to
// the last row older than the limit), so that one watermark tells which cursors may have missed rows.
import { sql } from 'drizzle-orm';
import type { Ctx } from '../context/index.ts';

export async function pruneChanges(ctx: Ctx): Promise<{ deleted: number }> {
  const cutoff = new Date(ctx.clock.now().getTime() - ctx.config.changes.retentionDays * 86400_000);
  return ctx.db.transaction(async (tx) => {
    const [last] = await tx.execute<{ xid: string; seq: string | number }>(sql`
      select xid::text as xid, seq from changes where occurred_at < ${cutoff.toISOString()}::timestamptz order by changes.xid desc, changes.seq desc limit 1`);
    if (!last) return { deleted: 0 };
    const gone = await tx.execute(sql`delete from changes where (xid, seq) <= (${last.xid}::xid8, ${last.seq}::bigint)`);
    await tx.execute(sql`
      insert into changes_pruned (id, xid, seq, pruned_at) values (1, ${last.xid}::xid8, ${last.seq}, ${ctx.clock.now().toISOString()}::timestamptz)
      on conflict (id) do update set xid = excluded.xid, seq = excluded.seq, pruned_at = excluded.pruned_at`);
    return { deleted: (gone as unknown as { count?: number }).count ?? 0 };
  });
}
