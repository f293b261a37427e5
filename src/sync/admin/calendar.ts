// The Calendar type (no titles or event contents: only counts and times), Owner.calendars, and the
// resyncCalendar mutation; `loadCalendar` for other modules' types that point at a calendar.
import { builder, loaderFor, groupBy, oneBy, type AdminContext } from '../../api/index.ts';
import { AppError } from '../../errors/index.ts';
import { OwnerRef, findOwnerByExternalId } from '../../links/index.ts';
import { findCalendar, type SyncCalendar } from '../calendars.ts';
import { listCalendarsOfOwners, countEventsByCalendar, getCalendars } from '../calendar-stats.ts';
import { resyncCalendars } from '../resync.ts';

export const CalendarRef = builder.objectRef<SyncCalendar>('Calendar').implement({
  description: "One of an owner's Google calendars, as mirrored",
  fields: (t) => ({
    id: t.exposeID('id', { description: "calwatch's calendar row id" }),
    calendarId: t.exposeString('calendarId', { description: "Google's calendar id" }),
    externalOwnerId: t.exposeString('externalOwnerId'),
    summary: t.exposeString('summary', { nullable: true }),
    timeZone: t.exposeString('timeZone', { nullable: true }),
    primary: t.exposeBoolean('primary'),
    accessRole: t.exposeString('accessRole', { nullable: true }),
    selected: t.exposeBoolean('selected'),
    deleted: t.exposeBoolean('deleted'),
    pollOnly: t.exposeBoolean('pollOnly', { description: 'Google refused a watch: polled instead' }),
    lastSyncedAt: t.expose('lastSyncedAt', { type: 'DateTime', nullable: true }),
    lastFullSyncAt: t.expose('lastFullSyncAt', { type: 'DateTime', nullable: true }),
    syncError: t.exposeString('syncError', { nullable: true }),
    syncErrorAt: t.expose('syncErrorAt', { type: 'DateTime', nullable: true }),
    eventCount: t.int({
      resolve: (cal, _args, ctx) =>
        loaderFor<string, number>(ctx, 'sync.eventCount', async (ids) => {
          const counts = await countEventsByCalendar(ctx.app, ids);
          return ids.map((id) => counts.get(id) ?? 0);
        }).load(cal.id),
    }),
  }),
});

/** Loads calendars by row id in one query per request (other modules' admin types use it). */
export function loadCalendar(ctx: AdminContext, calendarRowId: string): Promise<SyncCalendar | null> {
  return loaderFor<string, SyncCalendar | null>(ctx, 'sync.calendar', async (ids) => oneBy(ids, await getCalendars(ctx.app, ids), (c) => c.id)).load(calendarRowId);
}

builder.objectField(OwnerRef, 'calendars', (t) =>
  t.field({
    type: [CalendarRef],
    description: 'Every calendar of the owner (deleted ones included, marked)',
    resolve: (owner, _args, ctx) =>
      loaderFor<string, SyncCalendar[]>(ctx, 'sync.calendarsOfOwner', async (ownerIds) =>
        groupBy(ownerIds, await listCalendarsOfOwners(ctx.app, ownerIds), (c) => c.ownerId),
      ).load(owner.id),
  }),
);

builder.mutationField('resyncCalendar', (t) =>
  t.field({
    type: CalendarRef,
    description: 'Forget the sync token and fully resync one selected calendar',
    args: { externalOwnerId: t.arg.string({ required: true }), calendarId: t.arg.string({ required: true }) },
    resolve: async (_root, args, ctx) => {
      const owner = await findOwnerByExternalId(ctx.app, args.externalOwnerId);
      if (!owner || owner.status === 'unlinked') throw new AppError('NOT_FOUND', `no owner ${args.externalOwnerId}`);
      await resyncCalendars(ctx.app, { ownerId: owner.id, calendarId: args.calendarId });
      const calendar = await findCalendar(ctx.app, owner.id, args.calendarId);
      if (!calendar) throw new AppError('NOT_FOUND', `no calendar ${args.calendarId} for this owner`);
      return calendar;
    },
  }),
);
