/**
 * Retention on SQLite, through a real server: ended sessions move into an
 * archive, live ones are untouched, the disk space comes back, the chain
 * still links over the gap, and whatever needs removed events (reads at a
 * compacted revision, a removed session, a watch resuming below the horizon)
 * answers OUT_OF_RANGE naming the oldest revision still available.
 */
import { status } from '@grpc/grpc-js';
import test, { type ExecutionContext } from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import type { Revision, SessionId, StoredEvent } from '../../src/domain/index.js';
import { VariableType } from '../../src/gen/varledger/v1/ledger.js';
import { OLDEST_REVISION_TRAILER } from '../../src/server/status-table.js';
import { ArchiveFile } from '../../src/store/archive-file.js';
import type { EventRow } from '../../src/store/event-codec.js';
import { fromExported } from '../../src/store/export-format.js';
import { chainHash, GENESIS_HASH } from '../../src/store/hash-chain.js';
import { expectStatus, floatValue, stringValue } from '../helpers/grpc-expect.js';
import { startLedger, tempDir, type TestLedger, type TestServerOptions } from '../helpers/harness.js';
import { openWatch, setOp } from '../helpers/watch-helpers.js';
import { connect, OutOfRangeError, type WatchResync } from '../../src/client/index.js';
import { take } from '../client/client-fixture.js';
import { startBridge } from '../compat/bridge/bridge-client.js';

const DAY = 86_400_000;
const FLOAT = VariableType.VARIABLE_TYPE_FLOAT;
const STRING = VariableType.VARIABLE_TYPE_STRING;
/** Big enough values that removing them frees many pages. */
const NOTE = 'x'.repeat(4_000);

async function ledgerFor(t: ExecutionContext, options: TestServerOptions = {}): Promise<TestLedger> {
  const ledger = await startLedger(options);
  t.teardown(() => ledger.stop());
  return ledger;
}

/** A session with a big string variable set `sets` times. */
async function noisySession(ledger: TestLedger, sessionId: string, sets: number, ttlSeconds = 3600): Promise<void> {
  const { rpc } = ledger;
  await rpc.call('createSession', { sessionId, ttlSeconds });
  await rpc.call('registerVariable', { sessionId, name: 'notes', type: STRING, initialValue: stringValue(NOTE) });
  const operations = Array.from({ length: sets }, (_, i) => setOp('notes', stringValue(`${i}${NOTE}`)));
  await rpc.call('commit', { sessionId, operations, atomic: true });
}

/**
 * `live` (a year's TTL) spans the whole log; `old-closed` is closed and
 * `old-expired` expires, then 31 days pass; `recent` closes just now.
 */
async function mixedLog(ledger: TestLedger, options: { snapshotWhileLive?: boolean } = {}): Promise<void> {
  const { rpc, clock, server } = ledger;
  await rpc.call('createSession', { sessionId: 'live', ttlSeconds: 365 * 86_400 });
  await rpc.call('registerVariable', { sessionId: 'live', name: 'temperature', type: FLOAT, initialValue: floatValue(0.5) });
  await noisySession(ledger, 'old-closed', 40);
  // A snapshot then holds old-closed's row, which the next one supersedes with its ended row (else it has none).
  if (options.snapshotWhileLive) await server.service.snapshot();
  await rpc.call('closeSession', { sessionId: 'old-closed' });
  await noisySession(ledger, 'old-expired', 40, 60);
  clock.advance(120_000);
  t_assert(await server.service.expireIdleSessions(), 1);
  clock.advance(31 * DAY);
  await rpc.call('setVariable', { sessionId: 'live', identifier: 'temperature', value: floatValue(0.7) });
  await noisySession(ledger, 'recent', 2);
  await rpc.call('closeSession', { sessionId: 'recent' });
}

function t_assert(actual: number, expected: number): void {
  if (actual !== expected) throw new Error(`fixture: expected ${expected}, got ${actual}`);
}

/** Every event row and every chain row of the file. */
function logOf(ledger: TestLedger) {
  const db = ledger.server.file!.db;
  const rows = db.prepare('SELECT revision, commit_id, session_id, variable_id, kind, version, time, actor, payload FROM events ORDER BY revision').raw().all() as EventRow[];
  const chain = new Map((db.prepare('SELECT revision, hash FROM event_chain').raw().all() as [number, string][]).map(([r, h]) => [r, h]));
  return { rows, chain, pages: db.pragma('page_count', { simple: true }) as number };
}

async function compact(ledger: TestLedger, archive: string, days = 30) {
  return ledger.server.service.compact({ endedBefore: ledger.clock.now() - days * DAY, archive: new ArchiveFile(archive) });
}

test('compaction archives the ended sessions, keeps the live ones, links the chain over the gap and gives the disk space back', async (t) => {
  const ledger = await ledgerFor(t);
  await mixedLog(ledger);
  const before = logOf(ledger);
  const archive = join(tempDir().dir, 'archive.jsonl');

  const result = await compact(ledger, archive);
  t.truthy(result);
  t.deepEqual([...(result?.sessions ?? [])].sort(), ['old-closed', 'old-expired']);

  // The archive holds exactly the removed sessions' events, in the export format, each re-hashing to its kept chain row.
  const archived = readFileSync(archive, 'utf8').trim().split('\n').map(fromExported);
  const removed = before.rows.filter((r) => r[2] === 'old-closed' || r[2] === 'old-expired');
  t.deepEqual(
    archived.map((a) => a.row),
    removed,
  );
  t.is(result?.events, removed.length);
  const after = logOf(ledger);
  for (const { row, hash } of archived) {
    t.is(after.chain.get(row[0]), hash);
    t.is(chainHash(after.chain.get(row[0] - 1) ?? GENESIS_HASH, row), hash);
  }

  // The live log: everything else, plus the log_compacted event; every remaining event links to the chain row before it.
  const kept = before.rows.filter((r) => r[2] !== 'old-closed' && r[2] !== 'old-expired');
  t.deepEqual(after.rows.slice(0, -1), kept);
  const compaction = after.rows[after.rows.length - 1] as EventRow;
  t.is(compaction[4], 'log_compacted');
  t.is(compaction[2], '');
  for (const row of after.rows) t.is(after.chain.get(row[0]), chainHash(after.chain.get(row[0] - 1) ?? GENESIS_HASH, row));
  t.is(after.chain.size, compaction[0]);

  t.true(after.pages < before.pages * 0.5, `pages ${before.pages} → ${after.pages}`);

  // Live sessions are untouched; the recently ended one stays too.
  t.is((await ledger.rpc.call('getVariable', { sessionId: 'live', identifier: 'temperature' })).value?.kind?.$case, 'floatValue');
  t.is((await ledger.rpc.call('getSession', { sessionId: 'recent' })).sessionId, 'recent');
  const listed = (await ledger.rpc.call('listSessions', { pageSize: 100 })).sessions.map((s) => s.sessionId);
  t.deepEqual(listed, ['live', 'recent']);

  // Nothing left to do: no event, no archive.
  t.is(await compact(ledger, join(tempDir().dir, 'none.jsonl')), undefined);
});

test('the log refuses DELETE and UPDATE outside a compaction, and a removed id cannot be reused', async (t) => {
  const ledger = await ledgerFor(t);
  await mixedLog(ledger);
  await compact(ledger, join(tempDir().dir, 'a.jsonl'));
  const db = ledger.server.file!.db;
  const refused = (sql: string) => t.throws(() => db.prepare(sql).run(), { any: true, message: /append-only/ }, sql);
  refused("DELETE FROM events WHERE session_id = 'live'");
  refused("UPDATE events SET actor = 'mallory' WHERE session_id = 'live'");
  refused('DELETE FROM removed_revisions');
  refused('DELETE FROM event_chain');
  await expectStatus(t, ledger.rpc.call('createSession', { sessionId: 'old-closed' }), status.ALREADY_EXISTS, /archive/);
});

test('below the horizon: reads at a compacted revision, removed sessions, their history and watch resumes are OUT_OF_RANGE naming the oldest revision', async (t) => {
  const ledger = await ledgerFor(t);
  await mixedLog(ledger);
  const result = await compact(ledger, join(tempDir().dir, 'a.jsonl'));
  const horizon = Number(result?.horizon);
  const oldest = horizon + 1;
  const named = new RegExp(`oldest revision available is ${oldest}\\b`);
  const { rpc } = ledger;
  t.is(Number(ledger.server.service.oldestRevision), oldest);

  const error = await expectStatus(t, rpc.call('getVariable', { sessionId: 'live', identifier: 'temperature', atRevision: 2n }), status.OUT_OF_RANGE, named);
  t.is(String(error.metadata.get(OLDEST_REVISION_TRAILER)[0]), String(oldest));
  await expectStatus(t, rpc.call('listVariables', { sessionId: 'live', atRevision: BigInt(horizon) }), status.OUT_OF_RANGE, named);
  // At the oldest revision, the live session reads as it was.
  t.is((await rpc.call('listVariables', { sessionId: 'live', atRevision: BigInt(oldest) })).variables.length, 1);

  await expectStatus(t, rpc.call('getSession', { sessionId: 'old-closed' }), status.OUT_OF_RANGE, named);
  await expectStatus(t, rpc.call('getHistory', { sessionId: 'old-expired', identifier: 'notes' }), status.OUT_OF_RANGE, named);
  await expectStatus(t, rpc.call('getVariable', { sessionId: 'old-closed', identifier: 'notes', atRevision: BigInt(oldest) }), status.OUT_OF_RANGE, named);
  await expectStatus(t, rpc.call('setVariable', { sessionId: 'old-closed', identifier: 'notes', value: stringValue('x') }), status.OUT_OF_RANGE, named);
  // A session that never existed is still NOT_FOUND.
  await expectStatus(t, rpc.call('getSession', { sessionId: 'never' }), status.NOT_FOUND);

  const below = openWatch(t, ledger, { sessionId: 'live', startRevision: 1n });
  const failure = await below.done;
  t.is(failure?.code, status.OUT_OF_RANGE);
  t.regex(failure?.details ?? '', named);
  t.is(String(failure?.metadata.get(OLDEST_REVISION_TRAILER)[0]), String(oldest));
  await t.throwsAsync(openWatch(t, ledger, { sessionId: 'old-closed', startRevision: BigInt(oldest) }).next(), { message: named });

  // Resuming at the oldest revision works: the live session's later change comes through.
  const resumed = openWatch(t, ledger, { sessionId: 'live', startRevision: BigInt(oldest) });
  const first = await resumed.next();
  t.is(first.events[0]?.variable?.name, 'temperature');
});

test('a restart after compaction does not resurrect removed sessions, even from a snapshot taken before it', async (t) => {
  const { dir, remove } = tempDir();
  t.teardown(remove);
  const dataPath = join(dir, 'ledger.db');
  const first = await startLedger({ dataPath });
  await mixedLog(first, { snapshotWhileLive: true });
  // A snapshot that still holds the removed sessions, as another process may write one late.
  await first.server.service.snapshot();
  const stale = await first.server.store.snapshots.loadLatest();
  const result = await compact(first, join(dir, 'a.jsonl'));
  // Refused as late (the compaction wrote a newer one); were it written, the fold of log_compacted after it would still drop them.
  t.is(first.server.file!.snapshots.write({ revision: stale!.revision, basis: 0 as Revision, changed: stale!.sessions.values(), now: first.clock.now() }), 'skipped');
  t.true(stale!.sessions.has('old-closed'));
  const clock = first.clock;
  await first.stop({ remove: false });

  const second = await startLedger({ dataPath, clock });
  t.teardown(() => second.stop({ remove: false }));
  t.deepEqual(
    (await second.rpc.call('listSessions', { pageSize: 100 })).sessions.map((s) => s.sessionId),
    ['live', 'recent'],
  );
  await expectStatus(t, second.rpc.call('getSession', { sessionId: 'old-closed' }), status.OUT_OF_RANGE);
  await expectStatus(t, second.rpc.call('getVariable', { sessionId: 'live', identifier: 'temperature', atRevision: 2n }), status.OUT_OF_RANGE);
  t.is(Number(second.server.service.oldestRevision), Number(result?.horizon) + 1);
  const temperature = await second.rpc.call('getVariable', { sessionId: 'live', identifier: 'temperature' });
  t.deepEqual(temperature.value?.kind, { $case: 'floatValue', floatValue: 0.7 });
});

test('serve --retain-ended archives sessions once they ended longer ago than the period, by the server clock', async (t) => {
  const { dir, remove } = tempDir();
  t.teardown(remove);
  const archiveDir = join(dir, 'archive');
  const ledger = await ledgerFor(t, { retention: { retainEndedMs: 30 * DAY, archiveDir, intervalMs: 5 } });
  const compacted = new Promise<StoredEvent>((resolve) =>
    ledger.server.service.onCommit(({ events }) => {
      for (const e of events) if (e.kind === 'log_compacted') resolve(e);
    }),
  );
  await noisySession(ledger, 'old', 1);
  await ledger.rpc.call('closeSession', { sessionId: 'old' });
  const closedAt = ledger.clock.now();
  await ledger.rpc.call('createSession', { sessionId: 'live', ttlSeconds: 365 * 86_400 });
  ledger.clock.advance(30 * DAY + 1);

  const event = await compacted;
  t.is(event.kind, 'log_compacted');
  if (event.kind !== 'log_compacted') return;
  t.deepEqual(event.sessions, ['old' as SessionId]);
  t.is(event.endedBefore, closedAt + 1);
  t.is(event.time, ledger.clock.now());
  const files = readdirSync(archiveDir);
  t.is(files.length, 1);
  t.is(readFileSync(join(archiveDir, files[0] as string), 'utf8').trim().split('\n').length, event.events);
  await expectStatus(t, ledger.rpc.call('getSession', { sessionId: 'old' }), status.OUT_OF_RANGE);
  t.is((await ledger.rpc.call('getSession', { sessionId: 'live' })).sessionId, 'live');
});

test('the client watch resuming below the horizon re-reads the current state, says so, and goes on from there', async (t) => {
  const ledger = await ledgerFor(t);
  await mixedLog(ledger);
  const result = await compact(ledger, join(tempDir().dir, 'a.jsonl'));
  const client = await connect(ledger.address, { actor: 'watcher' });
  t.teardown(() => client.close());
  const resyncs: WatchResync[] = [];
  const batches = client.session('live').watchBatches(['temperature'], { startRevision: 1, onResync: (r) => resyncs.push(r) });

  const [resynced] = await take(batches, 1);
  const oldest = Number(result?.horizon) + 1;
  t.deepEqual(resynced?.resync, { requestedRevision: 1, oldestRevision: oldest });
  t.deepEqual(resyncs, [{ requestedRevision: 1, oldestRevision: oldest }]);
  t.true(resynced?.initial);
  t.deepEqual(
    resynced?.events.map((e) => [e.kind, e.name, e.variable?.value]),
    [['initial', 'temperature', 0.7]],
  );

  await ledger.rpc.call('setVariable', { sessionId: 'live', identifier: 'temperature', value: floatValue(0.9) });
  const [next] = await take(batches, 1);
  t.is(next?.resync, undefined);
  t.deepEqual(
    next?.events.map((e) => [e.kind, e.variable?.value, e.previousValue]),
    [['set', 0.9, 0.7]],
  );
  await batches.return();

  // Not a compaction: a watch of a removed session fails with the typed error instead of looping.
  const error = await t.throwsAsync(take(client.session('old-closed').watch(undefined, { startRevision: oldest, onResync: (r) => resyncs.push(r) }), 1));
  t.true(error instanceof OutOfRangeError && error.compacted && error.oldestRevision === oldest);
  t.is(resyncs.length, 1, 'no resync was reported for it');
});

test('a file from before auto_vacuum is converted by its first compaction (one VACUUM) and still shrinks', async (t) => {
  const { dir, remove } = tempDir();
  t.teardown(remove);
  const dataPath = join(dir, 'old.db');
  const old = new Database(dataPath);
  old.exec('CREATE TABLE older_tool_table (x INTEGER)'); // a table fixes auto_vacuum at NONE, as in files made before it was set
  old.close();
  const ledger = await ledgerFor(t, { dataPath });
  t.is(ledger.server.file!.db.pragma('auto_vacuum', { simple: true }), 0);
  await mixedLog(ledger);
  const before = logOf(ledger).pages;
  await compact(ledger, join(dir, 'a.jsonl'));
  t.is(ledger.server.file!.db.pragma('auto_vacuum', { simple: true }), 2);
  t.true(logOf(ledger).pages < before * 0.5);
});

test('the Snakepit bridge maps a removed session to OUT_OF_RANGE too', async (t) => {
  const s = await startBridge();
  t.teardown(() => s.stop());
  await mixedLog(s);
  await compact(s, join(tempDir().dir, 'a.jsonl'));
  await expectStatus(t, s.bridge.call('getVariable', { sessionId: 'old-closed', variableIdentifier: 'notes' }), status.OUT_OF_RANGE, /oldest revision available/);
  await expectStatus(t, s.bridge.call('getSession', { sessionId: 'old-expired' }), status.OUT_OF_RANGE, /oldest revision available/);
});

test('maxEvents bounds a compaction by the events it moves: the oldest-ended sessions that fit, and the oldest alone when it is bigger', async (t) => {
  const ledger = await ledgerFor(t);
  // Ended in this order: small (3 events + close), big (42 + close), last (3 + close).
  await noisySession(ledger, 'small', 1);
  await ledger.rpc.call('closeSession', { sessionId: 'small' });
  await noisySession(ledger, 'big', 40);
  await ledger.rpc.call('closeSession', { sessionId: 'big' });
  await noisySession(ledger, 'last', 1);
  await ledger.rpc.call('closeSession', { sessionId: 'last' });
  ledger.clock.advance(31 * DAY);
  const endedBefore = ledger.clock.now() - 30 * DAY;
  const step = (maxEvents: number, maxSessions = 100) =>
    ledger.server.service.compact({ endedBefore, maxEvents, maxSessions, archive: new ArchiveFile(join(tempDir().dir, 'a.jsonl')) });

  const first = await step(10);
  t.deepEqual(first?.sessions, ['small']);
  t.is(first?.events, 4);
  const second = await step(10);
  t.deepEqual(second?.sessions, ['big']);
  t.is(second?.events, 43);
  t.deepEqual((await step(4))?.sessions, ['last'], 'a session of exactly maxEvents fits');
  t.is(await step(10), undefined);
});
