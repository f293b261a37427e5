// pglite-socket runs one protocol message at a time from whichever connection is next, keeping a
// connection exclusive only inside a transaction. The extended query protocol sends a batch
// (Parse, Bind, Describe, Execute ... Sync) whose messages must not interleave with another
// connection's batch: PGlite has one session, so a second Parse replaces the first connection's
// unnamed statement ("unnamed prepared statement does not exist"). This keeps a connection
// exclusive from the first message of a batch to its Sync (or a simple Query), as it already is
// for transactions. It replaces the queue's processQueue of pglite-socket 0.2.x.
import type { PGLiteSocketServer } from '@electric-sql/pglite-socket';

interface QueueItem {
  handlerId: number;
  message: Uint8Array;
  resolve: (bytes: number) => void;
  reject: (err: unknown) => void;
  onData: (data: Uint8Array) => void;
}

interface QueryQueue {
  queue: QueueItem[];
  processing: boolean;
  lastHandlerId: number | null;
  db: {
    isInTransaction(): boolean;
    runExclusive<T>(fn: () => Promise<T>): Promise<T>;
    execProtocolRawStream(message: Uint8Array, opts: { onRawData: (data: Uint8Array) => void }): Promise<unknown>;
  };
  processQueue(): Promise<void>;
  clearQueueForHandler(handlerId: number): void;
}

const SYNC = 0x53; // 'S'
const QUERY = 0x51; // 'Q'
const TERMINATE = 0x58; // 'X'

/** Whether this message ends a batch: Sync, a simple Query, Terminate, or a start-up message. */
const endsBatch = (m: Uint8Array) => m[0] === SYNC || m[0] === QUERY || m[0] === TERMINATE || m[0] === 0;

export function keepProtocolBatchesTogether(server: PGLiteSocketServer): void {
  const q = (server as unknown as { queryQueue?: QueryQueue }).queryQueue;
  if (!q || typeof q.processQueue !== 'function' || !Array.isArray(q.queue)) {
    throw new Error('pglite-socket internals changed: review src/db/pglite-batches.ts');
  }
  let batchOwner: number | null = null;

  q.processQueue = async function processQueue(this: QueryQueue) {
    if (this.processing || this.queue.length === 0) return;
    this.processing = true;
    try {
      while (this.queue.length > 0) {
        const owner = this.db.isInTransaction() && this.lastHandlerId !== null ? this.lastHandlerId : batchOwner;
        let item: QueueItem | undefined;
        if (owner !== null) {
          const i = this.queue.findIndex((e) => e.handlerId === owner);
          // The owner's next message has not arrived yet: the others wait for it.
          if (i === -1) break;
          item = this.queue.splice(i, 1)[0];
        } else {
          item = this.queue.shift();
        }
        if (!item) break;
        const current = item;
        let bytes = 0;
        try {
          await this.db.runExclusive(() =>
            this.db.execProtocolRawStream(current.message, {
              onRawData: (data) => {
                bytes += data.length;
                current.onData(data);
              },
            }),
          );
        } catch (err) {
          batchOwner = null;
          current.reject(err);
          continue;
        }
        batchOwner = endsBatch(current.message) ? null : current.handlerId;
        this.lastHandlerId = current.handlerId;
        current.resolve(bytes);
      }
    } finally {
      this.processing = false;
    }
  };

  const clear = q.clearQueueForHandler.bind(q);
  q.clearQueueForHandler = (handlerId: number) => {
    if (batchOwner === handlerId) batchOwner = null;
    clear(handlerId);
    void q.processQueue();
  };
}
