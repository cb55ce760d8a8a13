/**
 * The event store contract: the few operations the ledger needs from a log.
 * Asynchronous and optimistic, with no driver type in it, so that a network
 * database can implement it: SQLite does today (sqlite-event-store.ts), a
 * PostgreSQL store for several server nodes can follow.
 *
 * Writers decide outside the store, against a projection at a known
 * revision, and append what they decided together with that revision. The
 * store refuses (as a conflict) any commit whose sessions moved in the log
 * since, and the writer folds the news and decides again.
 */
import type { NewEvent, Revision, SessionId, SessionState, StoredEvent, VariableId } from '../domain/index.js';
import type { CompactionRequest, CompactionResult, RetentionState } from './compaction.js';
import type { Digest } from './hash-chain.js';

export type Durability = 'normal' | 'full';

/** One logical commit to append: its events become visible together or not at all. */
export interface AppendCommit {
  readonly events: readonly NewEvent[];
  /**
   * The log revision the events were decided at. The commit conflicts if a
   * session it touches has an event above this revision that this same
   * `append` call did not write; commits of one call are decided in order,
   * each after the ones before it.
   */
  readonly decidedAt: Revision;
  /**
   * Also a conflict if any process recorded activity (`touch`) for the
   * commit's session later than this time: how expiry is claimed only for
   * a session nobody is using.
   */
  readonly activeNoLaterThan?: number;
}

/** What became of one commit of an `append` call. */
export type AppendOutcome =
  | { readonly ok: true; readonly events: readonly StoredEvent[] }
  /** `error` is an AppendConflict when the log moved; anything else is a store failure of this commit alone. */
  | { readonly ok: false; readonly error: Error };

/** The log moved for a session since the revision a commit was decided at. */
export class AppendConflict extends Error {
  constructor(
    readonly sessionId: SessionId,
    readonly decidedAt: Revision,
  ) {
    super(`session ${sessionId} changed in the log after revision ${decidedAt}`);
    this.name = 'AppendConflict';
  }
}

/** One step of a catch-up read: whole commits, or the marker that the reader reached the head. */
export type LogBatch =
  | { readonly kind: 'events'; readonly events: readonly StoredEvent[] }
  | { readonly kind: 'caught_up'; readonly head: Revision };

export interface ReadOptions {
  /** Events with a revision above this one. */
  readonly after: Revision;
  /** Only this session's events. */
  readonly sessionId?: SessionId;
  /** Only these sessions' events: one read serving many (a watch hub's lagging watchers). */
  readonly sessionIds?: readonly SessionId[];
  /** Events per batch (whole commits: a batch may run over to finish one). */
  readonly batchSize?: number;
  /**
   * After the caught-up marker, wait for the log to move (see LogNotifier)
   * and read on, until `signal` aborts. Without it the read ends at the marker.
   */
  readonly follow?: boolean;
  readonly signal?: AbortSignal;
}

/**
 * "The log moved": calls listeners after commits by others (another
 * process or node). SQLite polls `PRAGMA data_version`; PostgreSQL would
 * LISTEN/NOTIFY (plus a slow poll as a safety net). Listeners must not throw.
 */
export interface LogNotifier {
  /** Returns the function that stops listening. */
  subscribe(listener: () => void): () => void;
}

/** One snapshot to write: the sessions that changed since an earlier snapshot, the basis. */
export interface SnapshotWrite {
  /** The projection's head: the snapshot is the state after this event. */
  readonly revision: Revision;
  /** The snapshot `changed` is relative to; 0: none, and `changed` is every session. */
  readonly basis: Revision;
  /**
   * Every session whose state changed after `basis` (more do no harm), as it
   * is at `revision`. Read before `write` first yields, so the caller may go
   * on changing them in place afterwards.
   */
  readonly changed: Iterable<SessionState>;
  readonly now: number;
  /** Snapshots kept: older ones are pruned; 0 or absent keeps all. */
  readonly keep?: number;
}

/**
 * written; skipped: a snapshot at this revision or a newer one exists (another
 * process wrote it); basis_missing: the basis is gone (pruned), write again
 * with basis 0 and every session.
 */
export type SnapshotWritten = 'written' | 'skipped' | 'basis_missing';

/**
 * Snapshots of the projection: a cache that speeds start-up and past reads.
 * Stored per session (see snapshot-rows.ts): a snapshot writes only the
 * sessions that changed since the one before, never the whole world.
 */
export interface SnapshotStore {
  write(snapshot: SnapshotWrite): Promise<SnapshotWritten>;
  /** The newest intact snapshot at or below a revision; its states are fresh and unfrozen. */
  loadLatest(atOrBelow?: number): Promise<{ revision: Revision; sessions: Map<string, SessionState> } | undefined>;
  /**
   * The session's newest intact stored state, while active, at or below a
   * revision, and the revision it holds from (a fold of its events after that
   * gives any later state); undefined if none.
   */
  loadSession(sessionId: SessionId, atOrBelow: Revision): Promise<{ revision: Revision; session: SessionState } | undefined>;
  /** The newest snapshot's revision; 0 when there is none. */
  newest(): Promise<Revision>;
}

/** How much room the log takes, for operators (metrics read it when scraped, never per write). */
export interface StorageStats {
  /** Bytes on disk: SQLite, the database file plus its WAL; PostgreSQL, the database's size. */
  readonly bytes: number;
}

export interface EventStore {
  /** The newest revision in the log; 0 when the log is empty. */
  head(): Promise<Revision>;
  /** Size on disk. Cheap (a stat, or one query), but not for the write path. */
  storageStats(): Promise<StorageStats>;
  /**
   * Appends commits in order, in as few transactions as the store can (SQLite:
   * one, each commit in its own savepoint). Resolves only once the commits
   * that succeeded are durable. A commit that conflicts changes nothing, and
   * every later commit of the same call touching one of its sessions fails
   * with it (it was decided after it). Rejects only on a store failure, in
   * which case nothing of the call was written.
   */
  append(commits: readonly AppendCommit[]): Promise<AppendOutcome[]>;
  /**
   * Events after a revision as an async generator of batches that never split
   * a commit, each pass ending with a `caught_up` marker; see ReadOptions.
   */
  read(options: ReadOptions): AsyncGenerator<LogBatch>;
  /** One session's events with `after` < revision ≤ `upTo`, oldest first. */
  readSession(sessionId: SessionId, upTo: Revision, after?: Revision): Promise<StoredEvent[]>;
  /**
   * Up to `limit` ids of sessions created at or below `upTo` and still in
   * the log (retention removes whole sessions), greater than `after`, in id
   * order: a page of every session that ever existed, read from the log so
   * that ended sessions need not be held in memory to be listed.
   */
  sessionIds(after: string, limit: number, upTo: Revision): Promise<SessionId[]>;
  /**
   * The events at these revisions that are still in the log (retention may
   * have removed some), oldest first: one query however many are asked for,
   * so callers that know revisions (a session's `createdRevision`) never scan.
   */
  readAt(revisions: readonly Revision[]): Promise<StoredEvent[]>;
  /** A variable's value-giving events (registered, set, rolled back) below a version, newest first. */
  readHistory(variableId: VariableId, beforeVersion: number, limit: number): Promise<StoredEvent[]>;
  /** The value-giving event that produced one version of a variable. */
  readVersion(variableId: VariableId, version: number): Promise<StoredEvent | undefined>;
  /** The hash chain's head. */
  digest(): Promise<Digest>;
  /**
   * Records that a session was in use at `time`, shared with every process
   * on the log (kept as the newest time recorded). Callers write coarsely.
   */
  touch(sessionId: SessionId, time: number): Promise<void>;
  /** The newest recorded use of each session that has one. */
  activity(sessionIds: readonly SessionId[]): Promise<Map<SessionId, number>>;
  /**
   * Retention: moves the events of sessions that ended before a time into
   * an archive and removes them, recording it as a log_compacted event, in
   * one transaction (compaction.ts). Undefined when no session qualified.
   */
  compact(request: CompactionRequest): Promise<CompactionResult>;
  /** What retention removed so far. */
  retention(): Promise<RetentionState>;
  /** The revision of the compaction that removed a session, if one did. */
  removedBy(sessionId: SessionId): Promise<Revision | undefined>;
  readonly snapshots: SnapshotStore;
  /** Tells when others append to the log. */
  readonly notifier: LogNotifier;
  close(): Promise<void>;
}
