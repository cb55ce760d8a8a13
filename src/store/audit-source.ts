/**
 * What the audit CLI (audit, history, state, replay, verify, export, import)
 * needs from a log, whatever holds it: filtered event pages, name lookups,
 * rows with their chain hashes and the stored snapshots, all read through
 * one consistent view, and the loading of an export into an empty log.
 *
 * Asynchronous and driver-free, like the event-store contract: SQLite
 * (sqlite-audit-source.ts) wraps its synchronous queries, PostgreSQL
 * (postgres-audit-source.ts) reads in a REPEATABLE READ transaction. Long
 * results come as async iterables of pages, so a command streaming a huge
 * log holds one page at a time.
 */
import type { SessionId, StoredEvent } from '../domain/index.js';
import type { EventRow } from './event-codec.js';
import type { Digest } from './hash-chain.js';

export interface EventFilter {
  readonly sessionId?: string | undefined;
  /** A variable id, or a name some registration event gave a variable. */
  readonly variable?: string | undefined;
  readonly actor?: string | undefined;
  /** Inclusive bounds on the event's wall-clock time, epoch milliseconds. */
  readonly since?: number | undefined;
  readonly until?: number | undefined;
  readonly kinds?: readonly string[] | undefined;
  /** Exclusive bounds on the revision: pages through a long log. */
  readonly afterRevision?: number | undefined;
  readonly beforeRevision?: number | undefined;
}

/** A registration that gave a variable its id and name. */
export interface Registration {
  readonly variableId: string;
  readonly name: string;
  readonly revision: number;
}

/** An event row as stored, followed by its chain hash (null when the chain has no row for it). */
export type ChainedRow = readonly [...EventRow, string | null];

/** Consecutive revisions retention removed: `from`..`to`, and the kept chain hash at `to`. */
export interface RemovedRun {
  readonly from: number;
  readonly to: number;
  readonly hash: string | null;
}

export interface SnapshotInfo {
  readonly revision: number;
  readonly createdAt: number;
  readonly sessionCount: number;
  readonly checksum: string;
}

/** One snapshot's rows as stored (undecoded), and whether they match its count and checksum. */
export interface SnapshotRows {
  readonly rows: ReadonlyArray<readonly [sessionId: string, state: string]>;
  readonly intact: boolean;
}

/** One consistent state of the log: every read sees the same revisions, even while servers append. */
export interface AuditView {
  /** The newest revision; 0 when the log is empty. */
  head(): Promise<number>;
  /** The stored chain's head: its newest revision and hash (it may outlive deleted events). */
  chainHead(): Promise<Digest>;
  /** Matching events, oldest first, in pages. */
  events(filter: EventFilter): AsyncIterable<readonly EventRow[]>;
  /** The revision of the n-th newest matching event (n ≥ 1), if there are that many. */
  nthNewestRevision(filter: EventFilter, n: number): Promise<number | undefined>;
  /** One variable's events strictly between two revisions, oldest first, in pages. */
  variableEventsBetween(variableId: string, afterRevision: number, beforeRevision: number): AsyncIterable<readonly EventRow[]>;
  /** The names the variables were registered with (one round trip for many: audit asks once per page). */
  variableNames(variableIds: readonly string[]): Promise<Map<string, string>>;
  /** Registrations in a session whose id or name is `identifier`, newest first. */
  findVariable(sessionId: string, identifier: string): Promise<Registration[]>;
  /** Every event of one variable (registration, sets, rollbacks, deletion), newest first. */
  eventsOfVariable(sessionId: string, variableId: string): Promise<EventRow[]>;
  /** The newest revision whose time is at or before `time`; 0 if none. */
  lastRevisionAt(time: number): Promise<number>;
  /** One session's events up to a revision, oldest first. */
  readSession(sessionId: SessionId, upTo: number): Promise<StoredEvent[]>;
  /** Every event row with its chain hash, oldest first, in pages. */
  chainedRows(): AsyncIterable<readonly ChainedRow[]>;
  /**
   * Revisions retention removed (their events are archived, their chain rows
   * kept), as runs of consecutive revisions, oldest first, each with the
   * chain hash at its last revision (null if the chain lacks it).
   */
  removedRuns(): AsyncIterable<readonly RemovedRun[]>;
  /** The chain rows of some revisions (absent: no chain row). */
  chainHashes(revisions: readonly number[]): Promise<Map<number, string>>;
  /** Which of some revisions retention removed, with the revision of the compaction that removed each. */
  removedBy(revisions: readonly number[]): Promise<Map<number, number>>;
  /** Snapshots at or below a revision, newest first. */
  snapshots(atOrBelow?: number): Promise<SnapshotInfo[]>;
  snapshotRows(info: SnapshotInfo): Promise<SnapshotRows>;
}

/** A log opened for the audit commands. */
export interface AuditSource {
  /**
   * Runs `fn` against one consistent view of the log (one read transaction,
   * however long `fn` takes). The view is valid only until `fn` settles.
   */
  read<T>(fn: (view: AuditView) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/**
 * Loads an exported log into an empty one, recomputing the chain as rows
 * arrive; nothing is visible (or kept) until `commit`.
 */
export interface LogImporter {
  /** Adds the next event; resolves with its recomputed chain hash. Rejects unless it is revision head + 1. */
  add(row: EventRow): Promise<string>;
  /** Makes everything added visible at once; resolves with the chain head. */
  commit(): Promise<Digest>;
  /** Discards everything added. Safe to call more than once, and after commit. */
  rollback(): Promise<void>;
}

/** A log opened for writing an import into. */
export interface ImportTarget {
  /** Rejects, writing nothing, unless the log is empty. */
  startImport(): Promise<LogImporter>;
  close(): Promise<void>;
}

/** Rows per page of an event stream: large enough that paging costs nothing, small enough to hold. */
export const AUDIT_PAGE_ROWS = 2_000;
