// The example queries GraphiQL opens with (one tab each), so an admin sees what to ask at once.
export const graphiqlTabs: Array<{ query: string; variables?: string }> = [
  {
    query: `# What is queued, running, retrying or failed, and how old is the oldest waiting job?
query Queues {
  queues { name queued deferred active retrying failed oldestQueuedAgeSeconds }
  system { version database }
}`,
  },
];
