// Slack messages to a group's channel, posted by their own job so that a Slack outage retries the
// message and never the swap. At most one post per message: the attempt is committed as `posting`
// BEFORE calling Slack and the ts AFTER; a retry finding `posting` cannot know whether the first
// post went out, so it does not post again (the message is marked `unknown` and logged).
import { eq } from 'drizzle-orm';
import type { Ctx } from '../context/index.ts';
import type { Executor } from '../db/index.ts';
import { AppError } from '../errors/index.ts';
import type { JobInfo } from '../jobs/index.ts';
import { oncallMessages, type OncallMessage } from '../../schema/oncall.ts';
import { rememberSlackUserId } from './groups.ts';
import { groupById, membersOf, shiftById, swapById, type OncallGroup, type OncallMember } from './queries.ts';
import { postSlackMessage, lookupSlackUserId } from './slack.ts';
import { shiftWhen } from './time.ts';
import { notifyJob } from './jobs.ts';

/** Records a message owed to the channel and enqueues its job, inside the caller's transaction. */
export async function enqueueOncallMessage(
  tx: Executor,
  ctx: Ctx,
  m: { groupId: string; kind: 'swap' | 'cover'; shiftId: string; swapId?: string; dedupeKey: string },
): Promise<void> {
  const now = ctx.clock.now();
  const [row] = await tx
    .insert(oncallMessages)
    .values({ groupId: m.groupId, kind: m.kind, shiftId: m.shiftId, swapId: m.swapId ?? null, dedupeKey: m.dedupeKey, createdAt: now, updatedAt: now })
    .onConflictDoNothing()
    .returning({ id: oncallMessages.id });
  if (row) await notifyJob.send(ctx, { messageId: row.id }, { tx, singletonKey: row.id });
}

// Slack's text escaping: "&", "<" and ">" are control characters (Slack formatting docs).
const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

async function mentionFor(ctx: Ctx, members: OncallMember[], email: string): Promise<string> {
  const m = members.find((x) => x.email === email.toLowerCase());
  let id = m?.slackUserId ?? null;
  if (!id) {
    // Someone who joined Slack after being added: look again, and remember it.
    id = await lookupSlackUserId(ctx, email);
    if (id && m) await rememberSlackUserId(ctx.db, m.id, id);
  }
  if (id) return `<@${id}>`;
  return m ? `${escape(m.name)} (${escape(email)})` : escape(email);
}

async function renderMessage(ctx: Ctx, message: OncallMessage, group: OncallGroup): Promise<string> {
  const members = await membersOf(ctx.db, group.id);
  const name = `*${escape(group.name)}*`;
  if (message.kind === 'cover') {
    const shift = await shiftById(ctx.db, message.shiftId);
    if (!shift) throw new AppError('NOT_FOUND', 'the shift of this message is gone');
    const who = await mentionFor(ctx, members, shift.declinedBy ?? shift.assigneeEmail);
    return `:rotating_light: Cover needed in ${name}: ${who} declined the on-call shift of ${shiftWhen(group.timeZone, shift.startAt, shift.endAt)} and nobody could swap with them. Who can take it?`;
  }
  const swap = message.swapId ? await swapById(ctx.db, message.swapId) : undefined;
  if (!swap) throw new AppError('NOT_FOUND', 'the swap of this message is gone');
  const [a, b] = await Promise.all([shiftById(ctx.db, swap.declinedShiftId), shiftById(ctx.db, swap.swapShiftId)]);
  if (!a || !b) throw new AppError('NOT_FOUND', 'a shift of this swap is gone');
  const from = await mentionFor(ctx, members, swap.fromEmail);
  const to = await mentionFor(ctx, members, swap.toEmail);
  const whenA = shiftWhen(group.timeZone, a.startAt, a.endAt);
  const whenB = shiftWhen(group.timeZone, b.startAt, b.endAt);
  if (swap.kind === 'manual') {
    return `:repeat: On-call swap in ${name} (made by an admin): ${to} now holds ${whenA}, and ${from} holds ${whenB}.`;
  }
  return `:repeat: On-call swap in ${name}: ${from} declined ${whenA}, so ${to} takes it, and ${from} takes ${to}'s shift of ${whenB}.`;
}

async function setMessage(ctx: Ctx, id: string, values: Partial<typeof oncallMessages.$inferInsert>): Promise<void> {
  await ctx.db.update(oncallMessages).set({ ...values, updatedAt: ctx.clock.now() }).where(eq(oncallMessages.id, id));
}

export type NotifyResult = 'posted' | 'alreadyPosted' | 'unknown' | 'failed' | 'gone';

export async function postOncallMessage(ctx: Ctx, messageId: string, job?: Pick<JobInfo, 'id' | 'name' | 'log'>): Promise<NotifyResult> {
  const log = job?.log ?? ctx.log;
  const [current] = await ctx.db.select().from(oncallMessages).where(eq(oncallMessages.id, messageId));
  if (!current) return 'gone';
  const group = await groupById(ctx.db, current.groupId);
  if (!group) return 'gone';
  // Rendered before the claim: once `posting` is committed nothing may fail before the post.
  const text = current.state === 'pending' ? await renderMessage(ctx, current, group) : '';

  // Before: claim the message. Only a `pending` message may be posted, by one executor.
  const claimed = await ctx.db.transaction(async (tx) => {
    const [m] = await tx.select().from(oncallMessages).where(eq(oncallMessages.id, messageId)).for('update');
    if (!m) return 'gone' as const;
    if (m.state === 'posted') return 'alreadyPosted' as const;
    if (m.state === 'unknown' || m.state === 'failed') return m.state;
    if (m.state === 'posting') {
      // A previous attempt committed `posting` and never recorded its outcome: it may have posted.
      await tx.update(oncallMessages).set({ state: 'unknown', updatedAt: ctx.clock.now() }).where(eq(oncallMessages.id, m.id));
      return 'unknown' as const;
    }
    await tx
      .update(oncallMessages)
      .set({ state: 'posting', attempts: m.attempts + 1, text, updatedAt: ctx.clock.now() })
      .where(eq(oncallMessages.id, m.id));
    return 'claimed' as const;
  });
  if (claimed !== 'claimed') {
    if (claimed === 'unknown') log.error({ messageId }, 'a Slack post may or may not have gone out (no answer recorded): not posting it again');
    return claimed;
  }

  const out = await postSlackMessage(ctx, group.slackChannel, text);

  // After: record what Slack said.
  switch (out.outcome) {
    case 'posted':
      // The post is out: a lost write here would leave `posting` (never re-posted), so insist a little.
      for (let attempt = 1; ; attempt++) {
        try {
          await setMessage(ctx, messageId, { state: 'posted', slackTs: out.ts, postedAt: ctx.clock.now(), lastError: null });
          break;
        } catch (err) {
          if (attempt >= 5) throw err;
          await Bun.sleep(200 * attempt);
        }
      }
      log.info({ messageId, ts: out.ts, channel: out.channel }, 'on-call message posted to Slack');
      return 'posted';
    case 'unknown':
      await setMessage(ctx, messageId, { state: 'unknown', lastError: out.error });
      log.error({ messageId, error: out.error }, 'Slack did not answer a post: not posting it again');
      return 'unknown';
    case 'notPosted':
      if (!out.retryable) {
        await setMessage(ctx, messageId, { state: 'failed', lastError: out.error });
        log.error({ messageId, error: out.error }, 'Slack refused the on-call message for good');
        return 'failed';
      }
      await setMessage(ctx, messageId, { state: 'pending', lastError: out.error });
      // The retry waits what Slack asked for ("Retry-After ... seconds", Slack rate-limits doc).
      if (job && out.retryAfterSeconds !== undefined) await ctx.jobs.setRetryDelay(job.name, job.id, out.retryAfterSeconds);
      throw new AppError(out.retryAfterSeconds !== undefined ? 'UPSTREAM_RATE_LIMITED' : 'UPSTREAM_ERROR', `Slack: ${out.error}`, {
        ...(out.retryAfterSeconds !== undefined ? { retryAfterSeconds: out.retryAfterSeconds } : {}),
      });
  }
}
