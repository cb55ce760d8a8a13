/**
 * Batched reads that never split a commit: a commit's events are seen
 * together by every reader (guarantee 3), so a batch that a limit cut inside
 * a commit drops that commit's head for the next batch, or, when the batch
 * is a single commit, reads on to its end. Then the one catch-up loop every
 * store's `read()` runs on top of it.
 */
import type { Revision, SessionId, StoredEvent } from '../domain/index.js';
import type { LogBatch, ReadOptions } from './event-store.js';

/** Up to `limit` events after a revision, oldest first (synchronous for SQLite, a promise for a network database). */
export type ReadAfter = (after: Revision, limit: number) => StoredEvent[] | Promise<StoredEvent[]>;

export async function readWholeCommits(read: ReadAfter, after: Revision, limit: number): Promise<StoredEvent[]> {
  const events = await read(after, limit);
  if (events.length < limit) return events;
  const lastCommit = (events[events.length - 1] as StoredEvent).commitId;
  const firstOfLast = events.findIndex((e) => e.commitId === lastCommit);
  if (firstOfLast > 0) return events.slice(0, firstOfLast);
  let all = events;
  for (;;) {
    const more = await read((all[all.length - 1] as StoredEvent).revision, limit);
    const same = more.filter((e) => e.commitId === lastCommit);
    all = all.concat(same);
    if (same.length < more.length || more.length < limit) return all;
  }
}

/** What a store gives the catch-up loop. */
export interface PagedLog {
  head(): Revision | Promise<Revision>;
  /** Events after a revision, of these sessions when given, at most `limit`. */
  page(after: Revision, limit: number, sessionIds: readonly SessionId[] | undefined): StoredEvent[] | Promise<StoredEvent[]>;
  /** Resolves when the log moves or `signal` aborts. */
  moved(signal: AbortSignal | undefined): Promise<void>;
  /** False once the store is closed: followers end. */
  isOpen(): boolean;
}

const DEFAULT_BATCH = 1_000;

/** `EventStore.read`: whole-commit batches, a caught-up marker at the end of each pass, then (with `follow`) wait and read on. */
export async function* readLog(log: PagedLog, options: ReadOptions): AsyncGenerator<LogBatch> {
  const { sessionId, signal, follow } = options;
  const size = options.batchSize ?? DEFAULT_BATCH;
  const sessionIds = options.sessionIds ?? (sessionId ? [sessionId] : undefined);
  const read: ReadAfter = (after, limit) => log.page(after, limit, sessionIds);
  let position = options.after;
  while (!signal?.aborted && log.isOpen()) {
    // The head first: once a read after it comes back empty, everything up to it was seen.
    const head = await log.head();
    const events = await readWholeCommits(read, position, size);
    if (events.length > 0) {
      position = (events[events.length - 1] as StoredEvent).revision;
      yield { kind: 'events', events };
      continue;
    }
    position = Math.max(position, head) as Revision;
    yield { kind: 'caught_up', head: position };
    if (!follow) return;
    await log.moved(signal);
  }
}
