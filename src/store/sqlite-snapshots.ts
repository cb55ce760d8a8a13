/**
 * Snapshot rows in SQLite: the projection at a revision, one row per
 * session, with a checksum over the rows so a damaged snapshot is skipped
 * (and the log folded instead) rather than trusted.
 */
import { createHash } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { Revision, SessionId, SessionState } from '../domain/index.js';
import { decodeSession, encodeSession, snapshotChecksum, type SnapshotRow } from './snapshot-codec.js';

export interface LoadedSnapshot {
  readonly revision: Revision;
  /** Fresh, unfrozen states: a fold may continue from them. */
  readonly sessions: Map<string, SessionState>;
}

export interface SnapshotInfo {
  readonly revision: Revision;
  readonly createdAt: number;
  readonly sessionCount: number;
  readonly checksum: string;
}

type Row = SnapshotRow;
const checksumOf = snapshotChecksum;

export class SnapshotTable {
  private readonly insertSnapshot: Database.Statement<[number, number, number, string]>;
  private readonly insertSession: Database.Statement<[number, string, string]>;
  private readonly selectInfos: Database.Statement<[number], SnapshotInfo>;
  private readonly selectRows: Database.Statement<[number], Row>;
  private readonly selectSessionRow: Database.Statement<[number, string], string>;
  /** Snapshot revision → whether its rows match its checksum, for past reads. */
  private readonly verified = new Map<number, boolean>();
  private readonly writeAll: (revision: number, now: number, rows: readonly Row[], keep: number) => boolean;

  constructor(db: Database.Database) {
    this.insertSnapshot = db.prepare(
      'INSERT OR IGNORE INTO snapshots (revision, created_at, session_count, checksum) VALUES (?, ?, ?, ?)',
    );
    this.insertSession = db.prepare('INSERT INTO snapshot_sessions (revision, session_id, state) VALUES (?, ?, ?)');
    this.selectInfos = db.prepare<[number], SnapshotInfo>(
      `SELECT revision, created_at AS createdAt, session_count AS sessionCount, checksum
       FROM snapshots WHERE revision <= ? ORDER BY revision DESC`,
    );
    this.selectRows = db
      .prepare<[number], Row>('SELECT session_id, state FROM snapshot_sessions WHERE revision = ? ORDER BY session_id')
      .raw();
    this.selectSessionRow = db
      .prepare<[number, string], string>('SELECT state FROM snapshot_sessions WHERE revision = ? AND session_id = ?')
      .pluck();
    const pruneSessions = db.prepare<[number]>(
      'DELETE FROM snapshot_sessions WHERE revision < (SELECT min(revision) FROM (SELECT revision FROM snapshots ORDER BY revision DESC LIMIT ?))',
    );
    const pruneSnapshots = db.prepare<[number]>(
      'DELETE FROM snapshots WHERE revision < (SELECT min(revision) FROM (SELECT revision FROM snapshots ORDER BY revision DESC LIMIT ?))',
    );
    this.writeAll = db.transaction((revision: number, now: number, rows: readonly Row[], keep: number) => {
      // Another process may have written this revision's snapshot already.
      if (this.insertSnapshot.run(revision, now, rows.length, checksumOf(rows)).changes === 0) return false;
      for (const [sessionId, state] of rows) this.insertSession.run(revision, sessionId, state);
      // Snapshots are a cache: older ones only speed up reads far in the past, which the log answers too.
      if (keep > 0) {
        pruneSessions.run(keep);
        pruneSnapshots.run(keep);
      }
      return true;
    });
  }

  /** Writes the sessions as the snapshot at `revision`, keeping the newest `keep` (0: all); false if one exists. */
  write(revision: Revision, sessions: Iterable<SessionState>, now: number, keep = 0): boolean {
    const rows: Row[] = [...sessions].map((s): Row => [s.id, encodeSession(s)]).sort((a, b) => (a[0] < b[0] ? -1 : 1));
    return this.writeAll(revision, now, rows, keep);
  }

  /** Snapshots at or below a revision, newest first. */
  list(atOrBelow = Number.MAX_SAFE_INTEGER): SnapshotInfo[] {
    return this.selectInfos.all(atOrBelow);
  }

  /** Decodes one snapshot; undefined if its rows do not match its checksum. */
  load(info: SnapshotInfo): LoadedSnapshot | undefined {
    const rows = this.selectRows.all(info.revision);
    if (rows.length !== info.sessionCount || checksumOf(rows) !== info.checksum) return undefined;
    return { revision: info.revision, sessions: new Map(rows.map(([id, state]) => [id, decodeSession(state)])) };
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
   * One session from the newest intact snapshot at or below a revision
   * (fresh, unfrozen); undefined when that snapshot does not hold it.
   */
  loadSession(sessionId: SessionId, atOrBelow: Revision): { revision: Revision; session: SessionState } | undefined {
    for (const info of this.list(atOrBelow)) {
      if (!this.isIntact(info)) continue;
      const state = this.selectSessionRow.get(info.revision, sessionId);
      if (state === undefined) return undefined;
      const session = decodeSession(state);
      // An ended session is stored without its variables: past reads fold it from the log instead.
      return session.endedVariableCount === undefined ? { revision: info.revision, session } : undefined;
    }
    return undefined;
  }

  /** One snapshot's rows as stored (undecoded), and whether they match its count and checksum. */
  rows(info: Pick<SnapshotInfo, 'sessionCount' | 'checksum'> & { readonly revision: number }) {
    const rows = this.selectRows.all(info.revision);
    return { rows, intact: rows.length === info.sessionCount && checksumOf(rows) === info.checksum };
  }

  /** Checks a snapshot's rows against its checksum, once per snapshot (they never change once written). */
  private isIntact(info: SnapshotInfo): boolean {
    let intact = this.verified.get(info.revision);
    if (intact === undefined) {
      const hash = createHash('sha256');
      let count = 0;
      for (const [sessionId, state] of this.selectRows.iterate(info.revision)) {
        hash.update(sessionId).update('\n').update(state).update('\n');
        count++;
      }
      intact = count === info.sessionCount && hash.digest('hex') === info.checksum;
      this.verified.set(info.revision, intact);
    }
    return intact;
  }
}
