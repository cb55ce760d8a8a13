/**
 * Retention on PostgreSQL: the same compaction as on SQLite, through the
 * service on a real server — ended sessions archived and deleted, live ones
 * untouched, the chain kept whole, the triggers refusing any other DELETE or
 * UPDATE, and a service opened afterwards (another node, a restart) seeing
 * the horizon and the removed sessions.
 */
import test, { type ExecutionContext } from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { DomainError, type SessionId } from '../../src/domain/index.js';
import { LedgerService } from '../../src/service/ledger-service.js';
import { ArchiveFile } from '../../src/store/archive-file.js';
import type { EventRow } from '../../src/store/event-codec.js';
import { fromExported } from '../../src/store/export-format.js';
import { chainHash, GENESIS_HASH } from '../../src/store/hash-chain.js';
import { PostgresEventStore } from '../../src/store/postgres-event-store.js';
import { cli } from '../cli/fixture.js';
import { ManualClock, tempDir } from '../helpers/harness.js';
import { freshDatabase, usePostgres } from '../helpers/postgres-fixture.js';

usePostgres(test);

const DAY = 86_400_000;
const sid = (s: string) => s as SessionId;

async function service(t: ExecutionContext, url: string, clock: ManualClock): Promise<LedgerService> {
  const store = await PostgresEventStore.open(url, { pollMs: 200 });
  let n = 0;
  const ledger = await LedgerService.open({ store, clock, newIdSuffix: () => String(++n), newSessionId: () => `s${++n}`, snapshotEvery: 0 });
  t.teardown(() => ledger.close());
  return ledger;
}

async function sql<R extends pg.QueryResultRow>(url: string, text: string, values: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end();
  }
}

test('compaction on PostgreSQL archives ended sessions, keeps live ones and the whole chain, and the log refuses other deletes', async (t) => {
  const url = await freshDatabase();
  const clock = new ManualClock();
  const ledger = await service(t, url, clock);
  await ledger.createSession({ sessionId: sid('live'), metadata: {}, ttlSeconds: 365 * 86_400 }, 'alice');
  await ledger.register({ sessionId: sid('live'), name: 'x', type: 'float', value: { kind: 'float', value: 1 }, constraints: {}, metadata: {}, description: '' }, 'alice');
  for (const id of ['old-1', 'old-2']) {
    await ledger.createSession({ sessionId: sid(id), metadata: {}, ttlSeconds: 60 }, 'bob');
    await ledger.register({ sessionId: sid(id), name: 'y', type: 'string', value: { kind: 'string', value: id }, constraints: {}, metadata: {}, description: '' }, 'bob');
    await ledger.closeSession(sid(id), 'bob');
  }
  clock.advance(31 * DAY);
  await ledger.snapshot();
  const archive = join(tempDir().dir, 'archive.jsonl');

  const result = await ledger.compact({ endedBefore: clock.now() - 30 * DAY, archive: new ArchiveFile(archive) });
  t.deepEqual([...(result?.sessions ?? [])].sort(), ['old-1', 'old-2']);

  const rows = await sql<{ r: EventRow }>(url, `SELECT json_build_array(revision, commit_id, session_id, variable_id, kind, version, time, actor, payload) AS r FROM events ORDER BY revision`);
  const chain = new Map((await sql<{ revision: string; hash: string }>(url, 'SELECT revision, hash FROM event_chain')).map((r) => [Number(r.revision), r.hash]));
  t.deepEqual(
    rows.map(({ r }) => r[2]),
    ['live', 'live', ''],
  );
  t.is(chain.size, Number(result?.revision));
  for (const { r } of rows) t.is(chain.get(r[0]), chainHash(chain.get(r[0] - 1) ?? GENESIS_HASH, r));
  const archived = readFileSync(archive, 'utf8').trim().split('\n').map(fromExported);
  t.is(archived.length, 6);
  for (const { row, hash } of archived) {
    t.is(chain.get(row[0]), hash);
    t.is(chainHash(chain.get(row[0] - 1) ?? GENESIS_HASH, row), hash);
  }
  t.is((await sql(url, 'SELECT 1 FROM snapshots WHERE revision < $1', [result?.revision])).length, 0);

  await t.throwsAsync(sql(url, "DELETE FROM events WHERE session_id = 'live'"), { message: /append-only/ });
  await t.throwsAsync(sql(url, "UPDATE events SET actor = 'mallory'"), { message: /append-only/ });
  await t.throwsAsync(sql(url, 'DELETE FROM removed_revisions'), { message: /append-only/ });

  // verify on PostgreSQL: the live chain links over the removed revisions, and the archive re-hashes to it.
  const verified = await cli(['verify', '--store', url, '--archive', archive]);
  t.is(verified.code, 0, verified.stdout + verified.stderr);
  t.regex(verified.stdout, /^OK: 3 events \(6 removed by retention\), 1 snapshot match the log, head 9:[0-9a-f]{64}\nOK: archive .*: 6 events of 2 sessions removed by the compaction at revision 9 re-hash/);

  // Another node (or a restart) opens the log after the compaction: the horizon and the removed sessions hold there too.
  const other = await service(t, url, clock);
  t.is(Number(other.oldestRevision), Number(result?.horizon) + 1);
  await t.throwsAsync(other.getSession(sid('old-1')), { instanceOf: DomainError, message: /archive.*oldest revision available is/ });
  await t.throwsAsync(other.getVariable(sid('live'), 'x', 2 as never), { message: /has been compacted/ });
  t.is((await other.getVariable(sid('live'), 'x', 0 as never)).name, 'x');
});

test('maxEvents on PostgreSQL: the oldest-ended sessions that fit in the events, the oldest alone when it is bigger', async (t) => {
  const url = await freshDatabase();
  const clock = new ManualClock();
  const ledger = await service(t, url, clock);
  // 3 events each (created, registered, closed); 'big' has 5 more sets.
  for (const id of ['a', 'big', 'b', 'c']) {
    await ledger.createSession({ sessionId: sid(id), metadata: {}, ttlSeconds: 60 }, 'bob');
    await ledger.register({ sessionId: sid(id), name: 'y', type: 'float', value: { kind: 'float', value: 0 }, constraints: {}, metadata: {}, description: '' }, 'bob');
    if (id === 'big') for (let i = 1; i <= 5; i++) await ledger.set({ sessionId: sid(id), identifier: 'y', value: { kind: 'float', value: i }, metadata: {} }, 'bob');
    await ledger.closeSession(sid(id), 'bob');
  }
  clock.advance(31 * DAY);
  const dir = tempDir().dir;
  let n = 0;
  const step = (maxEvents: number) =>
    ledger.compact({ endedBefore: clock.now() - 30 * DAY, maxEvents, maxSessions: 100, archive: new ArchiveFile(join(dir, `${++n}.jsonl`)) });
  t.deepEqual((await step(6))?.sessions, ['a']);
  t.deepEqual((await step(6))?.sessions, ['big']);
  t.deepEqual((await step(6))?.sessions, ['b', 'c']);
  t.is(await step(6), undefined);
  const verified = await cli(['verify', '--store', url, '--archive', join(dir, '2.jsonl')]);
  t.is(verified.code, 0, verified.stdout + verified.stderr);
  t.regex(verified.stdout, /OK: archive .*: 8 events of 1 session removed/);
});
