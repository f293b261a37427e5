// Verbs over groups and members: create a group, add and remove members. Slack user ids not given
// are looked up by email (outside any transaction); an unknown address simply gets no mention.
import { and, eq, gt, max, ne, sql } from 'drizzle-orm';
import { z } from 'zod';
import { CalendarId, Email, ExternalOwnerId, OncallGroupId, TimeZone } from '../api/index.ts';
import type { Ctx } from '../context/index.ts';
import type { Executor } from '../db/index.ts';
import { AppError } from '../errors/index.ts';
import { findOwnerByExternalId } from '../links/index.ts';
import { findCalendar } from '../sync/index.ts';
import { oncallGroups, oncallMembers, shifts } from '../../schema/oncall.ts';
import { groupById, type OncallGroup } from './queries.ts';
import { lookupSlackUserId } from './slack.ts';

// A member is known by its address in lower case (the same person, however it is typed).
const email = Email.transform((e) => e.toLowerCase());
// Slack ids: U/W for users (https://api.slack.com/changelog/2016-08-11-user-id-format-changes).
const slackUserId = z.string().trim().regex(/^[UW][A-Z0-9]{2,20}$/, 'must be a Slack user id such as U012AB3CD');

export const MemberInput = z.object({
  email,
  name: z.string().trim().min(1).max(200),
  slackUserId: slackUserId.nullish(),
});
export type MemberInput = z.input<typeof MemberInput>;

export const CreateOncallGroupInput = z.object({
  name: z.string().trim().min(1).max(200),
  externalOwnerId: ExternalOwnerId,
  calendarId: CalendarId,
  // A channel id (C..., G...) or a #name: chat.postMessage accepts both.
  slackChannel: z.string().trim().min(1).max(200),
  timeZone: TimeZone,
  members: z.array(MemberInput).max(200).default([]),
});
export type CreateOncallGroupInput = z.input<typeof CreateOncallGroupInput>;

export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const r = schema.safeParse(input);
  if (!r.success) throw new AppError('VALIDATION', z.prettifyError(r.error));
  return r.data;
}

async function withSlackIds(ctx: Ctx, members: Array<z.infer<typeof MemberInput>>) {
  return Promise.all(
    members.map(async (m) => ({ ...m, slackUserId: m.slackUserId ?? (await lookupSlackUserId(ctx, m.email)) })),
  );
}

export async function createOncallGroup(ctx: Ctx, raw: CreateOncallGroupInput): Promise<OncallGroup> {
  const input = parseInput(CreateOncallGroupInput, raw);
  const emails = input.members.map((m) => m.email);
  if (new Set(emails).size !== emails.length) throw new AppError('VALIDATION', 'a member is listed twice');
  const owner = await findOwnerByExternalId(ctx, input.externalOwnerId);
  if (!owner || owner.status === 'unlinked') throw new AppError('NOT_FOUND', `no linked owner ${input.externalOwnerId}`);
  if (owner.status !== 'active') throw new AppError('VALIDATION', `owner ${input.externalOwnerId} is ${owner.status}: link it again first`);
  // Declines are seen through the mirror: the calendar must be one the sync follows.
  const calendar = await findCalendar(ctx, owner.id, input.calendarId);
  if (!calendar || calendar.deleted) {
    throw new AppError('VALIDATION', `calendar ${input.calendarId} is not in ${input.externalOwnerId}'s calendar list`);
  }
  if (!calendar.selected) {
    throw new AppError('VALIDATION', `calendar ${input.calendarId} is not selected for sync: select it with calendars.setSelected first`);
  }
  if (calendar.accessRole && !['owner', 'writer'].includes(calendar.accessRole)) {
    throw new AppError('VALIDATION', `calendar ${input.calendarId} is ${calendar.accessRole}-only for this owner: shifts cannot be written to it`);
  }
  const members = await withSlackIds(ctx, input.members);
  return ctx.db.transaction(async (tx) => {
    const [group] = await tx
      .insert(oncallGroups)
      .values({
        name: input.name,
        ownerId: owner.id,
        // Google's own id (an admin may have said `primary`): change sets carry that one.
        calendarId: calendar.calendarId,
        slackChannel: input.slackChannel,
        timeZone: input.timeZone,
        createdAt: ctx.clock.now(),
        updatedAt: ctx.clock.now(),
      })
      .returning();
    if (members.length > 0) {
      await tx.insert(oncallMembers).values(
        members.map((m, position) => ({ groupId: group!.id, email: m.email, name: m.name, slackUserId: m.slackUserId ?? null, position })),
      );
    }
    ctx.log.info({ groupId: group!.id, ownerId: owner.id, members: members.length }, 'on-call group created');
    return group!;
  });
}

export const AddOncallMemberInput = MemberInput.extend({ groupId: OncallGroupId });
export type AddOncallMemberInput = z.input<typeof AddOncallMemberInput>;

export async function addOncallMember(ctx: Ctx, raw: AddOncallMemberInput): Promise<OncallGroup> {
  const input = parseInput(AddOncallMemberInput, raw);
  if (!(await groupById(ctx.db, input.groupId))) throw new AppError('NOT_FOUND', `no on-call group ${input.groupId}`);
  const [member] = await withSlackIds(ctx, [input]);
  return ctx.db.transaction(async (tx) => {
    const group = await groupById(tx, input.groupId, { forUpdate: true });
    if (!group) throw new AppError('NOT_FOUND', `no on-call group ${input.groupId}`);
    const [last] = await tx.select({ position: max(oncallMembers.position) }).from(oncallMembers).where(eq(oncallMembers.groupId, group.id));
    const inserted = await tx
      .insert(oncallMembers)
      .values({ groupId: group.id, email: member!.email, name: member!.name, slackUserId: member!.slackUserId ?? null, position: (last?.position ?? -1) + 1 })
      .onConflictDoNothing()
      .returning();
    if (inserted.length === 0) throw new AppError('CONFLICT', `${member!.email} is already a member of ${group.name}`);
    return group;
  });
}

export const RemoveOncallMemberInput = z.object({ groupId: OncallGroupId, email });
export type RemoveOncallMemberInput = z.input<typeof RemoveOncallMemberInput>;

/** Refused while the member still holds future shifts: swap or reschedule them first. */
export async function removeOncallMember(ctx: Ctx, raw: RemoveOncallMemberInput): Promise<OncallGroup> {
  const input = parseInput(RemoveOncallMemberInput, raw);
  return ctx.db.transaction(async (tx) => {
    const group = await groupById(tx, input.groupId, { forUpdate: true });
    if (!group) throw new AppError('NOT_FOUND', `no on-call group ${input.groupId}`);
    const [held] = await tx
      .select({ n: sql<number>`count(*)::int` })
      .from(shifts)
      .where(and(eq(shifts.groupId, group.id), eq(shifts.assigneeEmail, input.email), gt(shifts.endAt, ctx.clock.now()), ne(shifts.status, 'uncovered')));
    if ((held?.n ?? 0) > 0) throw new AppError('CONFLICT', `${input.email} still holds ${held!.n} future shift(s) in ${group.name}`);
    const removed = await tx
      .delete(oncallMembers)
      .where(and(eq(oncallMembers.groupId, group.id), eq(oncallMembers.email, input.email)))
      .returning({ id: oncallMembers.id });
    if (removed.length === 0) throw new AppError('NOT_FOUND', `${input.email} is not a member of ${group.name}`);
    return group;
  });
}

/** links' 'unlinked' event: the owner's calendar is gone for calwatch, so are its groups. */
export async function deleteGroupsOfOwner(tx: Executor, ownerId: string): Promise<number> {
  const rows = await tx.delete(oncallGroups).where(eq(oncallGroups.ownerId, ownerId)).returning({ id: oncallGroups.id });
  return rows.length;
}

/** Caches a Slack id found later (a member who joined Slack after being added). */
export async function rememberSlackUserId(db: Executor, memberId: string, slackUserId: string): Promise<void> {
  await db.update(oncallMembers).set({ slackUserId }).where(eq(oncallMembers.id, memberId));
}
