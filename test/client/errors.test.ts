/** Failures reject with typed errors that carry the gRPC status and the server's message. */
import { status } from '@grpc/grpc-js';
import test from 'ava';
import {
  AlreadyExistsError,
  connect,
  ConstraintError,
  NotFoundError,
  OutOfRangeError,
  SessionClosedError,
  SessionEndedError,
  SessionExpiredError,
  UnavailableError,
  VarledgerError,
  VersionConflictError,
} from '../../src/client/index.js';
import { clientLedger, take } from './client-fixture.js';

test('each failure has its own error class, a status code and the server message', async (t) => {
  const { client } = await clientLedger(t);
  const s = (await client()).session('s1');
  await s.register('p', 'float', 0.5, { constraints: { min: 0, max: 1 } });

  const notFound = await t.throwsAsync(s.get('nope'), { instanceOf: NotFoundError, message: 'Variable not found: nope' });
  t.is(notFound?.code, status.NOT_FOUND);
  t.is(notFound?.codeName, 'NOT_FOUND');
  t.true(notFound instanceof VarledgerError);

  const above = await t.throwsAsync(s.set('p', 1.5), { instanceOf: ConstraintError, message: 'Value 1.5 is above maximum 1' });
  t.is(above?.code, status.INVALID_ARGUMENT);
  await t.throwsAsync(s.set('p', 'abc'), { instanceOf: ConstraintError, message: /Cannot convert "abc"/ });
  await t.throwsAsync(s.register('c', 'choice', 'x'), { instanceOf: ConstraintError });

  const taken = await t.throwsAsync(s.register('p', 'float', 0.1), { instanceOf: AlreadyExistsError });
  t.is(taken?.code, status.ALREADY_EXISTS);

  await s.set('p', 0.6);
  const conflict = await t.throwsAsync<VersionConflictError>(s.set('p', 0.7, { expectedVersion: 0 }), { instanceOf: VersionConflictError });
  t.is(conflict?.code, status.ABORTED);
  t.is(conflict?.expectedVersion, 0);
  t.is(conflict?.currentVersion, 1);
  t.is(await s.get('p'), 0.6, 'nothing was written');

  const future = await t.throwsAsync(s.at(10_000).get('p'), { instanceOf: OutOfRangeError });
  t.is(future?.code, status.OUT_OF_RANGE);
  await t.throwsAsync(take(s.watch(undefined, { startRevision: 10_000 }), 1), { instanceOf: OutOfRangeError });
});

test('ended sessions: SessionClosedError and SessionExpiredError (both FAILED_PRECONDITION)', async (t) => {
  const { ledger, client } = await clientLedger(t);
  const c = await client();
  const closed = await c.createSession({ id: 'closed' });
  await closed.register('x', 'integer', 1);
  await closed.close();
  const afterClose = await t.throwsAsync(closed.set('x', 2), { instanceOf: SessionClosedError, message: 'Session closed: closed' });
  t.is(afterClose?.code, status.FAILED_PRECONDITION);
  t.true(afterClose instanceof SessionEndedError);

  const idle = await c.createSession({ id: 'idle', ttlSeconds: 1 });
  ledger.clock.advance(5_000);
  await ledger.server.service.expireIdleSessions();
  await t.throwsAsync(idle.register('x', 'integer', 1), { instanceOf: SessionExpiredError, message: 'Session expired: idle' });
});

test('no server: UnavailableError', async (t) => {
  const { ledger } = await clientLedger(t);
  const address = ledger.address;
  await ledger.stop();
  const c = await connect(address);
  t.teardown(() => c.close());
  const error = await t.throwsAsync(c.session('s1').get('x'), { instanceOf: UnavailableError });
  t.is(error?.code, status.UNAVAILABLE);
});
