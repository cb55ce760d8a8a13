/**
 * Snapshots per session: a snapshot writes only the sessions that changed
 * since the one before (an ended session once, compact, and never again),
 * holds the others' newest rows, and prunes what no kept snapshot holds.
 */
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { parseSessionId, type SessionId } from '../../src/domain/index.js';
import { LedgerService } from '../../src/service/ledger-service.js';
import { encodeSession } from '../../src/store/snapshot-codec.js';
import { SqliteLog } from '../../src/store/sqlite-log.js';
import type { SqliteEventStore } from '../../src/store/sqlite-event-store.js';
import { openStore, tempDir } from './temp-store.js';

const ACTOR = 'tester';

async function openService(file: SqliteEventStore, snapshotKeep = 0) {
  let n = 0;
  return LedgerService.open({
    store: new SqliteLog(file, { pollMs: 0 }),
    clock: { now: () => 1_000 },
    newIdSuffix: () => String(++n),
    newSessionId: () => `gen${++n}`,
    snapshotEvery: 0,
    snapshotKeep,
  });
}

/**
 * `count` sessions with one variable each, snapshotted while live (so each
 * has an active row for an ended one to supersede); then the first `closed`
 * of them closed.
 */
async function sessions(service: LedgerService, count: number, closed: number): Promise<SessionId[]> {
  const ids: SessionId[] = [];
  for (let i = 0; i < count; i++) {
    const sessionId = parseSessionId(`s${String(i).padStart(3, '0')}`);
    ids.push(sessionId);
    await service.createSession({ sessionId, metadata: {}, ttlSeconds: 0 }, ACTOR);
    await service.register({ sessionId, name: 'x', type: 'float', value: { kind: 'float', value: i }, constraints: {}, metadata: {}, description: '' }, ACTOR);
  }
  await service.snapshot();
  for (const sessionId of ids.slice(0, closed)) await service.closeSession(sessionId, ACTOR);
  return ids;
}

const setX = (service: LedgerService, sessionId: SessionId, value: number) =>
  service.set({ sessionId, identifier: 'x', value: { kind: 'float', value }, metadata: {} }, ACTOR);

/** The newest snapshot's rows, and the ones it wrote itself (newer than the snapshot before it). */
function newest(file: SqliteEventStore) {
  const [latest, previous] = file.snapshots.list();
  if (!latest) throw new Error('no snapshot');
  const { rows, intact } = file.snapshots.rows(latest);
  return { revision: latest.revision, rows, intact, written: rows.filter((r) => r.revision > (previous?.revision ?? 0)).map((r) => r.sessionId) };
}

function fileIn(t: ExecutionContext): SqliteEventStore & { at: string } {
  const at = join(tempDir(t), 'ledger.db');
  return Object.assign(openStore(t, at), { at });
}

test('a snapshot writes only the sessions that changed since the one before; an ended session once, compact, never again', async (t) => {
  const file = fileIn(t);
  const service = await openService(file);
  const ids = await sessions(service, 30, 25);
  const [live0, live1] = [ids[25] as SessionId, ids[26] as SessionId];

  t.true(await service.snapshot());
  const first = newest(file);
  t.true(first.intact);
  t.is(first.rows.length, 30);
  // The snapshot before wrote all 30 live; this one the 25 that ended since.
  t.is(first.written.length, 25);
  const ended = first.rows.filter((r) => r.ended);
  t.is(ended.length, 25);
  // Compact: no variables, their count.
  t.true(ended.every((r) => (JSON.parse(r.state) as { variables: unknown[]; ended_variable_count: number }).variables.length === 0));
  t.true(ended.every((r) => (JSON.parse(r.state) as { ended_variable_count: number }).ended_variable_count === 1));

  await setX(service, live0, 1.5);
  t.true(await service.snapshot());
  const second = newest(file);
  t.true(second.intact);
  t.is(second.rows.length, 30);
  t.deepEqual(second.written, [live0]);
  // Nothing changed since: no snapshot.
  t.false(await service.snapshot());

  await service.closeSession(live1, ACTOR);
  t.true(await service.snapshot());
  const third = newest(file);
  t.deepEqual(third.written, [live1]);
  t.true(third.rows.find((r) => r.sessionId === live1)?.ended);
  // Each ended session has exactly one row: none after its end.
  const perSession = file.db.prepare<[], { session_id: string; rows: number }>('SELECT session_id, count(*) AS rows FROM snapshot_states WHERE ended = 1 GROUP BY session_id').all();
  t.is(perSession.length, 26);
  t.true(perSession.every((r) => r.rows === 1));

  // A restart starts from it and answers for every session as the running service did (ended ones from the store).
  const stateOf = async (of: LedgerService, id: SessionId) => encodeSession((await of.findSession(id))!);
  const before = await Promise.all(ids.map((id) => stateOf(service, id)));
  await setX(service, live0, 2.5);
  const head = service.head;
  await service.close();
  const reopened = openStore(t, file.at);
  const again = await openService(reopened);
  t.teardown(() => again.close());
  t.is(again.head, head);
  // The shutdown snapshot wrote the one change.
  t.deepEqual(newest(reopened).written, [live0]);
  // Only live sessions are held in memory: the ended ones left with the snapshot that wrote them.
  t.is(again.liveSessionCount(), 4);
  t.is(again.endedSessionsHeld(), 0);
  const after = await Promise.all(ids.map((id) => stateOf(again, id)));
  t.deepEqual(after.filter((_, i) => ids[i] !== live0), before.filter((_, i) => ids[i] !== live0));
  t.is(again.peekSession(live0)?.variables.size, 1);
  // It goes on from the snapshot it loaded, writing only what changes: one header and one row.
  await setX(again, ids[27] as SessionId, 7);
  const changes = () => reopened.db.prepare<[], number>('SELECT total_changes()').pluck().get() as number;
  const changesBefore = changes();
  t.true(await again.snapshot());
  t.is(changes() - changesBefore, 2);
  t.deepEqual(newest(reopened).written, [ids[27]]);
});

test('pruning keeps the newest N snapshots and only the rows they hold', async (t) => {
  const file = fileIn(t);
  const service = await openService(file, 2);
  t.teardown(() => service.close());
  const ids = await sessions(service, 4, 2);
  const busy = ids[3] as SessionId;
  for (let i = 0; i < 6; i++) {
    await setX(service, busy, i);
    t.true(await service.snapshot());
  }
  const kept = file.snapshots.list().map((s) => s.revision);
  t.is(kept.length, 2);
  // The busy session: a row for each kept snapshot, no older ones; the quiet and ended ones: their single rows.
  const rowsOf = (id: string) => file.db.prepare<[string], number>('SELECT revision FROM snapshot_states WHERE session_id = ? ORDER BY revision DESC').pluck().all(id);
  t.deepEqual(rowsOf(busy), kept);
  for (const id of ids.slice(0, 3)) t.is(rowsOf(id).length, 1);
  for (const revision of kept) t.true(file.snapshots.rows(file.snapshots.list(revision)[0]!).intact);
});

test('when the snapshot a writer built on is gone, the next one writes every live session, carries intact ended rows over, and loads intact', async (t) => {
  const file = fileIn(t);
  const service = await openService(file);
  t.teardown(() => service.close());
  const ids = await sessions(service, 5, 2);
  t.true(await service.snapshot());
  const basis = file.snapshots.list()[0]!.revision;
  // Gone as if pruned by another process, and its rows damaged too.
  file.db.prepare('DELETE FROM snapshots WHERE revision = ?').run(basis);
  // (A trailing space: still valid JSON, but no longer what the checksum was taken of.)
  file.db.prepare("UPDATE snapshot_states SET state = state || ' '").run();
  await setX(service, ids[4] as SessionId, 9);
  t.true(await service.snapshot());
  const latest = newest(file);
  t.true(latest.intact);
  t.is(latest.revision, service.head);
  // The live ones rewritten; the ended ones' rows were damaged and are not in memory to rewrite: dropped, not trusted.
  t.deepEqual(
    latest.rows.map((r) => r.sessionId),
    ids.slice(2),
  );
  const loaded = file.snapshots.loadLatest();
  const live = ids.slice(2);
  t.deepEqual(
    live.map((id) => encodeSession(loaded!.sessions.get(id)!)),
    live.map((id) => encodeSession(service.peekSession(id)!)),
  );
  // A restart on it still reports the ended ones, folded from the log.
  const head = service.head;
  await service.close();
  const again = await openService(openStore(t, file.at));
  t.teardown(() => again.close());
  t.is(again.head, head);
  for (const id of ids.slice(0, 2)) t.like(await again.findSession(id), { id, status: 'closed', endedVariableCount: 1 });
});

test('a whole snapshot carries intact ended rows over: the set checksum counts them', async (t) => {
  const file = fileIn(t);
  const service = await openService(file);
  t.teardown(() => service.close());
  const ids = await sessions(service, 4, 2);
  t.true(await service.snapshot());
  // Gone as if pruned by another process; its rows intact.
  file.db.prepare('DELETE FROM snapshots WHERE revision = ?').run(file.snapshots.list()[0]!.revision);
  await setX(service, ids[3] as SessionId, 9);
  t.true(await service.snapshot());
  const latest = newest(file);
  t.true(latest.intact);
  t.deepEqual(
    latest.rows.map((r) => [r.sessionId, r.ended]),
    ids.map((id, i) => [id, i < 2]),
  );
});

test('a session created after the last snapshot and ended before the next gets no row: nothing to supersede, the log answers for it', async (t) => {
  const file = fileIn(t);
  const service = await openService(file);
  const ids = await sessions(service, 3, 1);
  const brief = parseSessionId('brief');
  await service.createSession({ sessionId: brief, metadata: {}, ttlSeconds: 0 }, ACTOR);
  await service.closeSession(brief, ACTOR);
  // Not held for a snapshot: only s000, live at the last one, waits for its ended row.
  t.is(service.endedSessionsHeld(), 1);
  t.true(await service.snapshot());
  const latest = newest(file);
  t.true(latest.intact);
  t.deepEqual(latest.written, [ids[0]]);
  t.false(latest.rows.some((r) => r.sessionId === brief));
  await service.close();
  const again = await openService(openStore(t, file.at));
  t.teardown(() => again.close());
  t.is(again.liveSessionCount(), 2);
  t.like(await again.findSession(brief), { id: brief, status: 'closed' });
  t.like(await again.findSession(ids[0] as SessionId), { status: 'closed', endedVariableCount: 1 });
});
