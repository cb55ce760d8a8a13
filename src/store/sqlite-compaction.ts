/**
 * Retention on SQLite (the steps are in compaction.ts), run inside the
 * store's IMMEDIATE write transaction, then the space is given back to the
 * file system: `PRAGMA incremental_vacuum` on a file created with
 * auto_vacuum=INCREMENTAL, or, once, a VACUUM that converts an older file.
 */
import type Database from 'better-sqlite3';
import type { Revision, SessionId, StoredEvent } from '../domain/index.js';
import type { RemovedRun } from './audit-source.js';
import {
  compactionEvent,
  endedSessionsSql,
  endedSessionsWithinSql,
  REMOVED_RUNS,
  type ArchivedRow,
  type CompactionRequest,
  type CompactionResult,
  type EndedParameters,
} from './compaction.js';
import { EVENT_COLUMNS } from './event-codec.js';
import type { WriteTransaction } from './sqlite-event-store.js';
import type { VariableIndex } from './sqlite-variable-index.js';

const ARCHIVE_CHUNK = 1_000;
/** `x IN` a JSON array given as one parameter. */
const IN_LIST = 'IN (SELECT value FROM json_each(?))';
const ENDED_PARAMETERS: EndedParameters = { endedBefore: '@endedBefore', maxSessions: '@maxSessions', maxEvents: '@maxEvents' };

export class SqliteCompaction {
  private readonly statements;

  constructor(
    private readonly db: Database.Database,
    private readonly variableIndex: VariableIndex,
  ) {
    this.statements = {
      ended: db.prepare<[{ endedBefore: number; maxSessions: number }], string>(endedSessionsSql(ENDED_PARAMETERS)).pluck(),
      endedWithin: db
        .prepare<[{ endedBefore: number; maxSessions: number; maxEvents: number }], string>(endedSessionsWithinSql(ENDED_PARAMETERS))
        .pluck(),
      rows: db
        .prepare<[string], ArchivedRow>(
          `SELECT ${EVENT_COLUMNS.split(', ')
            .map((c) => `e.${c}`)
            .join(', ')}, c.hash FROM events e JOIN event_chain c ON c.revision = e.revision
           WHERE e.session_id ${IN_LIST} ORDER BY e.revision`,
        )
        .raw(),
      horizon: db.prepare<[], number>('SELECT coalesce(max(revision), 0) FROM removed_revisions').pluck(),
      removedBy: db.prepare<[string], number>('SELECT compaction FROM removed_sessions WHERE session_id = ?').pluck(),
      recordSessions: db.prepare<[number, string]>(`INSERT INTO removed_sessions (session_id, compaction) SELECT value, ? FROM json_each(?)`),
      recordRevisions: db.prepare<[number, string]>(
        `INSERT INTO removed_revisions (revision, compaction) SELECT revision, ? FROM events WHERE session_id ${IN_LIST}`,
      ),
      deleteEvents: db.prepare<[string]>(`DELETE FROM events WHERE session_id ${IN_LIST}`),
      deleteActivity: db.prepare<[string]>(`DELETE FROM session_activity WHERE session_id ${IN_LIST}`),
      deleteSnapshotStates: db.prepare<[string]>(`DELETE FROM snapshot_states WHERE session_id ${IN_LIST}`),
      deleteSnapshots: db.prepare<[number]>('DELETE FROM snapshots WHERE revision < ?'),
      runs: db.prepare<[], [number, number, string | null]>(REMOVED_RUNS).raw(),
      chainHashes: db.prepare<[string], [number, string]>(`SELECT revision, hash FROM event_chain WHERE revision ${IN_LIST}`).raw(),
      removedRevisions: db
        .prepare<[string], [number, number]>(`SELECT revision, compaction FROM removed_revisions WHERE revision ${IN_LIST}`)
        .raw(),
    };
  }

  /** Removed revisions as runs of consecutive ones, oldest first, with the chain hash at each run's end (for verify). */
  *removedRuns(): IterableIterator<RemovedRun> {
    for (const [from, to, hash] of this.statements.runs.iterate()) yield { from, to, hash };
  }

  /** Chain rows of some revisions. */
  chainHashes(revisions: readonly number[]): Map<number, string> {
    return new Map(this.statements.chainHashes.all(JSON.stringify(revisions)));
  }

  /** Which of some revisions were removed, and by which compaction. */
  removedRevisions(revisions: readonly number[]): Map<number, number> {
    return new Map(this.statements.removedRevisions.all(JSON.stringify(revisions)));
  }

  /** The newest removed revision; 0 when nothing was removed. */
  horizon(): Revision {
    return this.statements.horizon.get() as Revision;
  }

  removedBy(sessionId: SessionId): Revision | undefined {
    return this.statements.removedBy.get(sessionId) as Revision | undefined;
  }

  /** Must run inside the store's write transaction (`tx`); see compaction.ts for the steps. */
  compactInTransaction(tx: WriteTransaction, request: CompactionRequest): CompactionResult {
    const { endedBefore, maxSessions, maxEvents } = request;
    const sessions = (
      maxEvents === undefined
        ? this.statements.ended.all({ endedBefore, maxSessions })
        : this.statements.endedWithin.all({ endedBefore, maxSessions, maxEvents })
    ) as SessionId[];
    if (sessions.length === 0) return undefined;
    const list = JSON.stringify(sessions);
    let events = 0;
    let newest = 0;
    let chunk: ArchivedRow[] = [];
    try {
      for (const row of this.statements.rows.iterate(list)) {
        chunk.push(row);
        events++;
        newest = row[0];
        if (chunk.length >= ARCHIVE_CHUNK) {
          request.archive.write(chunk);
          chunk = [];
        }
      }
      request.archive.write(chunk);
      const archiveSha256 = request.archive.finish();
      const horizon = Math.max(newest, this.horizon()) as Revision;
      const [stored] = tx.append([compactionEvent(request, { sessions, events, horizon, archiveSha256 })]);
      const compaction = (stored as StoredEvent).revision;
      this.statements.recordSessions.run(compaction, list);
      this.statements.recordRevisions.run(compaction, list);
      // Finds the index rows through the events, so before they go.
      this.variableIndex.forgetSessions(list);
      this.statements.deleteEvents.run(list);
      this.statements.deleteActivity.run(list);
      // Older snapshots hold removed sessions; they are a cache, and the next one is written without them
      // (over no basis: every session). The removed sessions' rows go; the others' stay for past reads.
      this.statements.deleteSnapshotStates.run(list);
      this.statements.deleteSnapshots.run(compaction);
      return stored as CompactionResult;
    } catch (error) {
      request.archive.discard();
      throw error;
    }
  }

  /** Gives the freed pages back to the file system (outside any transaction). */
  reclaimSpace(): void {
    const INCREMENTAL = 2;
    if (this.db.pragma('auto_vacuum', { simple: true }) === INCREMENTAL) {
      this.db.pragma('incremental_vacuum');
    } else {
      // A file from before auto_vacuum was set: one full VACUUM converts it, later compactions are incremental.
      this.db.pragma('auto_vacuum = INCREMENTAL');
      // VACUUM copies the whole file through a temporary database: on disk, not in memory (the
      // writer keeps temp_store=MEMORY for its savepoints' undo pages, see sqlite-event-store.ts).
      const tempStore = this.db.pragma('temp_store', { simple: true }) as number;
      this.db.pragma('temp_store = FILE');
      try {
        this.db.exec('VACUUM');
      } finally {
        this.db.pragma(`temp_store = ${tempStore}`);
      }
    }
    // WAL: the file shrinks when the log is checkpointed; a busy reader just postpones it.
    this.db.pragma('wal_checkpoint(TRUNCATE)');
  }
}
