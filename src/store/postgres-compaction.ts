/**
 * Retention on PostgreSQL (the steps are in compaction.ts), in one
 * transaction that holds the log_head row FOR UPDATE: no node appends while
 * the removed sessions are read, archived and deleted. Deleted rows are left
 * to autovacuum; nothing here rewrites the table.
 */
import type { PoolClient } from 'pg';
import type { NewEvent, Revision, SessionId, StoredEvent } from '../domain/index.js';
import {
  compactionEvent,
  endedSessionsSql,
  endedSessionsWithinSql,
  type ArchivedRow,
  type CompactionRequest,
  type CompactionResult,
} from './compaction.js';
import { EVENT_COLUMNS } from './event-codec.js';
import type { Digest } from './hash-chain.js';

/** Appends one commit on a client that holds the head lock; resolves to the stored events. */
export type AppendLocked = (client: PoolClient, head: Digest, events: readonly NewEvent[]) => Promise<StoredEvent[]>;

const ARCHIVE_PAGE = 2_000;
const ENDED_PARAMETERS = { endedBefore: '$1', maxSessions: '$2', maxEvents: '$3::bigint' };

export async function compactPostgres(client: PoolClient, request: CompactionRequest, appendLocked: AppendLocked): Promise<CompactionResult> {
  const head = (await client.query<Digest>('SELECT revision, hash FROM log_head FOR UPDATE')).rows[0] as Digest;
  const { endedBefore, maxSessions, maxEvents } = request;
  const ended = await client.query<{ session_id: SessionId }>(
    maxEvents === undefined
      ? { text: endedSessionsSql(ENDED_PARAMETERS), values: [endedBefore, maxSessions] }
      : { text: endedSessionsWithinSql(ENDED_PARAMETERS), values: [endedBefore, maxSessions, maxEvents] },
  );
  const sessions = ended.rows.map((r) => r.session_id);
  if (sessions.length === 0) return undefined;
  let events = 0;
  let newest = 0;
  // Paged by revision: one page in memory at a time, in revision order.
  for (let after = 0; ; ) {
    const { rows } = await client.query<[...ArchivedRow]>({
      text: `SELECT ${EVENT_COLUMNS.split(', ')
        .map((c) => `e.${c}`)
        .join(', ')}, c.hash FROM events e JOIN event_chain c ON c.revision = e.revision
        WHERE e.session_id = ANY($1) AND e.revision > $2 ORDER BY e.revision LIMIT $3`,
      values: [sessions, after, ARCHIVE_PAGE],
      rowMode: 'array',
    });
    if (rows.length > 0) request.archive.write(rows);
    events += rows.length;
    const last = rows[rows.length - 1];
    if (last) newest = after = last[0];
    if (rows.length < ARCHIVE_PAGE) break;
  }
  const archiveSha256 = request.archive.finish();
  const before = (await client.query<{ horizon: number }>('SELECT coalesce(max(revision), 0) AS horizon FROM removed_revisions')).rows[0];
  const horizon = Math.max(newest, before?.horizon ?? 0) as Revision;
  const [stored] = await appendLocked(client, head, [compactionEvent(request, { sessions, events, horizon, archiveSha256 })]);
  const compaction = (stored as StoredEvent).revision;
  await client.query('INSERT INTO removed_sessions (session_id, compaction) SELECT unnest($1::text[]), $2', [sessions, compaction]);
  await client.query('INSERT INTO removed_revisions (revision, compaction) SELECT revision, $2 FROM events WHERE session_id = ANY($1)', [
    sessions,
    compaction,
  ]);
  await client.query('DELETE FROM events WHERE session_id = ANY($1)', [sessions]);
  await client.query('DELETE FROM session_activity WHERE session_id = ANY($1)', [sessions]);
  // Older snapshots hold removed sessions; they are a cache, and the next one is written without them
  // (over no basis: every session). The removed sessions' rows go; the others' stay for past reads.
  await client.query('DELETE FROM snapshot_states WHERE session_id = ANY($1)', [sessions]);
  await client.query('DELETE FROM snapshots WHERE revision < $1', [compaction]);
  return stored as CompactionResult;
}
