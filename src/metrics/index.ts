// Prometheus metrics (prom-client). One registry per service instance, so tests that boot several
// services in one process never share counters.
import { Registry, Counter, Histogram, Gauge, collectDefaultMetrics } from 'prom-client';

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    httpRequests: new Counter({
      name: 'calwatch_http_requests_total',
      help: 'HTTP requests by route and status',
      labelNames: ['route', 'status'] as const,
      registers: [registry],
    }),
    notifications: new Counter({
      name: 'calwatch_notifications_total',
      help: 'Google push notifications by resource state and outcome',
      labelNames: ['state', 'outcome'] as const,
      registers: [registry],
    }),
    notificationToSync: new Histogram({
      name: 'calwatch_notification_to_sync_seconds',
      help: 'Time from a push notification to the sync that covers it finishing',
      buckets: [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    jobs: new Counter({
      name: 'calwatch_jobs_total',
      help: 'Jobs handled by queue and outcome',
      labelNames: ['queue', 'outcome'] as const,
      registers: [registry],
    }),
    jobDuration: new Histogram({
      name: 'calwatch_job_duration_seconds',
      help: 'Job handler duration by queue',
      labelNames: ['queue'] as const,
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120],
      registers: [registry],
    }),
    googleRequests: new Counter({
      name: 'calwatch_google_requests_total',
      help: 'Calls to Google by API method and outcome class',
      labelNames: ['method', 'outcome'] as const,
      registers: [registry],
    }),
    fanoutAttempts: new Counter({
      name: 'calwatch_fanout_attempts_total',
      help: 'Outgoing delivery attempts by outcome (delivered, retry, dead)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    fanoutDeliveryLag: new Histogram({
      name: 'calwatch_fanout_delivery_lag_seconds',
      help: 'From a change (its occurredAt) to its delivery being acknowledged by the subscriber',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15, 60, 300, 3600],
      registers: [registry],
    }),
    googleRateLimited: new Counter({
      name: 'calwatch_google_rate_limited_total',
      help: 'Rate-limit answers from Google (403/429), by reason; calwatch paces itself so that this stays 0',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    googleQuotaWaits: new Counter({
      name: 'calwatch_google_quota_waits_total',
      help: 'Google requests that waited for their turn in the quota, by priority',
      labelNames: ['priority'] as const,
      registers: [registry],
    }),
    googleQuotaPaused: new Gauge({
      name: 'calwatch_google_quota_paused',
      help: '1 while a budget is paused by Google quotaExceeded (a daily limit), by budget',
      labelNames: ['budget'] as const,
      registers: [registry],
    }),
    queueDepth: new Gauge({
      name: 'calwatch_queue_depth',
      help: 'Queued jobs per pg-boss queue',
      labelNames: ['queue'] as const,
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
