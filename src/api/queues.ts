// Admin view of the pg-boss queues: "what is stuck in the queues" without reading tables by hand.
import { builder } from './graphql-builder.ts';
import type { QueueCounts } from '../jobs/index.ts';

const Queue = builder.objectRef<QueueCounts>('Queue').implement({
  fields: (t) => ({
    name: t.exposeString('name'),
    queued: t.exposeInt('queued', { description: 'Ready to run now' }),
    deferred: t.exposeInt('deferred', { description: 'Waiting for their start time' }),
    active: t.exposeInt('active'),
    retrying: t.exposeInt('retrying', { description: 'Failed once, waiting for another attempt' }),
    failed: t.exposeInt('failed'),
    oldestQueuedAgeSeconds: t.float({ nullable: true, resolve: (q) => q.oldestQueuedAgeSeconds }),
  }),
});

builder.queryField('queues', (t) => t.field({ type: [Queue], resolve: (_root, _args, ctx) => ctx.app.jobs.counts() }));
