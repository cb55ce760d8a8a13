/**
 * Snapshot rows in SQLite: the projection at a revision, one row per
 * session, with a checksum over the rows so a damaged snapshot is skipped
 * (and the log folded instead) rather than trusted.
 */
import { createHash } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { Revision, SessionId, SessionState } from '../domain/index.js';
import { decodeSession, encodeSession } from './snapshot-codec.js';

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

type Row = [sessionId: string, state: string];

function checksumOf(rows: readonly Row[]): string {
  const hash = createHash('sha256');
  for (const [sessionId, state] of rows) hash.update(sessionId).update('\n').update(state).update('\n');
  return hash.digest('hex');
}

export class SnapshotTable {
  private readonly insertSnapshot: Database.Statement<[number, number, number, string]>;
  private readonly insertSession: Database.Statement<[number, string, string]>;
  private readonly selectInfos: Database.Statement<[number], SnapshotInfo>;
  private readonly selectRows: Database.Statement<[number], Row>;
  private readonly selectSessionRow: Database.Statement<[string, number], [number, string]>;
  private readonly writeAll: (revision: number, now: number, rows: readonly Row[]) => boolean;

  constructor(private readonly db: Database.Database) {
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
      .prepare<[string, number], [number, string]>(
        'SELECT revision, state FROM snapshot_sessions WHERE session_id = ? AND revision <= ? ORDER BY revision DESC LIMIT 1',
      )
      .raw();
    this.writeAll = db.transaction((revision: number, now: number, rows: readonly Row[]) => {
      // Another process may have written this revision's snapshot already.
      if (this.insertSnapshot.run(revision, now, rows.length, checksumOf(rows)).changes === 0) return false;
      for (const [sessionId, state] of rows) this.insertSession.run(revision, sessionId, state);
      return true;
    });
  }

  /** Writes the sessions as the snapshot at `revision`; false if one exists. */
  write(revision: Revision, sessions: Iterable<SessionState>, now: number): boolean {
    const rows: Row[] = [...sessions].map((s): Row => [s.id, encodeSession(s)]).sort((a, b) => (a[0] < b[0] ? -1 : 1));
    return this.writeAll(revision, now, rows);
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

  /** One session from the newest snapshot at or below a revision (fresh, unfrozen). */
  loadSession(sessionId: SessionId, atOrBelow: Revision): { revision: Revision; session: SessionState } | undefined {
    const row = this.selectSessionRow.get(sessionId, atOrBelow);
    return row ? { revision: row[0] as Revision, session: decodeSession(row[1]) } : undefined;
  }
}
