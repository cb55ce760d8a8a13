/**
 * The event store contract: the few operations the ledger needs from a log.
 * SQLite implements it today (sqlite-event-store.ts); a PostgreSQL store for
 * several server nodes can implement the same interface later.
 */
import type { NewEvent, Revision, SessionId, SessionState, StoredEvent, VariableId } from '../domain/index.js';
import type { Digest } from './hash-chain.js';

export type Durability = 'normal' | 'full';

/** Operations valid only inside `EventStore.write`. */
export interface WriteTransaction {
  /** The newest revision in the log, including writes by other processes. */
  head(): Revision;
  /** Appends events as one commit; returns them with revisions and commit id. */
  append(events: readonly NewEvent[]): StoredEvent[];
}

/** Snapshots of the projection: a cache that speeds start-up and past reads. */
export interface SnapshotStore {
  /** Writes the sessions as the snapshot at `revision`; false if one exists. */
  write(revision: Revision, sessions: Iterable<SessionState>, now: number): boolean;
  /** The newest intact snapshot at or below a revision; its states are fresh and unfrozen. */
  loadLatest(atOrBelow?: number): { revision: Revision; sessions: Map<string, SessionState> } | undefined;
  /** One session from the newest snapshot at or below a revision. */
  loadSession(sessionId: SessionId, atOrBelow: Revision): { revision: Revision; session: SessionState } | undefined;
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
  /** Every event after `after` (default: all), oldest first, streamed (for start-up folds). */
  readAll(after?: Revision): IterableIterator<StoredEvent>;
  /** One session's events with `after` < revision ≤ `upTo`, oldest first. */
  readSession(sessionId: SessionId, upTo: Revision, after?: Revision): StoredEvent[];
  /** A variable's value-giving events (registered, set, rolled back) below a version, newest first. */
  readHistory(variableId: VariableId, beforeVersion: number, limit: number): StoredEvent[];
  /** The value-giving event that produced one version of a variable. */
  readVersion(variableId: VariableId, version: number): StoredEvent | undefined;
  /** The hash chain's head. */
  digest(): Digest;
  readonly snapshots: SnapshotStore;
  /** One session's events with revision > `after`, oldest first, at most `limit`. */
  readSessionAfter(sessionId: SessionId, after: Revision, limit: number): StoredEvent[];
  /**
   * A number that changes when another process commits to the log; cheap
   * enough to poll, so external writes reach watchers quickly.
   */
  externalChangeCounter(): number;
  close(): void;
}
