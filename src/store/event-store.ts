/**
 * The event store contract: the few operations the ledger needs from a log.
 * SQLite implements it today (sqlite-event-store.ts); a PostgreSQL store for
 * several server nodes can implement the same interface later.
 */
import type { NewEvent, Revision, SessionId, StoredEvent } from '../domain/index.js';

export type Durability = 'normal' | 'full';

/** Operations valid only inside `EventStore.write`. */
export interface WriteTransaction {
  /** The newest revision in the log, including writes by other processes. */
  head(): Revision;
  /** Appends events as one commit; returns them with revisions and commit id. */
  append(events: readonly NewEvent[]): StoredEvent[];
}

export interface EventStore {
  /** The newest revision in the log; 0 when the log is empty. */
  head(): Revision;
  /**
   * Runs `fn` in one exclusive write transaction. Everything it appends
   * commits together, or not at all if it throws. Returns what `fn` returns.
   */
  write<T>(fn: (tx: WriteTransaction) => T): T;
  /** Events with revision > `after`, oldest first, at most `limit`. */
  readAfter(after: Revision, limit: number): StoredEvent[];
  /** Every event, oldest first, streamed (for start-up folds). */
  readAll(): IterableIterator<StoredEvent>;
  /** One session's events with revision ≤ `upTo`, oldest first. */
  readSession(sessionId: SessionId, upTo: Revision): StoredEvent[];
  /** One session's events with revision > `after`, oldest first, at most `limit`. */
  readSessionAfter(sessionId: SessionId, after: Revision, limit: number): StoredEvent[];
  /**
   * A number that changes when another process commits to the log; cheap
   * enough to poll, so external writes reach watchers quickly.
   */
  externalChangeCounter(): number;
  close(): void;
}
