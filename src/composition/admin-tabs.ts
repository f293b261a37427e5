// The example queries GraphiQL opens with (one tab each), so an admin sees what to ask at once.
// tests/admin checks that each is valid against the schema.
export const graphiqlTabs: Array<{ query: string; variables?: string }> = [
  {
    query: `# Channels expiring within the next day: is each calendar watched, and is it in sync?
query ChannelsExpiringSoon($before: DateTime!) {
  channels(status: ACTIVE, expiringBefore: $before, first: 50) {
    edges {
      node {
        id
        expiresAt
        lastNotifiedAt
        notificationsReceived
        owner { externalOwnerId status }
        calendar { calendarId lastSyncedAt syncError eventCount }
      }
    }
  }
}`,
    variables: JSON.stringify({ before: '<an ISO date-time a day from now>' }, null, 2),
  },
  {
    query: `# Today's on-call shifts in every group, with declines and swaps
query TodaysShifts($from: DateTime!, $to: DateTime!) {
  oncallGroups(first: 20) {
    edges {
      node {
        name
        shifts(from: $from, to: $to) {
          assigneeEmail
          start
          end
          status
          declinedOn
          swappedWith { assigneeEmail start }
        }
      }
    }
  }
}`,
    variables: JSON.stringify({ from: '<today 00:00 as ISO>', to: '<tomorrow 00:00 as ISO>' }, null, 2),
  },
  {
    query: `# Outgoing deliveries that gave up: replay one with replayDelivery(id)
query DeadDeliveries {
  deliveries(status: DEAD, first: 50) {
    edges {
      node { id type calendarId attempts lastStatus lastError deadAt subscriptionId }
    }
  }
}`,
  },
  {
    query: `# What is queued, running, retrying or failed, and how old is the oldest waiting job?
query Queues {
  system { version database }
  queues { name queued deferred active retrying failed oldestQueuedAgeSeconds }
}`,
  },
];
