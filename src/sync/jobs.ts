// The sync module's jobs: declared here, each handler calls one verb.
import { z } from 'zod';
import { defineJob } from '../jobs/index.ts';
import { CALENDAR_LIST_SYNC_JOB, EVENT_SYNC_JOB, POLL_JOB, REFRESH_CALENDARS_JOB, SAFETY_NET_JOB } from './enqueue.ts';
import { refreshCalendarProperties } from './refresh-calendars.ts';
import { runEventSyncJob } from './sync-events.ts';
import { runCalendarListSyncJob } from './sync-calendar-list.ts';
import { runPollJob, runSafetyNet } from './safety-net.ts';

export const syncJobs = [
  defineJob({
    name: EVENT_SYNC_JOB,
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
    handler: (ctx, data, job) => runEventSyncJob(ctx, data, job),
  }),
  defineJob({
    name: CALENDAR_LIST_SYNC_JOB,
    schema: z.object({ ownerId: z.string().uuid(), reason: z.string().max(40).default('manual') }),
    policy: 'stately',
    retryLimit: 8,
    retryDelay: 5,
    retryBackoff: true,
    retryDelayMax: 900,
    expireInSeconds: 600,
    concurrency: 2,
    handler: (ctx, data, job) => runCalendarListSyncJob(ctx, data, job),
  }),
  defineJob({
    name: POLL_JOB,
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
    handler: (ctx, data) => runPollJob(ctx, data),
  }),
  defineJob({
    name: SAFETY_NET_JOB,
    schema: z.object({}).passthrough(),
    policy: 'singleton',
    retryLimit: 1,
    expireInSeconds: 120,
    concurrency: 1,
    cron: '*/5 * * * *',
    cronData: {},
    handler: (ctx) => runSafetyNet(ctx),
  }),
  defineJob({
    name: REFRESH_CALENDARS_JOB,
    schema: z.object({}).passthrough(),
    policy: 'singleton',
    retryLimit: 1,
    expireInSeconds: 600,
    concurrency: 1,
    cron: '17 * * * *',
    cronData: {},
    handler: (ctx) => refreshCalendarProperties(ctx),
  }),
];
