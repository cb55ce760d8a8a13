import { status } from '@grpc/grpc-js';
import test from 'ava';
import { SessionState, VariableType } from '../../src/gen/varledger/v1/ledger.js';
import { startLedger } from '../helpers/harness.js';
import { expectStatus, floatValue, intValue } from '../helpers/grpc-expect.js';

const HOUR_MS = 3600 * 1000;

test('CreateSession with an explicit id keeps id and metadata and defaults the TTL to 3600 s', async (t) => {
  const { rpc, clock, stop } = await startLedger();
  t.teardown(() => stop());
  const session = await rpc.call('createSession', { sessionId: 's1', metadata: { owner: 'alice', run: '7' } });
  t.is(session.sessionId, 's1');
  t.deepEqual(session.metadata, { owner: 'alice', run: '7' });
  t.is(session.ttlSeconds, 3600);
  t.is(session.state, SessionState.SESSION_STATE_ACTIVE);
  t.is(session.variableCount, 0);
  t.is(session.createdAt?.getTime(), clock.now());
  t.is(session.expiresAt?.getTime(), clock.now() + HOUR_MS);
  t.true(session.createdRevision > 0n);
  const read = await rpc.call('getSession', { sessionId: 's1' });
  t.deepEqual(read, session);
});

test('CreateSession with an empty id generates a distinct id, and honours ttl_seconds', async (t) => {
  const { rpc, stop } = await startLedger();
  t.teardown(() => stop());
  const a = await rpc.call('createSession', { ttlSeconds: 90 });
  const b = await rpc.call('createSession', {});
  t.not(a.sessionId, '');
  t.not(b.sessionId, '');
  t.not(a.sessionId, b.sessionId);
  t.is(a.ttlSeconds, 90);
  t.is(b.ttlSeconds, 3600);
  t.is((await rpc.call('getSession', { sessionId: a.sessionId })).sessionId, a.sessionId);
});

test('CreateSession on a taken id is ALREADY_EXISTS and changes nothing', async (t) => {
  const { rpc, server, stop } = await startLedger();
  t.teardown(() => stop());
  await rpc.call('createSession', { sessionId: 's1', metadata: { v: '1' } });
  const head = server.service.head;
  await expectStatus(t, rpc.call('createSession', { sessionId: 's1', metadata: { v: '2' } }), status.ALREADY_EXISTS, /s1/);
  t.is(server.service.head, head);
  t.deepEqual((await rpc.call('getSession', { sessionId: 's1' })).metadata, { v: '1' });
});

test('GetSession, Heartbeat and CloseSession of an unknown session are NOT_FOUND', async (t) => {
  const { rpc, stop } = await startLedger();
  t.teardown(() => stop());
  await expectStatus(t, rpc.call('getSession', { sessionId: 'nope' }), status.NOT_FOUND, 'Session not found: nope');
  await expectStatus(t, rpc.call('heartbeat', { sessionId: 'nope' }), status.NOT_FOUND, /nope/);
  await expectStatus(t, rpc.call('closeSession', { sessionId: 'nope' }), status.NOT_FOUND, /nope/);
  await expectStatus(t, rpc.call('getVariable', { sessionId: 'nope', identifier: 'x' }), status.NOT_FOUND, /nope/);
});

test('the first RegisterVariable creates its session implicitly', async (t) => {
  const { rpc, stop } = await startLedger();
  t.teardown(() => stop());
  await rpc.call('registerVariable', {
    sessionId: 'implicit',
    name: 'x',
    type: VariableType.VARIABLE_TYPE_INTEGER,
    initialValue: intValue(1n),
  });
  const session = await rpc.call('getSession', { sessionId: 'implicit' });
  t.is(session.state, SessionState.SESSION_STATE_ACTIVE);
  t.is(session.ttlSeconds, 3600);
  t.is(session.variableCount, 1);
});

test('Heartbeat pushes expires_at forward by the TTL from now', async (t) => {
  const { rpc, clock, stop } = await startLedger();
  t.teardown(() => stop());
  await rpc.call('createSession', { sessionId: 's1', ttlSeconds: 60 });
  clock.advance(45_000);
  const beat = await rpc.call('heartbeat', { sessionId: 's1' });
  t.is(beat.state, SessionState.SESSION_STATE_ACTIVE);
  t.is(beat.expiresAt?.getTime(), clock.now() + 60_000);
});

test('CloseSession ends the session: later calls fail with FAILED_PRECONDITION "Session closed: s1"', async (t) => {
  const { rpc, server, stop } = await startLedger();
  t.teardown(() => stop());
  await rpc.call('registerVariable', { sessionId: 's1', name: 'x', type: VariableType.VARIABLE_TYPE_FLOAT, initialValue: floatValue(1) });
  const closed = await rpc.call('closeSession', { sessionId: 's1' });
  t.is(closed.state, SessionState.SESSION_STATE_CLOSED);
  const head = server.service.head;
  const refused = 'Session closed: s1';
  await expectStatus(t, rpc.call('setVariable', { sessionId: 's1', identifier: 'x', value: floatValue(2) }), status.FAILED_PRECONDITION, refused);
  await expectStatus(t, rpc.call('getVariable', { sessionId: 's1', identifier: 'x' }), status.FAILED_PRECONDITION, refused);
  await expectStatus(
    t,
    rpc.call('registerVariable', { sessionId: 's1', name: 'y', type: VariableType.VARIABLE_TYPE_FLOAT, initialValue: floatValue(1) }),
    status.FAILED_PRECONDITION,
    refused,
  );
  await expectStatus(t, rpc.call('deleteVariable', { sessionId: 's1', identifier: 'x' }), status.FAILED_PRECONDITION, refused);
  await expectStatus(t, rpc.call('heartbeat', { sessionId: 's1' }), status.FAILED_PRECONDITION, refused);
  await expectStatus(t, rpc.call('closeSession', { sessionId: 's1' }), status.FAILED_PRECONDITION, refused);
  await expectStatus(
    t,
    rpc.call('commit', { sessionId: 's1', atomic: true, operations: [{ op: { $case: 'set', set: { identifier: 'x', value: floatValue(3) } } }] }),
    status.FAILED_PRECONDITION,
    /Session closed: s1/,
  );
  t.is(server.service.head, head, 'nothing was written after the close');
  t.is((await rpc.call('getSession', { sessionId: 's1' })).state, SessionState.SESSION_STATE_CLOSED);
  // History stays readable.
  const past = await rpc.call('getVariable', { sessionId: 's1', identifier: 'x', atRevision: BigInt(head) });
  t.deepEqual(past.value, { kind: { $case: 'floatValue', floatValue: 1 } });
});

test('an idle session expires once its TTL passes: GetSession shows EXPIRED and writes are refused', async (t) => {
  const { rpc, clock, stop } = await startLedger();
  t.teardown(() => stop());
  await rpc.call('registerVariable', { sessionId: 's1', name: 'x', type: VariableType.VARIABLE_TYPE_FLOAT, initialValue: floatValue(1) });
  clock.advance(HOUR_MS);
  const session = await rpc.call('getSession', { sessionId: 's1' });
  t.is(session.state, SessionState.SESSION_STATE_EXPIRED);
  await expectStatus(
    t,
    rpc.call('setVariable', { sessionId: 's1', identifier: 'x', value: floatValue(2) }),
    status.FAILED_PRECONDITION,
    'Session expired: s1',
  );
  await expectStatus(t, rpc.call('heartbeat', { sessionId: 's1' }), status.FAILED_PRECONDITION, 'Session expired: s1');
});

test('a write that comes after the deadline without a prior read is refused as expired', async (t) => {
  const { rpc, clock, server, stop } = await startLedger();
  t.teardown(() => stop());
  await rpc.call('createSession', { sessionId: 's1', ttlSeconds: 10 });
  await rpc.call('registerVariable', { sessionId: 's1', name: 'x', type: VariableType.VARIABLE_TYPE_FLOAT, initialValue: floatValue(1) });
  clock.advance(10_001);
  await expectStatus(
    t,
    rpc.call('setVariable', { sessionId: 's1', identifier: 'x', value: floatValue(2) }),
    status.FAILED_PRECONDITION,
    'Session expired: s1',
  );
  const head = server.service.head;
  await expectStatus(
    t,
    rpc.call('setVariable', { sessionId: 's1', identifier: 'x', value: floatValue(3) }),
    status.FAILED_PRECONDITION,
    'Session expired: s1',
  );
  t.is(server.service.head, head, 'the expiry is recorded once');
});

test('heartbeats and ordinary calls before the deadline keep a session alive', async (t) => {
  const { rpc, clock, stop } = await startLedger();
  t.teardown(() => stop());
  await rpc.call('createSession', { sessionId: 's1', ttlSeconds: 60 });
  await rpc.call('registerVariable', { sessionId: 's1', name: 'x', type: VariableType.VARIABLE_TYPE_FLOAT, initialValue: floatValue(1) });
  clock.advance(59_999);
  await rpc.call('heartbeat', { sessionId: 's1' });
  clock.advance(59_999);
  await rpc.call('getVariable', { sessionId: 's1', identifier: 'x' });
  clock.advance(59_999);
  await rpc.call('listVariables', { sessionId: 's1' });
  clock.advance(59_999);
  const set = await rpc.call('setVariable', { sessionId: 's1', identifier: 'x', value: floatValue(2) });
  t.is(set.version, 1n);
  clock.advance(59_999);
  t.is((await rpc.call('getSession', { sessionId: 's1' })).state, SessionState.SESSION_STATE_ACTIVE);
  clock.advance(60_000);
  t.is((await rpc.call('getSession', { sessionId: 's1' })).state, SessionState.SESSION_STATE_EXPIRED);
});

test('expireIdleSessions records expiry of idle sessions only', async (t) => {
  const { rpc, clock, server, stop } = await startLedger();
  t.teardown(() => stop());
  await rpc.call('createSession', { sessionId: 'idle', ttlSeconds: 30 });
  await rpc.call('createSession', { sessionId: 'busy', ttlSeconds: 30 });
  await rpc.call('createSession', { sessionId: 'long', ttlSeconds: 3600 });
  clock.advance(20_000);
  await rpc.call('heartbeat', { sessionId: 'busy' });
  clock.advance(15_000);
  const head = server.service.head;
  t.is(await server.service.expireIdleSessions(), 1);
  t.is(Number(server.service.head), head + 1, 'one expiry event');
  t.is(await server.service.expireIdleSessions(), 0, 'expiry is recorded once');
  const idle = await rpc.call('getSession', { sessionId: 'idle' });
  t.is(idle.state, SessionState.SESSION_STATE_EXPIRED);
  t.is(idle.modifiedRevision, BigInt(head + 1));
  t.is((await rpc.call('getSession', { sessionId: 'busy' })).state, SessionState.SESSION_STATE_ACTIVE);
  t.is((await rpc.call('getSession', { sessionId: 'long' })).state, SessionState.SESSION_STATE_ACTIVE);
});

test('ListSessions pages in id order with page_size and page_token', async (t) => {
  const { rpc, stop } = await startLedger();
  t.teardown(() => stop());
  for (const id of ['s3', 's1', 's5', 's2', 's4']) await rpc.call('createSession', { sessionId: id });
  const first = await rpc.call('listSessions', { pageSize: 2 });
  t.deepEqual(
    first.sessions.map((s) => s.sessionId),
    ['s1', 's2'],
  );
  t.not(first.nextPageToken, '');
  const second = await rpc.call('listSessions', { pageSize: 2, pageToken: first.nextPageToken });
  t.deepEqual(
    second.sessions.map((s) => s.sessionId),
    ['s3', 's4'],
  );
  const third = await rpc.call('listSessions', { pageSize: 2, pageToken: second.nextPageToken });
  t.deepEqual(
    third.sessions.map((s) => s.sessionId),
    ['s5'],
  );
  t.is(third.nextPageToken, '');
  const all = await rpc.call('listSessions', {});
  t.deepEqual(
    all.sessions.map((s) => s.sessionId),
    ['s1', 's2', 's3', 's4', 's5'],
  );
  t.is(all.nextPageToken, '');
  const exact = await rpc.call('listSessions', { pageSize: 5 });
  t.is(exact.sessions.length, 5);
  t.is(exact.nextPageToken, '', 'no empty trailing page');
});
