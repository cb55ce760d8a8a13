/**
 * Per-principal limits over real gRPC, with the limits' clock moved by hand:
 * a refused call gets RESOURCE_EXHAUSTED with a retry hint and writes nothing.
 */
import { status } from '@grpc/grpc-js';
import test from 'ava';
import { toVarledgerError, ResourceExhaustedError } from '../../src/client/errors.js';
import { VariableType } from '../../src/gen/varledger/v1/ledger.js';
import { RETRY_AFTER_TRAILER } from '../../src/server/status-table.js';
import { expectStatus, floatValue, stringValue } from '../helpers/grpc-expect.js';
import { authFileJson, startAuthLedger } from './auth-fixture.js';

function handClock() {
  let now = 1_000_000;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

test('request rate: a burst passes, the next call waits its turn with a retry hint, other principals are unaffected', async (t) => {
  const clock = handClock();
  const authJson = authFileJson({ principalLimits: { bob: { requests_per_second: 2, burst: 3 } } });
  const ledger = await startAuthLedger(t, { authJson, limitsClock: clock.now });
  await ledger.as('alice').call('createSession', { sessionId: 'team-a-1' });
  const bob = ledger.as('bob');
  for (let i = 0; i < 3; i++) await bob.call('getSession', { sessionId: 'team-a-1' });
  const error = await expectStatus(t, bob.call('getSession', { sessionId: 'team-a-1' }), status.RESOURCE_EXHAUSTED, /bob is over its limit of 2 calls per second; retry in 0\.50 s/);
  t.is(error.metadata.get(RETRY_AFTER_TRAILER)[0], '500');
  const typed = toVarledgerError(error);
  t.true(typed instanceof ResourceExhaustedError);
  t.is((typed as ResourceExhaustedError).retryAfterMs, 500);
  await ledger.as('alice').call('getSession', { sessionId: 'team-a-1' });
  clock.advance(500);
  await bob.call('getSession', { sessionId: 'team-a-1' });
  await expectStatus(t, bob.call('getSession', { sessionId: 'team-a-1' }), status.RESOURCE_EXHAUSTED);
});

test('bytes written per minute: an over-budget write is refused and nothing is written; reads still pass', async (t) => {
  const clock = handClock();
  const authJson = authFileJson({ principalLimits: { alice: { bytes_per_minute: 3000 } } });
  const ledger = await startAuthLedger(t, { authJson, limitsClock: clock.now });
  const alice = ledger.as('alice');
  await alice.call('registerVariable', { sessionId: 'team-a-1', name: 'notes', type: VariableType.VARIABLE_TYPE_STRING, initialValue: stringValue('') });
  const big = stringValue('x'.repeat(2000));
  await alice.call('setVariable', { sessionId: 'team-a-1', identifier: 'notes', value: big });
  const head = ledger.server.service.head;
  await expectStatus(t, alice.call('setVariable', { sessionId: 'team-a-1', identifier: 'notes', value: big }), status.RESOURCE_EXHAUSTED, /3000 bytes written per minute; retry in/);
  t.is(ledger.server.service.head, head, 'nothing written');
  t.is((await alice.call('getVariable', { sessionId: 'team-a-1', identifier: 'notes' })).version, 1n);
  clock.advance(60_000);
  t.is((await alice.call('setVariable', { sessionId: 'team-a-1', identifier: 'notes', value: big })).version, 2n);
});

test('sessions: a principal may hold so many live sessions it created; closing one frees a place', async (t) => {
  const authJson = authFileJson({ limits: { sessions: 2 } });
  const ledger = await startAuthLedger(t, { authJson });
  const alice = ledger.as('alice');
  await alice.call('createSession', { sessionId: 'team-a-1' });
  // Implicit creation counts too.
  await alice.call('registerVariable', { sessionId: 'team-a-2', name: 'x', type: VariableType.VARIABLE_TYPE_FLOAT, initialValue: floatValue(1) });
  const head = ledger.server.service.head;
  await expectStatus(t, alice.call('createSession', { sessionId: 'team-a-3' }), status.RESOURCE_EXHAUSTED, /alice already has 2 live sessions/);
  await expectStatus(t, alice.call('registerVariable', { sessionId: 'team-a-3', name: 'x', type: VariableType.VARIABLE_TYPE_FLOAT, initialValue: floatValue(1) }), status.RESOURCE_EXHAUSTED);
  t.is(ledger.server.service.head, head, 'nothing written');
  // Calls on existing sessions are not creations; another principal has its own count.
  await alice.call('setVariable', { sessionId: 'team-a-2', identifier: 'x', value: floatValue(2) });
  await ledger.as('carol').call('createSession', { sessionId: 'team-b-1' });
  await alice.call('closeSession', { sessionId: 'team-a-1' });
  await alice.call('createSession', { sessionId: 'team-a-3' });
  t.pass();
});

test('sessions: live sessions created before a restart still count; ones closed before it do not', async (t) => {
  const authJson = authFileJson({ limits: { sessions: 2 } });
  const before = await startAuthLedger(t, { authJson });
  const alice = before.as('alice');
  await alice.call('createSession', { sessionId: 'team-a-1' });
  await alice.call('createSession', { sessionId: 'team-a-gone' });
  await alice.call('closeSession', { sessionId: 'team-a-gone' });
  await alice.call('createSession', { sessionId: 'team-a-2' });
  await before.stop({ remove: false });

  // The same file: the projection comes back from the snapshot written at shutdown, which the change feed never sees.
  const after = await startAuthLedger(t, { authJson, dataPath: before.dataPath });
  const again = after.as('alice');
  const head = after.server.service.head;
  await expectStatus(t, again.call('createSession', { sessionId: 'team-a-3' }), status.RESOURCE_EXHAUSTED, /alice already has 2 live sessions/);
  t.is(after.server.service.head, head, 'nothing written');
  // Closing one frees a place (and team-a-gone, closed before the restart, holds none).
  await again.call('closeSession', { sessionId: 'team-a-1' });
  await again.call('createSession', { sessionId: 'team-a-3' });
  await expectStatus(t, again.call('createSession', { sessionId: 'team-a-4' }), status.RESOURCE_EXHAUSTED);
});
