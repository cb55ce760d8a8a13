/**
 * The audit CLI's queries on PostgreSQL, run on one connection inside the
 * REPEATABLE READ transaction the source opens (postgres-audit-source.ts),
 * so every query sees the same log while nodes append. Streams page by
 * revision (`revision > last ORDER BY revision LIMIT n`): one page in memory,
 * no cursor to keep open, and the snapshot keeps the pages consistent.
 */
import type { ClientBase } from 'pg';
import type { SessionId, StoredEvent } from '../domain/index.js';
import {
  AUDIT_PAGE_ROWS,
  type AuditView,
  type ChainedRow,
  type EventFilter,
  type Registration,
  type RemovedRun,
  type SnapshotInfo,
  type SnapshotRows,
} from './audit-source.js';
import { REMOVED_RUNS } from './compaction.js';
import { EVENT_COLUMNS, fromRow, type EventRow } from './event-codec.js';
import { GENESIS_HASH, type Digest } from './hash-chain.js';
import { rowsIntact } from './snapshot-rows.js';

/**
 * The name a registration gave its variable (the payload is JSON text).
 * Indexed for registrations exactly as written here
 * (migrations/postgres/0006_registrations_by_name.sql): change both or neither.
 */
const NAME = "(payload::jsonb ->> 'name')";
const CHAINED_COLUMNS = `${EVENT_COLUMNS.split(', ')
  .map((c) => `e.${c}`)
  .join(', ')}, c.hash`;

/** A WHERE clause and its $n parameters for a filter. */
function where(filter: EventFilter): { condition: string; values: unknown[] } {
  const clauses: string[] = [];
  const values: unknown[] = [];
  const param = (value: unknown) => {
    values.push(value);
    return `$${values.length}`;
  };
  if (filter.sessionId !== undefined) clauses.push(`session_id = ${param(filter.sessionId)}`);
  if (filter.variable !== undefined) {
    const v = param(filter.variable);
    // One IN over the id itself and the ids registered under that name, not `variable_id = $v OR variable_id IN (…)`:
    // the OR made the planner filter every row of the log in revision order; this way it may join the name
    // index's few variables to events_by_variable (or, far into the log, scan the revisions left; its choice).
    clauses.push(`variable_id IN (SELECT ${v}::text UNION ALL SELECT variable_id FROM events WHERE kind = 'variable_registered' AND ${NAME} = ${v})`);
  }
  if (filter.actor !== undefined) clauses.push(`actor = ${param(filter.actor)}`);
  if (filter.since !== undefined) clauses.push(`time >= ${param(filter.since)}`);
  if (filter.until !== undefined) clauses.push(`time <= ${param(filter.until)}`);
  if (filter.afterRevision !== undefined) clauses.push(`revision > ${param(filter.afterRevision)}`);
  if (filter.beforeRevision !== undefined && Number.isFinite(filter.beforeRevision)) clauses.push(`revision < ${param(filter.beforeRevision)}`);
  if (filter.kinds && filter.kinds.length > 0) clauses.push(`kind = ANY(${param([...filter.kinds])}::text[])`);
  return { condition: clauses.length > 0 ? `WHERE ${clauses.join(' AND ')}` : '', values };
}

export class PostgresAuditView implements AuditView {
  constructor(
    private readonly client: ClientBase,
    private readonly pageRows = AUDIT_PAGE_ROWS,
  ) {}

  async head(): Promise<number> {
    return (await this.value<number>('SELECT coalesce(max(revision), 0) FROM events')) ?? 0;
  }

  async chainHead(): Promise<Digest> {
    // The newest chain row, or the head row if it claims more (rows deleted at the end).
    const chain = await this.rows<[number, string]>('SELECT revision, hash FROM event_chain ORDER BY revision DESC LIMIT 1');
    const head = await this.rows<[number, string]>('SELECT revision, hash FROM log_head');
    const newest = [...chain, ...head].sort((a, b) => b[0] - a[0])[0];
    return newest && newest[0] > 0 ? { revision: newest[0], hash: newest[1] } : { revision: 0, hash: GENESIS_HASH };
  }

  events(filter: EventFilter): AsyncIterable<readonly EventRow[]> {
    return this.paged<EventRow>((after) => {
      const { condition, values } = where({ ...filter, afterRevision: Math.max(after, filter.afterRevision ?? 0) });
      return { text: `SELECT ${EVENT_COLUMNS} FROM events ${condition} ORDER BY revision LIMIT ${this.pageRows}`, values };
    });
  }

  async nthNewestRevision(filter: EventFilter, n: number): Promise<number | undefined> {
    const { condition, values } = where(filter);
    return this.value<number>(`SELECT revision FROM events ${condition} ORDER BY revision DESC LIMIT 1 OFFSET ${Math.max(0, n - 1)}`, values);
  }

  variableEventsBetween(variableId: string, afterRevision: number, beforeRevision: number): AsyncIterable<readonly EventRow[]> {
    return this.paged<EventRow>((after) => ({
      text: `SELECT ${EVENT_COLUMNS} FROM events WHERE variable_id = $1 AND revision > $2 AND revision < $3 ORDER BY revision LIMIT ${this.pageRows}`,
      values: [variableId, Math.max(after, afterRevision), beforeRevision],
    }));
  }

  async variableNames(variableIds: readonly string[]): Promise<Map<string, string>> {
    // A registration is a variable's version-0 event: the (variable_id, version) index finds them.
    const rows = await this.rows<[string, string]>(
      `SELECT DISTINCT ON (variable_id) variable_id, ${NAME} FROM events
       WHERE variable_id = ANY($1::text[]) AND version = 0 AND kind = 'variable_registered' ORDER BY variable_id, revision`,
      [[...variableIds]],
    );
    return new Map(rows);
  }

  async findVariable(sessionId: string, identifier: string): Promise<Registration[]> {
    const rows = await this.rows<[string, string, number]>(
      `SELECT variable_id, ${NAME}, revision FROM events
       WHERE session_id = $1 AND kind = 'variable_registered' AND (variable_id = $2 OR ${NAME} = $2)
       ORDER BY revision DESC`,
      [sessionId, identifier],
    );
    return rows.map(([variableId, name, revision]) => ({ variableId, name, revision }));
  }

  eventsOfVariable(sessionId: string, variableId: string): Promise<EventRow[]> {
    return this.rows<EventRow>(`SELECT ${EVENT_COLUMNS} FROM events WHERE variable_id = $1 AND session_id = $2 ORDER BY revision DESC`, [
      variableId,
      sessionId,
    ]);
  }

  async lastRevisionAt(time: number): Promise<number> {
    return (await this.value<number>('SELECT coalesce(max(revision), 0) FROM events WHERE time <= $1', [time])) ?? 0;
  }

  async readSession(sessionId: SessionId, upTo: number): Promise<StoredEvent[]> {
    const rows = await this.rows<EventRow>(`SELECT ${EVENT_COLUMNS} FROM events WHERE session_id = $1 AND revision <= $2 ORDER BY revision`, [
      sessionId,
      upTo,
    ]);
    return rows.map(fromRow);
  }

  chainedRows(): AsyncIterable<readonly ChainedRow[]> {
    return this.paged<ChainedRow>((after) => ({
      text: `SELECT ${CHAINED_COLUMNS} FROM events e LEFT JOIN event_chain c ON c.revision = e.revision
             WHERE e.revision > $1 ORDER BY e.revision LIMIT ${this.pageRows}`,
      values: [after],
    }));
  }

  removedRuns(): AsyncIterable<readonly RemovedRun[]> {
    // One row per run, read at once when iterated.
    const read = () => this.rows<[number, number, string | null]>(REMOVED_RUNS);
    return (async function* () {
      const runs = (await read()).map(([from, to, hash]) => ({ from, to, hash }));
      if (runs.length > 0) yield runs;
    })();
  }

  async chainHashes(revisions: readonly number[]): Promise<Map<number, string>> {
    return new Map(await this.rows<[number, string]>('SELECT revision, hash FROM event_chain WHERE revision = ANY($1::bigint[])', [[...revisions]]));
  }

  async removedBy(revisions: readonly number[]): Promise<Map<number, number>> {
    return new Map(
      await this.rows<[number, number]>('SELECT revision, compaction FROM removed_revisions WHERE revision = ANY($1::bigint[])', [[...revisions]]),
    );
  }

  async snapshots(atOrBelow = Number.MAX_SAFE_INTEGER): Promise<SnapshotInfo[]> {
    const rows = await this.rows<[number, number, number, string]>(
      'SELECT revision, created_at, session_count, checksum FROM snapshots WHERE revision <= $1 ORDER BY revision DESC',
      [atOrBelow],
    );
    return rows.map(([revision, createdAt, sessionCount, checksum]) => ({ revision, createdAt, sessionCount, checksum }));
  }

  async snapshotRows(info: SnapshotInfo): Promise<SnapshotRows> {
    // Each session's newest row at or below the snapshot (rows are per session, see snapshot-rows.ts); byte order, as SQLite sorts.
    const rows = await this.rows<[string, number | string, string, string]>(
      `SELECT session_id, revision, state, checksum FROM (
         SELECT DISTINCT ON (session_id) session_id, revision, state, checksum FROM snapshot_states
         WHERE revision <= $1 ORDER BY session_id, revision DESC) newest
       ORDER BY session_id COLLATE "C"`,
      [info.revision],
    );
    const stored = rows.map(([sessionId, revision, state, checksum]) => ({ sessionId, revision: Number(revision), state, checksum }));
    return { rows: stored.map((r) => [r.sessionId, r.state] as const), intact: rowsIntact(info, stored) };
  }

  /** Pages of a query ordered by revision (the first column), each after the last revision of the one before. */
  private async *paged<R extends readonly unknown[]>(query: (after: number) => { text: string; values: unknown[] }): AsyncGenerator<R[]> {
    let after = 0;
    for (;;) {
      const { text, values } = query(after);
      const page = await this.rows<R>(text, values);
      if (page.length > 0) yield page;
      if (page.length < this.pageRows) return;
      after = (page[page.length - 1] as R)[0] as number;
    }
  }

  private async rows<R extends readonly unknown[]>(text: string, values: unknown[] = []): Promise<R[]> {
    const result = await this.client.query<R & unknown[]>({ text, values, rowMode: 'array' });
    return result.rows as unknown as R[];
  }

  private async value<T>(text: string, values: unknown[] = []): Promise<T | undefined> {
    const rows = await this.rows<[T]>(text, values);
    return rows[0]?.[0];
  }
}
