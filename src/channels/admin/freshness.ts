// The CalendarFreshness type (and FreshnessMode), added to Calendar as `freshness`.
import { builder, loaderFor } from '../../api/index.ts';
import type { CalendarFreshness } from '../../context/index.ts';
import { CalendarRef, type SyncCalendar } from '../../sync/index.ts';
import { freshnessOfCalendars } from '../freshness.ts';

const FreshnessModeEnum = builder.enumType('FreshnessMode', {
  values: { PUSH: { value: 'push', description: 'Google pushes its changes to a live channel' }, POLLING: { value: 'polling' } } as const,
});

const CalendarFreshnessRef = builder.objectRef<CalendarFreshness>('CalendarFreshness').implement({
  description: "How a selected calendar is kept current (links.get's freshness)",
  fields: (t) => ({
    mode: t.field({ type: FreshnessModeEnum, resolve: (f) => f.mode }),
    reason: t.string({
      nullable: true,
      description: 'Why polling: pushNotSupported (for good), watchRefused (403/404, retried on a backoff), notWatched, noPublicUrl',
      resolve: (f) => f.reason,
    }),
  }),
});

builder.objectField(CalendarRef, 'freshness', (t) =>
  t.field({
    type: CalendarFreshnessRef,
    nullable: true,
    description: 'Push or polling, and why; null when the calendar is not selected',
    // Keyed by the calendar itself: its selection and poll-only state are already loaded.
    resolve: (cal, _args, ctx) =>
      loaderFor<SyncCalendar, CalendarFreshness | null>(ctx, 'channels.freshness', (cals) => freshnessOfCalendars(ctx.app, cals)).load(cal),
  }),
);
