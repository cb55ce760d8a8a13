/**
 * Snapshots on PostgreSQL: the same per-session layout and checks as on
 * SQLite (snapshot-rows.ts), so a damaged snapshot is skipped and the log
 * folded instead. Nodes may race to write the snapshot of one revision: the
 * first wins and the others report `skipped`; rows of one key hold the same
 * state whoever wrote them.
 */
import type { PoolClient, QueryResult, QueryResultRow } from 'pg';
import type { Revision, SessionId, SessionState } from '../domain/index.js';
import type { SnapshotStore, SnapshotWrite, SnapshotWritten } from './event-store.js';
import { decodeSession } from './snapshot-codec.js';
import { carriedEndedRows, nextHeader, rowChecksum, rowsIntact, stateRow, type SnapshotHeader } from './snapshot-rows.js';

type Query = <R extends QueryResultRow>(text: string, values?: unknown[]) => Promise<QueryResult<R>>;
type InTransaction = <T>(fn: (client: PoolClient) => Promise<T>) => Promise<T>;

interface HeaderRecord {
  revision: string;
  session_count: number;
  checksum: string;
}

interface RowRecord {
  session_id: string;
  revision: string;
  state: string;
  checksum: string;
}

const toHeader = (r: HeaderRecord): SnapshotHeader => ({ revision: Number(r.revision), sessionCount: r.session_count, checksum: r.checksum });
const toRow = (r: RowRecord) => ({ sessionId: r.session_id, revision: Number(r.revision), state: r.state, checksum: r.checksum });

export class PostgresSnapshots implements SnapshotStore {
  constructor(
    private readonly query: Query,
    private readonly inTransaction: InTransaction,
  ) {}

  async write(snapshot: SnapshotWrite): Promise<SnapshotWritten> {
    // Encoded now, before the first await: the caller goes on changing the states.
    const rows = [...snapshot.changed].map(stateRow);
    return this.inTransaction(async (client) => {
      // One snapshot writer at a time across nodes, so a header is always computed over the newest one.
      await client.query('LOCK TABLE snapshots IN SHARE ROW EXCLUSIVE MODE');
      const newest = await client.query<{ max: string | null }>('SELECT max(revision) FROM snapshots');
      if (Number(newest.rows[0]?.max ?? 0) >= snapshot.revision) return 'skipped';
      let basis: SnapshotHeader | undefined;
      const replaced = new Map<string, string>();
      if (snapshot.basis > 0) {
        const found = await client.query<HeaderRecord>('SELECT revision, session_count, checksum FROM snapshots WHERE revision = $1', [snapshot.basis]);
        if (found.rows.length === 0) return 'basis_missing';
        basis = toHeader(found.rows[0] as HeaderRecord);
        const old = await client.query<{ session_id: string; checksum: string }>(
          `SELECT DISTINCT ON (session_id) session_id, checksum FROM snapshot_states
           WHERE session_id = ANY($1) AND revision <= $2 ORDER BY session_id, revision DESC`,
          [rows.map((r) => r.sessionId), snapshot.basis],
        );
        for (const r of old.rows) replaced.set(r.session_id, r.checksum);
      } else {
        // Written whole: ended sessions' rows stored before carry over (see carriedEndedRows); none are replaced.
        const stored = await client.query<RowRecord & { ended: boolean }>(
          `SELECT DISTINCT ON (session_id) session_id, revision, ended, state, checksum FROM snapshot_states
           WHERE revision <= $1 ORDER BY session_id, revision DESC`,
          [snapshot.revision],
        );
        const carried = carriedEndedRows(
          stored.rows.map((r) => ({ ...toRow(r), ended: r.ended })),
          rows,
        );
        if (carried.dropped.length > 0) {
          await client.query('DELETE FROM snapshot_states WHERE session_id = ANY($1) AND revision <= $2', [carried.dropped, snapshot.revision]);
        }
        basis = carried.basis;
      }
      const next = nextHeader(snapshot.revision, basis, rows, (sessionId) => replaced.get(sessionId));
      await client.query('INSERT INTO snapshots (revision, created_at, session_count, checksum) VALUES ($1, $2, $3, $4)', [
        next.revision,
        snapshot.now,
        next.sessionCount,
        next.checksum,
      ]);
      // An upsert: a row of the same key holds the same state, unless it was damaged; then this repairs it.
      await client.query(
        `INSERT INTO snapshot_states (session_id, revision, ended, state, checksum)
         SELECT * FROM unnest($1::text[], $2::bigint[], $3::boolean[], $4::text[], $5::text[])
         ON CONFLICT (session_id, revision) DO UPDATE SET ended = excluded.ended, state = excluded.state, checksum = excluded.checksum`,
        [rows.map((r) => r.sessionId), rows.map((r) => r.revision), rows.map((r) => r.ended), rows.map((r) => r.state), rows.map((r) => r.checksum)],
      );
      if ((snapshot.keep ?? 0) > 0) await this.prune(client, snapshot.keep as number);
      return 'written';
    });
  }

  async newest(): Promise<Revision> {
    const { rows } = await this.query<{ max: string | null }>('SELECT max(revision) FROM snapshots');
    return Number(rows[0]?.max ?? 0) as Revision;
  }

  async loadLatest(atOrBelow = Number.MAX_SAFE_INTEGER): Promise<{ revision: Revision; sessions: Map<string, SessionState> } | undefined> {
    const headers = await this.query<HeaderRecord>(
      'SELECT revision, session_count, checksum FROM snapshots WHERE revision <= $1 ORDER BY revision DESC',
      [atOrBelow],
    );
    for (const header of headers.rows.map(toHeader)) {
      const { rows } = await this.query<RowRecord>(
        `SELECT DISTINCT ON (session_id) session_id, revision, state, checksum FROM snapshot_states
         WHERE revision <= $1 ORDER BY session_id, revision DESC`,
        [header.revision],
      );
      const decoded = rows.map(toRow);
      if (!rowsIntact(header, decoded)) continue;
      try {
        return { revision: header.revision as Revision, sessions: new Map(decoded.map((r) => [r.sessionId, decodeSession(r.state)])) };
      } catch {
        continue;
      }
    }
    return undefined;
  }

  async loadSession(sessionId: SessionId, atOrBelow: Revision): Promise<{ revision: Revision; session: SessionState } | undefined> {
    const { rows } = await this.query<RowRecord>(
      `SELECT session_id, revision, state, checksum FROM snapshot_states
       WHERE session_id = $1 AND revision <= $2 AND NOT ended ORDER BY revision DESC LIMIT 1`,
      [sessionId, atOrBelow],
    );
    const row = rows[0] && toRow(rows[0]);
    // A damaged row: the caller folds the session from the log instead.
    if (!row || rowChecksum(row.sessionId, row.revision, row.state) !== row.checksum) return undefined;
    try {
      return { revision: row.revision as Revision, session: decodeSession(row.state) };
    } catch {
      return undefined;
    }
  }

  /** Keeps the newest `keep` snapshots, and the rows they need. */
  private async prune(client: PoolClient, keep: number): Promise<void> {
    const kept = await client.query<{ revision: string }>('SELECT revision FROM snapshots ORDER BY revision DESC LIMIT 1 OFFSET $1', [keep - 1]);
    if (kept.rows.length === 0) return;
    const oldestKept = Number((kept.rows[0] as { revision: string }).revision);
    const oldest = await client.query<{ min: string }>('SELECT min(revision) FROM snapshots');
    // Rows superseded, at or below the oldest snapshot kept, by a row that appeared since the last prune.
    await client.query(
      `DELETE FROM snapshot_states o USING snapshot_states n
       WHERE o.session_id = n.session_id AND o.revision < n.revision AND n.revision > $1 AND n.revision <= $2`,
      [Number(oldest.rows[0]?.min ?? 0), oldestKept],
    );
    await client.query('DELETE FROM snapshots WHERE revision < $1', [oldestKept]);
  }
}
