/**
 * Ended sessions leave memory: after many sessions are created and closed
 * (and a snapshot has written their rows), the process holds none of them,
 * yet each still answers as before — GetSession reports it closed with its
 * variable count, writes are refused as closed, its id stays taken,
 * ListSessions pages list it, reads at a past revision see its variables.
 * Pinned by counts, not by timing or RSS (the bench measures those).
 */
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { DomainError, parseSessionId, type Revision, type SessionId, type Value } from '../../src/domain/index.js';
import { EndedSessions } from '../../src/service/ended-sessions.js';
import { LedgerService } from '../../src/service/ledger-service.js';
import { SqliteLog } from '../../src/store/sqlite-log.js';
import { openStore, tempDir } from '../store/temp-store.js';

const ACTOR = 'tester';
const SESSIONS = 150;
const float = (value: number): Value => ({ kind: 'float', value });
const idOf = (i: number): SessionId => parseSessionId(`s${String(i).padStart(4, '0')}`);

async function open(t: ExecutionContext, at: string, snapshotEvery: number) {
  let n = 0;
  const service = await LedgerService.open({
    store: new SqliteLog(openStore(t, at), { pollMs: 0 }),
    clock: { now: () => 1_000 },
    newIdSuffix: () => String(++n),
    newSessionId: () => `gen${++n}`,
    snapshotEvery,
  });
  return service;
}

/** Creates `count` sessions of three variables each and closes them; resolves to the revision before each close. */
async function createAndClose(service: LedgerService, count: number): Promise<Revision[]> {
  const beforeClose: Revision[] = [];
  for (let i = 0; i < count; i++) {
    const sessionId = idOf(i);
    await service.createSession({ sessionId, metadata: { i: String(i) }, ttlSeconds: 0 }, ACTOR);
    for (const name of ['a', 'b', 'c']) {
      await service.register({ sessionId, name, type: 'float', value: float(i), constraints: {}, metadata: {}, description: '' }, ACTOR);
    }
    beforeClose.push(service.head);
    await service.closeSession(sessionId, ACTOR);
  }
  return beforeClose;
}

async function refusal(t: ExecutionContext, promise: Promise<unknown>): Promise<DomainError> {
  const error = await t.throwsAsync(promise);
  if (!(error instanceof DomainError)) throw new Error(`expected a DomainError, got ${String(error)}`);
  return error;
}

test('closed sessions leave memory once snapshotted, and every one still answers as before', async (t) => {
  const at = join(tempDir(t), 'ledger.db');
  const service = await open(t, at, 100);
  t.teardown(() => service.close());
  const beforeClose = await createAndClose(service, SESSIONS);
  // Until a snapshot writes their rows, the ones ended since the last snapshot wait in memory (bounded by snapshotEvery).
  t.true(service.endedSessionsHeld() <= 100 / 5);
  await service.snapshot();
  t.is(service.liveSessionCount(), 0);
  t.is(service.endedSessionsHeld(), 0);

  for (let i = 0; i < SESSIONS; i++) {
    const sessionId = idOf(i);
    const view = await service.getSession(sessionId);
    t.like(view.session, { id: sessionId, status: 'closed', metadata: { i: String(i) }, endedVariableCount: 3 });
    const set = await refusal(t, service.set({ sessionId, identifier: 'a', value: float(1), metadata: {} }, ACTOR));
    t.is(set.code, 'session_ended');
    t.is(set.message, `Session closed: ${sessionId}`);
  }
  // A small cache keeps those just asked for; the rest are read again from the store when asked.
  t.true(service.endedSessionsHeld() <= SESSIONS);
  t.is(service.liveSessionCount(), 0);

  const again = await refusal(t, service.createSession({ sessionId: idOf(7), metadata: {}, ttlSeconds: 0 }, ACTOR));
  t.is(again.code, 'already_exists');
  // Past reads see the variables the session had then.
  const past = await service.listVariables(idOf(9), '', beforeClose[9] as Revision);
  t.deepEqual(
    past.variables.map((v) => [v.name, v.value]),
    [
      ['a', float(9)],
      ['b', float(9)],
      ['c', float(9)],
    ],
  );

  // ListSessions pages through every session ever created, from the log.
  const listed: string[] = [];
  let token = '';
  do {
    const page = await service.listSessions(40, token);
    for (const view of page.sessions) {
      t.is(view.session.status, 'closed');
      listed.push(view.session.id);
    }
    token = page.nextPageToken;
  } while (token !== '');
  t.deepEqual(
    listed,
    Array.from({ length: SESSIONS }, (_, i) => idOf(i)),
  );
});

test('after a restart, closed sessions are not loaded into memory and still answer', async (t) => {
  const at = join(tempDir(t), 'ledger.db');
  const first = await open(t, at, 100);
  await createAndClose(first, 20);
  await first.createSession({ sessionId: parseSessionId('live'), metadata: {}, ttlSeconds: 0 }, ACTOR);
  await first.close();

  const service = await open(t, at, 100);
  t.teardown(() => service.close());
  t.is(service.liveSessionCount(), 1);
  t.is(service.endedSessionsHeld(), 0);
  t.like((await service.getSession(idOf(3))).session, { status: 'closed', endedVariableCount: 3 });
  const refused = await refusal(t, service.register({ sessionId: idOf(4), name: 'z', type: 'float', value: float(0), constraints: {}, metadata: {}, description: '' }, ACTOR));
  t.is(refused.message, `Session closed: ${idOf(4)}`);
  const unknown = await refusal(t, service.getSession(parseSessionId('never')));
  t.is(unknown.code, 'not_found');
});

test('the lookup cache of ended sessions stays within its capacity, least recently used out first', async (t) => {
  const at = join(tempDir(t), 'ledger.db');
  const service = await open(t, at, 0);
  t.teardown(() => service.close());
  await createAndClose(service, 4);
  const ended = new EndedSessions(new SqliteLog(openStore(t, at), { pollMs: 0 }), 2);
  for (const i of [0, 1, 0, 2, 3]) t.is((await ended.lookup(idOf(i), service.head))?.status, 'closed');
  t.is(ended.size, 2);
  t.is(ended.cached(idOf(0)), undefined, 'used before 2 and 3: out');
  t.truthy(ended.cached(idOf(3)));
  t.is(await ended.lookup(parseSessionId('never'), service.head), undefined);
  t.is(ended.size, 2);
});

test('two processes on one log: the one whose snapshot is skipped (the other wrote it) lets its ended sessions go too', async (t) => {
  const at = join(tempDir(t), 'ledger.db');
  const a = await open(t, at, 0);
  t.teardown(() => a.close());
  const b = await open(t, at, 0);
  t.teardown(() => b.close());
  await createAndClose(a, 10);
  await b.catchUp();
  t.is(b.head, a.head);
  t.is(b.endedSessionsHeld(), 10);
  t.true(await a.snapshot());
  // b's snapshot at the same revision is skipped: a's holds the ended rows.
  t.false(await b.snapshot());
  t.is(b.endedSessionsHeld(), 0);
  t.like((await b.getSession(idOf(2))).session, { status: 'closed', endedVariableCount: 3 });
  // b goes on from a's snapshot: its next one writes only what changed since, and is intact.
  await b.createSession({ sessionId: parseSessionId('later'), metadata: {}, ttlSeconds: 0 }, ACTOR);
  t.true(await b.snapshot());
  const file = openStore(t, at);
  const [newest, before] = file.snapshots.list();
  t.true(file.snapshots.rows(newest!).intact);
  t.deepEqual(
    file.snapshots.rows(newest!).rows.filter((r) => r.revision > before!.revision).map((r) => r.sessionId),
    ['later'],
  );
  const restarted = await open(t, at, 0);
  t.teardown(() => restarted.close());
  t.is(restarted.liveSessionCount(), 1);
  t.like((await restarted.getSession(idOf(9))).session, { status: 'closed' });
});

test('without snapshots (snapshot every 0) ended sessions leave memory at once; only those a snapshot has live rows of wait for the next', async (t) => {
  const at = join(tempDir(t), 'ledger.db');
  const service = await open(t, at, 0);
  t.teardown(() => service.close());
  // No snapshot holds a row of any of them: nothing to supersede, so nothing is held.
  await createAndClose(service, SESSIONS);
  t.is(service.endedSessionsHeld(), 0);
  t.is(service.liveSessionCount(), 0);
  for (const i of [0, 77, SESSIONS - 1]) {
    t.like((await service.getSession(idOf(i))).session, { status: 'closed', endedVariableCount: 3 });
    const set = await refusal(t, service.set({ sessionId: idOf(i), identifier: 'a', value: float(1), metadata: {} }, ACTOR));
    t.is(set.message, `Session closed: ${idOf(i)}`);
  }
  t.is((await refusal(t, service.createSession({ sessionId: idOf(5), metadata: {}, ttlSeconds: 0 }, ACTOR))).code, 'already_exists');

  // Sessions live at a snapshot have active rows there: each waits, compact, for the snapshot that writes it ended.
  const late = ['late0', 'late1', 'late2'].map(parseSessionId);
  for (const sessionId of late) await service.createSession({ sessionId, metadata: {}, ttlSeconds: 0 }, ACTOR);
  t.true(await service.snapshot());
  for (const sessionId of late) await service.closeSession(sessionId, ACTOR);
  const lookedUp = service.endedSessionsHeld();
  t.is(lookedUp - 3, Math.min(lookedUp - 3, 1_000), 'the three, plus the lookup cache');
  t.true(await service.snapshot());
  t.is(service.endedSessionsHeld(), lookedUp - 3);
  await service.close();

  const restarted = await open(t, at, 0);
  t.teardown(() => restarted.close());
  t.is(restarted.liveSessionCount(), 0);
  t.is(restarted.endedSessionsHeld(), 0);
  t.like((await restarted.getSession(late[1] as SessionId)).session, { status: 'closed' });
  t.like((await restarted.getSession(idOf(9))).session, { status: 'closed', endedVariableCount: 3 });
});

test('two processes: a session one let go while the other had snapshotted it live is written ended, never carried on as live', async (t) => {
  const at = join(tempDir(t), 'ledger.db');
  const a = await open(t, at, 0);
  const b = await open(t, at, 0);
  const s = parseSessionId('shared');
  await b.createSession({ sessionId: s, metadata: {}, ttlSeconds: 0 }, ACTOR);
  await a.catchUp();
  // a writes s's active row; b, which has seen no one else write, does not know of it.
  t.true(await a.snapshot());
  await b.closeSession(s, ACTOR);
  t.is(b.endedSessionsHeld(), 0, 'let go at once: b knew of no row of it');
  // b finds a's snapshot, which holds s live: b reads s back from the store and builds on a's with s's ended row.
  t.true(await b.snapshot());
  const file = openStore(t, at);
  const intact = () => file.snapshots.list().map((info) => [info.revision, file.snapshots.rows(info).intact]);
  t.deepEqual(intact(), [
    [2, true],
    [1, true],
  ]);
  t.true(file.snapshots.rows(file.snapshots.list()[0]!).rows.find((r) => r.sessionId === s)?.ended);
  // a saw b close it (b appends) and takes b's snapshot, which has it ended, as its basis.
  await a.catchUp();
  t.false(await a.snapshot());
  t.is(a.endedSessionsHeld(), 0);
  await a.createSession({ sessionId: parseSessionId('later'), metadata: {}, ttlSeconds: 0 }, ACTOR);
  t.true(await a.snapshot());
  t.true(file.snapshots.rows(file.snapshots.list()[0]!).intact);
  await Promise.all([a.close(), b.close()]);
  const restarted = await open(t, at, 0);
  t.teardown(() => restarted.close());
  t.is(restarted.liveSessionCount(), 1);
  t.like(await restarted.findSession(s), { status: 'closed' });
});
