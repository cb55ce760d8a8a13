/**
 * Snapshots in SQLite, per session (see snapshot-rows.ts): a header per
 * snapshot, and a row per session state a snapshot saw change. A damaged
 * snapshot is skipped (and the log folded instead) rather than trusted.
 */
import type Database from 'better-sqlite3';
import type { Revision, SessionId, SessionState } from '../domain/index.js';
import type { SnapshotWrite, SnapshotWritten } from './event-store.js';
import { decodeSession } from './snapshot-codec.js';
import { carriedEndedRows, nextHeader, rowChecksum, rowsIntact, stateRow, type SnapshotHeader, type StateRow } from './snapshot-rows.js';

export interface LoadedSnapshot {
  readonly revision: Revision;
  /** Fresh, unfrozen states: a fold may continue from them. */
  readonly sessions: Map<string, SessionState>;
}

export interface SnapshotInfo extends SnapshotHeader {
  readonly createdAt: number;
}

interface RowRecord {
  sessionId: string;
  revision: number;
  ended: number;
  state: string;
  checksum: string;
}

const toRow = (r: RowRecord): StateRow => ({ ...r, ended: r.ended === 1 });

export class SnapshotTable {
  private readonly selectInfos: Database.Statement<[number], SnapshotInfo>;
  private readonly selectRows: Database.Statement<[number], RowRecord>;
  private readonly selectLiveRow: Database.Statement<[string, number], RowRecord>;
  private readonly writeAll: (snapshot: SnapshotWrite, rows: readonly StateRow[]) => SnapshotWritten;

  constructor(db: Database.Database) {
    this.selectInfos = db.prepare<[number], SnapshotInfo>(
      `SELECT revision, created_at AS createdAt, session_count AS sessionCount, checksum
       FROM snapshots WHERE revision <= ? ORDER BY revision DESC`,
    );
    // SQLite takes the bare columns from the row that has the max().
    this.selectRows = db.prepare<[number], RowRecord>(
      `SELECT session_id AS sessionId, max(revision) AS revision, ended, state, checksum
       FROM snapshot_states WHERE revision <= ? GROUP BY session_id ORDER BY session_id`,
    );
    this.selectLiveRow = db.prepare<[string, number], RowRecord>(
      `SELECT session_id AS sessionId, revision, ended, state, checksum FROM snapshot_states
       WHERE session_id = ? AND revision <= ? AND ended = 0 ORDER BY revision DESC LIMIT 1`,
    );
    const newest = db.prepare<[], number>('SELECT max(revision) FROM snapshots').pluck();
    const header = db.prepare<[number], SnapshotHeader>('SELECT revision, session_count AS sessionCount, checksum FROM snapshots WHERE revision = ?');
    const replaced = db
      .prepare<[string, number], string>('SELECT checksum FROM snapshot_states WHERE session_id = ? AND revision <= ? ORDER BY revision DESC LIMIT 1')
      .pluck();
    const insertHeader = db.prepare<[number, number, number, string]>(
      'INSERT OR IGNORE INTO snapshots (revision, created_at, session_count, checksum) VALUES (?, ?, ?, ?)',
    );
    // An upsert: a row of the same key holds the same state, unless it was damaged; then this repairs it.
    const upsertRow = db.prepare<[string, number, number, string, string]>(
      `INSERT INTO snapshot_states (session_id, revision, ended, state, checksum) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (session_id, revision) DO UPDATE SET ended = excluded.ended, state = excluded.state, checksum = excluded.checksum`,
    );
    const deleteRows = db.prepare<[string, number]>('DELETE FROM snapshot_states WHERE session_id = ? AND revision <= ?');
    const nthNewest = db.prepare<[number], number>('SELECT revision FROM snapshots ORDER BY revision DESC LIMIT 1 OFFSET ?').pluck();
    const oldest = db.prepare<[], number>('SELECT min(revision) FROM snapshots').pluck();
    // Rows superseded, at or below the oldest snapshot kept, by a row that appeared since the last prune.
    const pruneRows = db.prepare<[number, number]>(
      `DELETE FROM snapshot_states WHERE (session_id, revision) IN (
         SELECT o.session_id, o.revision FROM snapshot_states n
         JOIN snapshot_states o ON o.session_id = n.session_id AND o.revision < n.revision
         WHERE n.revision > ? AND n.revision <= ?)`,
    );
    const pruneHeaders = db.prepare<[number]>('DELETE FROM snapshots WHERE revision < ?');

    this.writeAll = db.transaction((snapshot: SnapshotWrite, rows: readonly StateRow[]): SnapshotWritten => {
      // Another process may have written this revision's snapshot, or a newer one, already.
      if ((newest.get() ?? 0) >= snapshot.revision) return 'skipped';
      const basis = snapshot.basis > 0 ? header.get(snapshot.basis) : undefined;
      if (snapshot.basis > 0 && !basis) return 'basis_missing';
      let next: SnapshotHeader;
      if (basis) {
        next = nextHeader(snapshot.revision, basis, rows, (sessionId) => replaced.get(sessionId, snapshot.basis));
      } else {
        // Written whole: ended sessions' rows stored before carry over (see carriedEndedRows); none are replaced.
        const carried = carriedEndedRows(this.selectRows.all(snapshot.revision).map(toRow), rows);
        for (const sessionId of carried.dropped) deleteRows.run(sessionId, snapshot.revision);
        next = nextHeader(snapshot.revision, carried.basis, rows, () => undefined);
      }
      insertHeader.run(snapshot.revision, snapshot.now, next.sessionCount, next.checksum);
      for (const row of rows) upsertRow.run(row.sessionId, row.revision, row.ended ? 1 : 0, row.state, row.checksum);
      const keep = snapshot.keep ?? 0;
      // Snapshots are a cache: older ones only speed up reads far in the past, which the log answers too.
      const oldestKept = keep > 0 ? nthNewest.get(keep - 1) : undefined;
      if (oldestKept !== undefined) {
        pruneRows.run(oldest.get() ?? 0, oldestKept);
        pruneHeaders.run(oldestKept);
      }
      return 'written';
    });
  }

  /** Writes a snapshot: only the changed sessions' rows, and a header checked against them. */
  write(snapshot: SnapshotWrite): SnapshotWritten {
    return this.writeAll(snapshot, [...snapshot.changed].map(stateRow));
  }

  /** Snapshots at or below a revision, newest first. */
  list(atOrBelow = Number.MAX_SAFE_INTEGER): SnapshotInfo[] {
    return this.selectInfos.all(atOrBelow);
  }

  /** Decodes one snapshot; undefined if its rows do not match its header. */
  load(info: SnapshotInfo): LoadedSnapshot | undefined {
    const rows = this.selectRows.all(info.revision);
    if (!rowsIntact(info, rows)) return undefined;
    try {
      return { revision: info.revision as Revision, sessions: new Map(rows.map((r) => [r.sessionId, decodeSession(r.state)])) };
    } catch {
      return undefined;
    }
  }

  /** The newest intact snapshot at or below a revision. */
  loadLatest(atOrBelow?: number): LoadedSnapshot | undefined {
    for (const info of this.list(atOrBelow)) {
      const loaded = this.load(info);
      if (loaded) return loaded;
    }
    return undefined;
  }

  /**
   * The session's newest intact stored state, while active, at or below a
   * revision (fresh, unfrozen), and the revision it holds from.
   */
  loadSession(sessionId: SessionId, atOrBelow: Revision): { revision: Revision; session: SessionState } | undefined {
    const row = this.selectLiveRow.get(sessionId, atOrBelow);
    // A damaged row: the caller folds the session from the log instead.
    if (!row || rowChecksum(row.sessionId, row.revision, row.state) !== row.checksum) return undefined;
    try {
      return { revision: row.revision as Revision, session: decodeSession(row.state) };
    } catch {
      return undefined;
    }
  }

  /** One snapshot's rows as stored (undecoded), session id order, and whether they match its header. */
  rows(info: SnapshotHeader): { rows: StateRow[]; intact: boolean } {
    const rows = this.selectRows.all(info.revision);
    return { rows: rows.map(toRow), intact: rowsIntact(info, rows) };
  }
}
