/**
 * Retention's contract with a store, driver-free: which sessions go, where
 * their events are archived, and the `log_compacted` event that records it.
 * Each store runs the whole compaction in one transaction that holds the
 * log's write lock (SQLite: IMMEDIATE; PostgreSQL: the log_head row), so no
 * append can slip between reading what goes and removing it:
 *
 *   pick sessions that ended before `endedBefore` → write their events (with
 *   chain hashes) to the archive and make it durable → append log_compacted
 *   → record the removed revisions and sessions → DELETE them (the triggers
 *   of migration 0004 allow nothing else) → drop snapshots older than the
 *   compaction (they hold removed sessions; they are only a cache).
 *
 * The chain rows of removed revisions stay: the remaining events still link,
 * and each archived event re-hashes to its chain row (`verify --archive`).
 */
import { LOG_SESSION_ID, type LogCompacted, type Revision, type SessionId } from '../domain/index.js';
import type { EventRow } from './event-codec.js';

/** An archived event: its row as stored and its chain hash (the export format's fields). */
export type ArchivedRow = readonly [...EventRow, string];

/**
 * Where removed events go, synchronously (SQLite's transaction cannot wait
 * on a promise). `write` gets them in revision order, possibly in several
 * calls; `finish` makes the archive durable under its final name and returns
 * its SHA-256, before the deletion commits; `discard` undoes it if the
 * compaction fails.
 */
export interface ArchiveWriter {
  write(rows: readonly ArchivedRow[]): void;
  finish(): string;
  discard(): void;
}

export interface CompactionRequest {
  /** Sessions whose close or expiry event is older than this time (ms since the epoch) are removed. */
  readonly endedBefore: number;
  /** At most this many sessions per compaction, oldest ending first: bounds one transaction's work. */
  readonly maxSessions: number;
  /**
   * And no more sessions than fit in this many events altogether (but always
   * the oldest one, however big): bounds the transaction by what it moves,
   * which sessions alone do not. Unset: no bound but `maxSessions`.
   */
  readonly maxEvents?: number;
  readonly archive: ArchiveWriter;
  /** The time and actor recorded on the log_compacted event. */
  readonly time: number;
  readonly actor: string;
}

/** What a store reports about retention so far. */
export interface RetentionState {
  /** The newest revision any compaction removed; 0 when none did. Reads at or below it are out of range. */
  readonly horizon: Revision;
}

/** The stored log_compacted event; undefined when no session had ended before the time. */
export type CompactionResult = (LogCompacted & { readonly revision: Revision; readonly commitId: Revision }) | undefined;

/** Builds the log_compacted event for a store, once it knows what it removed. */
export function compactionEvent(
  request: CompactionRequest,
  removed: { sessions: readonly SessionId[]; events: number; horizon: Revision; archiveSha256: string },
): LogCompacted {
  return {
    kind: 'log_compacted',
    sessionId: LOG_SESSION_ID,
    time: request.time,
    actor: request.actor,
    endedBefore: request.endedBefore,
    sessions: removed.sessions,
    events: removed.events,
    horizon: removed.horizon,
    archiveSha256: removed.archiveSha256,
  };
}

export const DEFAULT_MAX_SESSIONS = 10_000;

/** The parameters of the ended-session queries, as each dialect writes them. */
export interface EndedParameters {
  readonly endedBefore: string;
  readonly maxSessions: string;
  readonly maxEvents: string;
}

const ENDED = "kind IN ('session_closed', 'session_expired')";

/** Sessions that ended before a time, oldest ending first (by the index events_by_ending), at most `maxSessions`. */
export function endedSessionsSql(p: EndedParameters): string {
  return `SELECT session_id FROM events WHERE ${ENDED} AND time < ${p.endedBefore} ORDER BY time, revision LIMIT ${p.maxSessions}`;
}

/**
 * The same, cut where the running count of their events would pass
 * `maxEvents` (the oldest always stays). A recursive walk, so counting stops
 * at the cut: each session's events are counted through events_by_session,
 * at most `maxEvents + 1` of them. The same SQL on SQLite and PostgreSQL.
 */
export function endedSessionsWithinSql(p: EndedParameters): string {
  const count = (session: string) =>
    `(SELECT count(*) FROM (SELECT 1 FROM events e WHERE e.session_id = ${session} LIMIT ${p.maxEvents} + 1) one)`;
  return `
  WITH RECURSIVE ended AS (
    SELECT session_id, row_number() OVER (ORDER BY time, revision) AS nth
    FROM (SELECT session_id, time, revision FROM events WHERE ${ENDED} AND time < ${p.endedBefore} ORDER BY time, revision LIMIT ${p.maxSessions}) oldest
  ), picked (nth, session_id, total) AS (
    SELECT nth, session_id, ${count('ended.session_id')} FROM ended WHERE nth = 1
    UNION ALL
    SELECT ended.nth, ended.session_id, picked.total + ${count('ended.session_id')}
    FROM picked JOIN ended ON ended.nth = picked.nth + 1 WHERE picked.total < ${p.maxEvents}
  )
  SELECT session_id FROM picked WHERE nth = 1 OR total <= ${p.maxEvents} ORDER BY nth`;
}

/**
 * Removed revisions grouped into runs of consecutive ones (gaps and islands:
 * revision minus its rank is constant within a run), each with the kept
 * chain hash at its end. The same SQL on SQLite and PostgreSQL.
 */
export const REMOVED_RUNS = `
  SELECT g.lo, g.hi, c.hash
  FROM (
    SELECT min(revision) AS lo, max(revision) AS hi
    FROM (SELECT revision, revision - row_number() OVER (ORDER BY revision) AS grp FROM removed_revisions) ranked
    GROUP BY grp
  ) g LEFT JOIN event_chain c ON c.revision = g.hi
  ORDER BY g.lo`;

