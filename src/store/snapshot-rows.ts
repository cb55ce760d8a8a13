/**
 * The per-session snapshot layout both stores share (driver-free): a
 * session's state is one row keyed by the revision of its last change, and
 * the snapshot at R is the newest row of every session at or below R.
 *
 * Damage must never be trusted, so each row carries a SHA-256 of what it
 * holds, and each snapshot header the XOR of the checksums of its rows. XOR
 * lets a writer update a snapshot's checksum from the previous one by taking
 * out the rows it replaces and putting in the new ones, without reading the
 * sessions that did not change; on load, a missing, extra, stale or altered
 * row makes the set checksum differ and the snapshot is skipped. (Against
 * damage, not a forger: a forger could rewrite the log's chain just as well.)
 */
import { hash } from 'node:crypto';
import { endedForm, type SessionState } from '../domain/index.js';
import { encodeSession } from './snapshot-codec.js';

/** One session's state as stored. */
export interface StateRow {
  readonly sessionId: string;
  /** The session's last change: the state holds from here until its next one. */
  readonly revision: number;
  /** An ended session, stored in its compact form. */
  readonly ended: boolean;
  readonly state: string;
  readonly checksum: string;
}

/** A snapshot header: the revision it is at and a check over its rows. */
export interface SnapshotHeader {
  readonly revision: number;
  readonly sessionCount: number;
  readonly checksum: string;
}

/** The set checksum of no rows. */
export const EMPTY_SET_CHECKSUM = '0'.repeat(64);

/** SHA-256 of a row's key and state (one-shot: start-up checks one per session). */
const rowDigest = (sessionId: string, revision: number, state: string): Buffer => hash('sha256', `${sessionId}\n${revision}\n${state}`, 'buffer');

export function rowChecksum(sessionId: string, revision: number, state: string): string {
  return rowDigest(sessionId, revision, state).toString('hex');
}

/** The row a session's current state is stored as (ended sessions compact). */
export function stateRow(session: SessionState): StateRow {
  const state = encodeSession(endedForm(session));
  const revision = session.modifiedRevision;
  return { sessionId: session.id, revision, ended: session.status !== 'active', state, checksum: rowChecksum(session.id, revision, state) };
}

/** a XOR b, both 64 hex digits. */
export function xorChecksums(a: string, b: string): string {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  for (let i = 0; i < x.length; i++) x[i] = (x[i] as number) ^ (y[i] as number);
  return x.toString('hex');
}

/**
 * Whether rows read back for a snapshot are the ones it was written with:
 * as many as it counted, each matching its own checksum, all together its
 * set checksum.
 */
export function rowsIntact(header: SnapshotHeader, rows: readonly Omit<StateRow, 'ended'>[]): boolean {
  if (rows.length !== header.sessionCount) return false;
  const set = new Uint32Array(8);
  for (const row of rows) {
    const sum = rowDigest(row.sessionId, row.revision, row.state);
    if (sum.toString('hex') !== row.checksum) return false;
    for (let i = 0; i < 8; i++) set[i] = (set[i] as number) ^ sum.readUInt32LE(i * 4);
  }
  const out = Buffer.alloc(32);
  for (let i = 0; i < 8; i++) out.writeUInt32LE(set[i] as number, i * 4);
  return out.toString('hex') === header.checksum;
}

/**
 * The basis of a snapshot written whole (no basis snapshot): the ended
 * sessions' rows already stored. The projection no longer holds ended
 * sessions, so a whole snapshot writes only live ones (and those that ended
 * since the last snapshot); every other ended session's row, written once
 * when it ended, stays the newest row of that session and belongs to this
 * snapshot too. `stored` is the newest row of each session at or below the
 * snapshot's revision; those being rewritten are left out.
 *
 * A damaged ended row cannot be rewritten (its state is not in memory), so
 * `dropped` names its session: the store deletes all of that session's rows
 * at or below the revision, which leaves it out of the snapshot (a fold of
 * the session from the log answers for it, as for any session without a row)
 * rather than letting an older active row stand for it.
 */
export function carriedEndedRows(
  stored: readonly { sessionId: string; revision: number; ended: boolean; state: string; checksum: string }[],
  rows: readonly StateRow[],
): { basis: SnapshotHeader; dropped: string[] } {
  const written = new Set(rows.map((r) => r.sessionId));
  let sessionCount = 0;
  let checksum = EMPTY_SET_CHECKSUM;
  const dropped: string[] = [];
  for (const row of stored) {
    if (!row.ended || written.has(row.sessionId)) continue;
    if (rowChecksum(row.sessionId, row.revision, row.state) !== row.checksum) {
      dropped.push(row.sessionId);
      continue;
    }
    sessionCount++;
    checksum = xorChecksums(checksum, row.checksum);
  }
  return { basis: { revision: 0, sessionCount, checksum }, dropped };
}

/**
 * The header of a new snapshot at `revision` written over `basis`: the
 * basis's count and checksum, with each replaced row taken out and each new
 * row put in. `replaced(sessionId)` is the checksum of the session's newest
 * row at or below the basis, if it has one. Without a basis, `rows` must be
 * every session.
 */
export function nextHeader(
  revision: number,
  basis: SnapshotHeader | undefined,
  rows: readonly StateRow[],
  replaced: (sessionId: string) => string | undefined,
): SnapshotHeader {
  let sessionCount = basis?.sessionCount ?? 0;
  let checksum = basis?.checksum ?? EMPTY_SET_CHECKSUM;
  for (const row of rows) {
    const old = basis && replaced(row.sessionId);
    if (old) checksum = xorChecksums(checksum, old);
    else sessionCount++;
    checksum = xorChecksums(checksum, row.checksum);
  }
  return { revision, sessionCount, checksum };
}
