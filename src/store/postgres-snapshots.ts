/**
 * Snapshot rows on PostgreSQL: the same layout and checksum as on SQLite
 * (sqlite-snapshots.ts), so a damaged snapshot is skipped and the log folded
 * instead. Nodes may race to write the snapshot of one revision: the first
 * wins (ON CONFLICT DO NOTHING) and the others report false.
 */
import type { PoolClient, QueryResult, QueryResultRow } from 'pg';
import type { Revision, SessionId, SessionState } from '../domain/index.js';
import type { SnapshotStore } from './event-store.js';
import { decodeSession, encodeSession, snapshotChecksum, type SnapshotRow } from './snapshot-codec.js';

type Query = <R extends QueryResultRow>(text: string, values?: unknown[]) => Promise<QueryResult<R>>;
type InTransaction = <T>(fn: (client: PoolClient) => Promise<T>) => Promise<T>;

interface Info {
  revision: number;
  session_count: number;
  checksum: string;
}

export class PostgresSnapshots implements SnapshotStore {
  /** Snapshot revision → whether its rows match its checksum (rows never change once written). */
  private readonly verified = new Map<number, boolean>();

  constructor(
    private readonly query: Query,
    private readonly inTransaction: InTransaction,
  ) {}

  async write(revision: Revision, sessions: Iterable<SessionState>, now: number, keep = 0): Promise<boolean> {
    const rows: SnapshotRow[] = [...sessions].map((s): SnapshotRow => [s.id, encodeSession(s)]).sort((a, b) => (a[0] < b[0] ? -1 : 1));
    return this.inTransaction(async (client) => {
      const inserted = await client.query(
        'INSERT INTO snapshots (revision, created_at, session_count, checksum) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING',
        [revision, now, rows.length, snapshotChecksum(rows)],
      );
      if (inserted.rowCount === 0) return false;
      await client.query('INSERT INTO snapshot_sessions (revision, session_id, state) SELECT $1, * FROM unnest($2::text[], $3::text[])', [
        revision,
        rows.map((r) => r[0]),
        rows.map((r) => r[1]),
      ]);
      // A cache: older snapshots only speed up reads far in the past, which the log answers too.
      if (keep > 0) {
        await client.query('DELETE FROM snapshots WHERE revision < (SELECT min(revision) FROM (SELECT revision FROM snapshots ORDER BY revision DESC LIMIT $1) newest)', [
          keep,
        ]);
      }
      return true;
    });
  }

  async loadLatest(atOrBelow = Number.MAX_SAFE_INTEGER): Promise<{ revision: Revision; sessions: Map<string, SessionState> } | undefined> {
    for (const info of await this.list(atOrBelow)) {
      const rows = await this.rows(info.revision);
      if (!this.check(info, rows)) continue;
      return { revision: info.revision as Revision, sessions: new Map(rows.map(([id, state]) => [id, decodeSession(state)])) };
    }
    return undefined;
  }

  async loadSession(sessionId: SessionId, atOrBelow: Revision): Promise<{ revision: Revision; session: SessionState } | undefined> {
    for (const info of await this.list(atOrBelow)) {
      if (!this.verified.has(info.revision)) this.check(info, await this.rows(info.revision));
      if (!this.verified.get(info.revision)) continue;
      const { rows } = await this.query<{ state: string }>('SELECT state FROM snapshot_sessions WHERE revision = $1 AND session_id = $2', [
        info.revision,
        sessionId,
      ]);
      const state = rows[0]?.state;
      return state === undefined ? undefined : { revision: info.revision as Revision, session: decodeSession(state) };
    }
    return undefined;
  }

  private async list(atOrBelow: number): Promise<Info[]> {
    const { rows } = await this.query<Info>(
      'SELECT revision, session_count, checksum FROM snapshots WHERE revision <= $1 ORDER BY revision DESC',
      [atOrBelow],
    );
    return rows;
  }

  private async rows(revision: number): Promise<SnapshotRow[]> {
    const { rows } = await this.query<{ session_id: string; state: string }>(
      'SELECT session_id, state FROM snapshot_sessions WHERE revision = $1 ORDER BY session_id COLLATE "C"',
      [revision],
    );
    return rows.map((r): SnapshotRow => [r.session_id, r.state]);
  }

  private check(info: Info, rows: readonly SnapshotRow[]): boolean {
    const intact = rows.length === info.session_count && snapshotChecksum(rows) === info.checksum;
    this.verified.set(info.revision, intact);
    return intact;
  }
}
