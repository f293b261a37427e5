// The Channel type (and ChannelStatus), Calendar.channel, the channels query (by status and expiry,
// keyset-paged) and the renewChannel / stopChannel mutations.
import { builder, loaderFor } from '../../api/index.ts';
import { AppError } from '../../errors/index.ts';
import { OwnerRef, loadOwner } from '../../links/index.ts';
import { CalendarRef, loadCalendar } from '../../sync/index.ts';
import { currentChannelsOfCalendars, getChannel, listChannels, type ChannelStatus, type ChannelView } from '../channel-view.ts';
import { renewChannel } from '../renew.ts';
import { stopChannel } from '../stop.ts';

const ChannelStatusEnum = builder.enumType('ChannelStatus', {
  values: {
    PENDING: { value: 'pending', description: 'watch requested, not yet confirmed' },
    ACTIVE: { value: 'active' },
    EXPIRED: { value: 'expired', description: 'expired before it was renewed (its calendar was resynced)' },
    SUPERSEDED: { value: 'superseded', description: 'replaced by a renewal' },
    STOPPED: { value: 'stopped' },
  } as const,
});

export const ChannelRef = builder.objectRef<ChannelView>('Channel').implement({
  description: 'A Google watch channel (never its token)',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'The channel id Google echoes in X-Goog-Channel-ID' }),
    kind: t.exposeString('kind', { description: 'events or calendarList' }),
    status: t.field({ type: ChannelStatusEnum, resolve: (c) => c.status }),
    owner: t.field({
      type: OwnerRef,
      nullable: true,
      resolve: (c, _args, ctx) => loadOwner(ctx, c.ownerId),
    }),
    calendar: t.field({
      type: CalendarRef,
      nullable: true,
      description: 'null for a calendar-list channel',
      resolve: (c, _args, ctx) => (c.calendarRowId ? loadCalendar(ctx, c.calendarRowId) : null),
    }),
    resourceId: t.exposeString('resourceId', { nullable: true }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime', nullable: true }),
    confirmedAt: t.expose('confirmedAt', { type: 'DateTime', nullable: true }),
    lastMessageNumber: t.float({ resolve: (c) => c.lastMessageNumber }),
    lastNotifiedAt: t.expose('lastNotifiedAt', { type: 'DateTime', nullable: true }),
    notificationsReceived: t.float({ resolve: (c) => c.notificationsCount }),
    stoppedAt: t.expose('stoppedAt', { type: 'DateTime', nullable: true }),
    lastError: t.exposeString('lastError', { nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

builder.objectField(CalendarRef, 'channel', (t) =>
  t.field({
    type: ChannelRef,
    nullable: true,
    description: "The calendar's current watch channel",
    resolve: (cal, _args, ctx) =>
      loaderFor<string, ChannelView | null>(ctx, 'channels.ofCalendar', async (ids) => {
        const byCalendar = await currentChannelsOfCalendars(ctx.app, ids);
        return ids.map((id) => byCalendar.get(id) ?? null);
      }).load(cal.id),
  }),
);

const cursorOf = (c: ChannelView) => Buffer.from(`${c.createdAt.toISOString()}|${c.id}`).toString('base64url');
function parseCursor(cursor: string): { createdAt: Date; id: string } {
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const createdAt = new Date(at ?? '');
  if (!id || Number.isNaN(createdAt.getTime())) throw new AppError('VALIDATION', 'invalid cursor');
  return { createdAt, id };
}

builder.queryField('channels', (t) =>
  t.connection({
    type: ChannelRef,
    description: 'Newest first',
    args: {
      status: t.arg({ type: ChannelStatusEnum, required: false }),
      expiringBefore: t.arg({ type: 'DateTime', required: false }),
    },
    resolve: async (_root, args, ctx) => {
      const first = Math.min(Math.max(args.first ?? 50, 1), 200);
      const rows = await listChannels(ctx.app, {
        ...(args.status ? { status: args.status as ChannelStatus } : {}),
        ...(args.expiringBefore ? { expiringBefore: args.expiringBefore } : {}),
        ...(args.after ? { after: parseCursor(args.after) } : {}),
        limit: first + 1,
      });
      const page = rows.slice(0, first);
      return {
        edges: page.map((node) => ({ node, cursor: cursorOf(node) })),
        pageInfo: {
          hasNextPage: rows.length > first,
          hasPreviousPage: Boolean(args.after),
          startCursor: page[0] ? cursorOf(page[0]) : null,
          endCursor: page.at(-1) ? cursorOf(page.at(-1)!) : null,
        },
      };
    },
  }, { name: 'ChannelConnection' }, { name: 'ChannelEdge' }),
);

async function channelOrThrow(ctx: Parameters<typeof getChannel>[0], id: string): Promise<ChannelView> {
  const channel = await getChannel(ctx, id);
  if (!channel) throw new AppError('NOT_FOUND', `no channel ${id}`);
  return channel;
}

builder.mutationField('renewChannel', (t) =>
  t.field({
    type: ChannelRef,
    description: 'Create the replacement channel now, then stop this one; returns the replacement',
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => {
      const id = String(args.id);
      await channelOrThrow(ctx.app, id);
      const { outcome, channel } = await renewChannel(ctx.app, id);
      if (outcome === 'noop') throw new AppError('CONFLICT', `channel ${id} is not active: nothing to renew`);
      return channel ? channelOrThrow(ctx.app, channel.id) : channelOrThrow(ctx.app, id);
    },
  }),
);

builder.mutationField('stopChannel', (t) =>
  t.field({
    type: ChannelRef,
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => {
      const id = String(args.id);
      await channelOrThrow(ctx.app, id);
      await stopChannel(ctx.app, id);
      return channelOrThrow(ctx.app, id);
    },
  }),
);
