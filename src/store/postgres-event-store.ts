/**
 * The event store on PostgreSQL, shared by several varledger nodes.
 *
 * Appends lock the single `log_head` row FOR UPDATE, so transactions from
 * every node append one after another in commit order: revisions stay
 * gapless, each event's hash chains to the one committed just before it, and
 * a reader that reads `revision > n` never sees a later revision before an
 * earlier one. A call's commits go in one transaction (group commit); the
 * conflict check runs under the same lock, against the shared log, so an
 * `expected_version` decided on one node is checked against writes from all.
 * The commit NOTIFYs the new head; other nodes' notifiers wake their readers.
 */
import pg from 'pg';
import { storedEvent, type NewEvent, type Revision, type SessionId, type StoredEvent, type VariableId } from '../domain/index.js';
import { EVENT_COLUMNS, fromRow, toRow, type EventRow } from './event-codec.js';
import {
  AppendConflict,
  type AppendCommit,
  type AppendOutcome,
  type EventStore,
  type LogBatch,
  type ReadOptions,
  type StorageStats,
} from './event-store.js';
import type { CompactionRequest, CompactionResult, RetentionState } from './compaction.js';
import { chainHash, type Digest } from './hash-chain.js';
import { compactPostgres } from './postgres-compaction.js';
import { migratePostgres } from './postgres-migrations.js';
import { LOG_CHANNEL, PostgresNotifier } from './postgres-notifier.js';
import { PostgresSnapshots } from './postgres-snapshots.js';
import { PG_TYPES } from './postgres-types.js';
import { readLog } from './whole-commits.js';

export interface PostgresStoreOptions {
  /** Connections in the pool (the LISTEN connection is extra). */
  readonly poolSize?: number;
  /** Head poll fallback for missed notifications, ms (≤ 1,000). */
  readonly pollMs?: number;
  /** Connection failures that are being retried. */
  readonly onError?: (error: Error) => void;
}

const VALUE_KINDS = "('variable_registered', 'variable_set', 'variable_rolled_back')";
const SELECT_EVENTS = `SELECT ${EVENT_COLUMNS} FROM events`;

/** Inserts a batch of events and their hashes and moves the head, in one statement. */
const INSERT_BATCH = `
  WITH inserted_events AS (
    INSERT INTO events (${EVENT_COLUMNS})
    SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::bigint[], $8::text[], $9::text[])
  ), inserted_hashes AS (
    INSERT INTO event_chain (revision, hash) SELECT * FROM unnest($1::bigint[], $10::text[])
  )
  UPDATE log_head SET revision = $11::bigint, hash = $12::text RETURNING pg_notify('${LOG_CHANNEL}', $11::bigint::text)`;

/**
 * Gives one commit's events their revisions after `head` and seals each into
 * the chain in order, adding their rows and hashes to the batch being built.
 * Returns the stored events and the new head.
 */
function sealCommit(
  events: readonly NewEvent[],
  head: Digest,
  rows: EventRow[],
  hashes: string[],
): { events: StoredEvent[]; head: Digest } {
  let { revision, hash } = head;
  const first = revision + 1;
  const stored = events.map((event): StoredEvent => {
    revision++;
    const row = toRow(event, revision, first);
    hash = chainHash(hash, row);
    rows.push(row);
    hashes.push(hash);
    return storedEvent(event, revision as Revision, first as Revision);
  });
  return { events: stored, head: { revision, hash } };
}

export class PostgresEventStore implements EventStore {
  readonly snapshots: PostgresSnapshots;
  /** Wakes `follow` readers after our own appends as well as other nodes'. */
  readonly notifier: PostgresNotifier;
  private closed = false;

  private constructor(
    private readonly pool: pg.Pool,
    notifier: PostgresNotifier,
  ) {
    this.notifier = notifier;
    this.snapshots = new PostgresSnapshots((sql, params) => this.query(sql, params), (fn) => this.inTransaction(fn));
  }

  /** Connects, migrates (under an advisory lock) and starts listening. */
  static async open(connectionString: string, options: PostgresStoreOptions = {}): Promise<PostgresEventStore> {
    const pool = new pg.Pool({ connectionString, max: options.poolSize ?? 10, types: PG_TYPES });
    // An idle pooled connection that the server drops must not crash the process.
    pool.on('error', (error) => options.onError?.(error));
    try {
      const client = await pool.connect();
      try {
        await migratePostgres(client);
      } finally {
        client.release();
      }
      const readHead = async () => (await pool.query<{ revision: number }>('SELECT revision FROM log_head')).rows[0]?.revision ?? 0;
      const notifier = new PostgresNotifier({ connectionString, pollMs: options.pollMs, readHead, onError: options.onError });
      await notifier.start();
      return new PostgresEventStore(pool, notifier);
    } catch (error) {
      await pool.end().catch(() => undefined);
      throw error;
    }
  }

  async head(): Promise<Revision> {
    const { rows } = await this.query<{ revision: number }>('SELECT revision FROM log_head');
    return (rows[0]?.revision ?? 0) as Revision;
  }

  /** pg_database_size: the whole database (events, chain, snapshots, indexes), as PostgreSQL accounts it. */
  async storageStats(): Promise<StorageStats> {
    const { rows } = await this.query<{ bytes: number }>('SELECT pg_database_size(current_database()) AS bytes');
    return { bytes: rows[0]?.bytes ?? 0 };
  }

  async digest(): Promise<Digest> {
    const { rows } = await this.query<Digest>('SELECT revision, hash FROM log_head');
    const row = rows[0];
    if (!row) throw new Error('log_head row is missing: the schema was not migrated');
    return { revision: row.revision, hash: row.hash };
  }

  async append(commits: readonly AppendCommit[]): Promise<AppendOutcome[]> {
    if (commits.length === 0) return [];
    const outcomes = await this.inTransaction(async (client) => {
      // Simple-protocol BEGIN + lock in one round trip; every other node's append waits here.
      const locked = (await client.query('SELECT revision, hash FROM log_head FOR UPDATE')).rows[0] as Digest;
      const sessions = [...new Set(commits.flatMap((c) => c.events.map((e) => e.sessionId)))];
      const latest = new Map<string, number>();
      // One max() per session, so each is a single backward step of events_by_session. A
      // `max(revision) … WHERE session_id = ANY($1) GROUP BY session_id` reads every event of
      // those sessions instead (PostgreSQL has no skip scan): an append cost O(session size).
      const moved = await client.query<{ session_id: string; revision: number | null }>(
        'SELECT s.id AS session_id, (SELECT max(revision) FROM events WHERE session_id = s.id) AS revision FROM unnest($1::text[]) AS s(id)',
        [sessions],
      );
      for (const row of moved.rows) if (row.revision !== null) latest.set(row.session_id, row.revision);
      // Recorded use matters only to conditional commits (expiry claims); read it only for those.
      const claimed = [...new Set(commits.filter((c) => c.activeNoLaterThan !== undefined).flatMap((c) => c.events.map((e) => e.sessionId)))];
      const used = claimed.length > 0 ? await this.activityOn(client, claimed) : new Map<SessionId, number>();

      let { revision, hash } = locked;
      const rows: EventRow[] = [];
      const hashes: string[] = [];
      const failedSessions = new Set<string>();
      const results = commits.map((commit): AppendOutcome => {
        const touched = new Set(commit.events.map((e) => e.sessionId));
        for (const sessionId of touched) {
          const inUse = commit.activeNoLaterThan !== undefined && (used.get(sessionId as SessionId) ?? 0) > commit.activeNoLaterThan;
          if (failedSessions.has(sessionId) || (latest.get(sessionId) ?? 0) > commit.decidedAt || inUse) {
            for (const s of touched) failedSessions.add(s);
            return { ok: false, error: new AppendConflict(sessionId as SessionId, commit.decidedAt) };
          }
        }
        const sealed = sealCommit(commit.events, { revision, hash }, rows, hashes);
        ({ revision, hash } = sealed.head);
        return { ok: true, events: sealed.events };
      });
      if (rows.length > 0) await client.query(INSERT_BATCH, [...columnsOf(rows), hashes, revision, hash]);
      return results;
    });
    this.notifier.notify();
    return outcomes;
  }

  async compact(request: CompactionRequest): Promise<CompactionResult> {
    let result: CompactionResult;
    try {
      result = await this.inTransaction((client) => compactPostgres(client, request, (c, head, events) => this.appendLocked(c, head, events)));
    } catch (error) {
      request.archive.discard();
      throw error;
    }
    if (result) this.notifier.notify();
    return result;
  }

  async retention(): Promise<RetentionState> {
    const { rows } = await this.query<{ horizon: number }>('SELECT coalesce(max(revision), 0) AS horizon FROM removed_revisions');
    return { horizon: (rows[0]?.horizon ?? 0) as Revision };
  }

  async removedBy(sessionId: SessionId): Promise<Revision | undefined> {
    const { rows } = await this.query<{ compaction: number }>('SELECT compaction FROM removed_sessions WHERE session_id = $1', [sessionId]);
    return rows[0]?.compaction as Revision | undefined;
  }

  /** Appends one commit after `head` on a client that holds the head row locked. */
  private async appendLocked(client: pg.PoolClient, head: Digest, events: readonly NewEvent[]): Promise<StoredEvent[]> {
    const rows: EventRow[] = [];
    const hashes: string[] = [];
    const sealed = sealCommit(events, head, rows, hashes);
    await client.query(INSERT_BATCH, [...columnsOf(rows), hashes, sealed.head.revision, sealed.head.hash]);
    return sealed.events;
  }

  async touch(sessionId: SessionId, time: number): Promise<void> {
    await this.query(
      `INSERT INTO session_activity (session_id, last_active) VALUES ($1, $2)
       ON CONFLICT (session_id) DO UPDATE SET last_active = greatest(session_activity.last_active, excluded.last_active)`,
      [sessionId, time],
    );
  }

  async activity(sessionIds: readonly SessionId[]): Promise<Map<SessionId, number>> {
    if (sessionIds.length === 0) return new Map();
    const client = await this.pool.connect();
    try {
      return await this.activityOn(client, sessionIds);
    } finally {
      client.release();
    }
  }

  read(options: ReadOptions): AsyncGenerator<LogBatch> {
    return readLog(
      {
        head: () => this.head(),
        page: (after, limit, sessionIds) =>
          sessionIds
            ? this.events(`${SELECT_EVENTS} WHERE session_id = ANY($1) AND revision > $2 ORDER BY revision LIMIT $3`, [sessionIds, after, limit])
            : this.events(`${SELECT_EVENTS} WHERE revision > $1 ORDER BY revision LIMIT $2`, [after, limit]),
        moved: (signal) => this.moved(signal),
        isOpen: () => !this.closed,
      },
      options,
    );
  }

  async readSession(sessionId: SessionId, upTo: Revision, after: Revision = 0 as Revision): Promise<StoredEvent[]> {
    return this.events(`${SELECT_EVENTS} WHERE session_id = $1 AND revision > $2 AND revision <= $3 ORDER BY revision`, [
      sessionId,
      after,
      upTo,
    ]);
  }

  async sessionIds(after: string, limit: number, upTo: Revision): Promise<SessionId[]> {
    // COLLATE "C": the same byte order as SQLite's and as the ids compare in JavaScript.
    const { rows } = await this.pool.query<{ session_id: string }>(
      `SELECT session_id FROM events WHERE session_id COLLATE "C" > $1 AND kind = 'session_created' AND revision <= $2
       ORDER BY session_id COLLATE "C" LIMIT $3`,
      [after, upTo, limit],
    );
    return rows.map((r) => r.session_id as SessionId);
  }

  async readAt(revisions: readonly Revision[]): Promise<StoredEvent[]> {
    if (revisions.length === 0) return [];
    return this.events(`${SELECT_EVENTS} WHERE revision = ANY($1::bigint[]) ORDER BY revision`, [[...revisions]]);
  }

  async readHistory(variableId: VariableId, beforeVersion: number, limit: number): Promise<StoredEvent[]> {
    return this.events(
      `${SELECT_EVENTS} WHERE variable_id = $1 AND version < $2 AND kind IN ${VALUE_KINDS} ORDER BY version DESC LIMIT $3`,
      [variableId, beforeVersion, limit],
    );
  }

  async readVersion(variableId: VariableId, version: number): Promise<StoredEvent | undefined> {
    const events = await this.events(`${SELECT_EVENTS} WHERE variable_id = $1 AND version = $2 AND kind IN ${VALUE_KINDS} LIMIT 1`, [
      variableId,
      version,
    ]);
    return events[0];
  }

  /** Every event row as stored with its chain hash, oldest first, in pages (for verify and export). */
  async *rowsWithHashes(pageSize = 5_000): AsyncGenerator<[...EventRow, string | null]> {
    let after = 0;
    for (;;) {
      const { rows } = await this.pool.query<[...EventRow, string | null]>({
        text: `SELECT ${EVENT_COLUMNS.split(', ')
          .map((c) => `e.${c}`)
          .join(', ')}, c.hash FROM events e LEFT JOIN event_chain c ON c.revision = e.revision
          WHERE e.revision > $1 ORDER BY e.revision LIMIT $2`,
        values: [after, pageSize],
        rowMode: 'array',
      });
      for (const row of rows) yield row;
      if (rows.length < pageSize) return;
      after = (rows[rows.length - 1] as [...EventRow, string | null])[0];
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.notifier.notify(); // lets followers see `closed` and end
    await this.notifier.close();
    await this.pool.end();
  }

  private async events(text: string, values: unknown[]): Promise<StoredEvent[]> {
    const { rows } = await this.pool.query<EventRow>({ text, values, rowMode: 'array' });
    return rows.map(fromRow);
  }

  private query<R extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>> {
    return this.pool.query<R>(text, values);
  }

  private async activityOn(client: pg.PoolClient, sessionIds: readonly SessionId[]): Promise<Map<SessionId, number>> {
    const { rows } = await client.query<{ session_id: SessionId; last_active: number }>(
      'SELECT session_id, last_active FROM session_activity WHERE session_id = ANY($1)',
      [sessionIds],
    );
    return new Map(rows.map((r) => [r.session_id, r.last_active]));
  }

  /** Runs `fn` in one transaction on one pooled connection; rolls back if it throws. */
  private async inTransaction<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  /** Resolves when the log moves (ours or another node's) or `signal` aborts. */
  private moved(signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        stop();
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const stop = this.notifier.subscribe(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}

/** Rows → one array per column, for INSERT … SELECT * FROM unnest(…). */
function columnsOf(rows: readonly EventRow[]): unknown[][] {
  const columns: unknown[][] = Array.from({ length: 9 }, () => new Array<unknown>(rows.length));
  rows.forEach((row, i) => row.forEach((value, c) => ((columns[c] as unknown[])[i] = value)));
  return columns;
}
