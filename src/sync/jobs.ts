// The sync module's jobs: declared here, each handler (loaded on first use) calls one verb.
import { z } from 'zod';
import { defineJob } from '../jobs/index.ts';

export const eventSyncJob = defineJob({
  name: 'sync.events',
  schema: z.object({
    calendarRowId: z.string().uuid(),
    reason: z.string().max(40).default('manual'),
    notifiedAt: z.string().datetime().optional(),
  }),
  // One queued + one active per calendar (singletonKey = calendar row id).
  policy: 'stately',
  retryLimit: 8,
  retryDelay: 5,
  retryBackoff: true,
  retryDelayMax: 900,
  // A full sync of a very large calendar takes minutes; an expired job would let a second start.
  expireInSeconds: 3600,
  concurrency: 4,
  // Deferred syncs (spacing, retries) send no NOTIFY when due: poll for them.
  pollDelayed: true,
  handler: () => import('./sync-events.ts').then((m) => m.runEventSyncJob),
});

export const calendarListSyncJob = defineJob({
  name: 'sync.calendarList',
  schema: z.object({ ownerId: z.string().uuid(), reason: z.string().max(40).default('manual') }),
  policy: 'stately',
  retryLimit: 8,
  retryDelay: 5,
  retryBackoff: true,
  retryDelayMax: 900,
  expireInSeconds: 600,
  concurrency: 2,
  handler: () => import('./sync-calendar-list.ts').then((m) => m.runCalendarListSyncJob),
});

export const pollJob = defineJob({
  name: 'sync.poll',
  schema: z.object({
    calendarRowId: z.string().uuid(),
    reason: z.enum(['poll', 'catchup']),
    scheduledAt: z.string().datetime(),
  }),
  // One pending poll per (kind, calendar): repeated safety-net runs collapse.
  policy: 'short',
  retryLimit: 3,
  expireInSeconds: 60,
  concurrency: 4,
  pollDelayed: true,
  handler: () => import('./safety-net.ts').then((m) => m.runPollJob),
});

export const safetyNetJob = defineJob({
  name: 'sync.safetyNet',
  schema: z.object({}).passthrough(),
  policy: 'singleton',
  retryLimit: 1,
  expireInSeconds: 120,
  concurrency: 1,
  cron: '*/5 * * * *',
  cronData: {},
  handler: () => import('./safety-net.ts').then((m) => m.runSafetyNet),
});

export const refreshCalendarsJob = defineJob({
  name: 'sync.refreshCalendars',
  schema: z.object({}).passthrough(),
  policy: 'singleton',
  retryLimit: 1,
  expireInSeconds: 600,
  concurrency: 1,
  cron: '17 * * * *',
  cronData: {},
  handler: () => import('./refresh-calendars.ts').then((m) => m.refreshCalendarProperties),
});

export const syncJobs = [eventSyncJob, calendarListSyncJob, pollJob, safetyNetJob, refreshCalendarsJob];
