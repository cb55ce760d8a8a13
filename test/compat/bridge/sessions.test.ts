import { status, type ServiceError } from '@grpc/grpc-js';
import test from 'ava';
import { anyOf, startBridge } from './bridge-client.js';

const codeOf = (error: unknown) => (error as ServiceError).code;

test('Ping answers pong with the server time', async (t) => {
  const s = await startBridge();
  t.teardown(() => s.stop());
  const reply = await s.bridge.call('ping', { message: 'hello' });
  t.is(reply.message, 'pong: hello');
  t.true(reply.serverTime instanceof Date);
});

test('InitializeSession creates the session; calling it again is success with the live variables', async (t) => {
  const s = await startBridge();
  t.teardown(() => s.stop());
  const first = await s.bridge.call('initializeSession', { sessionId: 'w1', metadata: { worker: 'py' }, config: { enableCaching: true } });
  t.true(first.success);
  t.deepEqual(first.initialVariables, {});
  const native = await s.rpc.call('getSession', { sessionId: 'w1' });
  t.deepEqual(native.metadata, { worker: 'py' });

  await s.bridge.call('registerVariable', { sessionId: 'w1', name: 'temperature', type: 'float', initialValue: anyOf('float', 0.7) });
  const again = await s.bridge.call('initializeSession', { sessionId: 'w1' });
  t.true(again.success);
  t.deepEqual(Object.keys(again.initialVariables), ['temperature']);
  t.is(again.initialVariables['temperature']?.version, 0);
});

test('InitializeSession without a session id is INVALID_ARGUMENT', async (t) => {
  const s = await startBridge();
  t.teardown(() => s.stop());
  const error = await t.throwsAsync(s.bridge.call('initializeSession', { sessionId: '' }));
  t.is(codeOf(error), status.INVALID_ARGUMENT);
  t.regex(error.message, /session_id is required/);
});

test('GetSession reports metadata, creation time and variable count', async (t) => {
  const s = await startBridge();
  t.teardown(() => s.stop());
  await s.bridge.call('initializeSession', { sessionId: 'w1', metadata: { a: 'b' } });
  await s.bridge.call('registerVariable', { sessionId: 'w1', name: 'x', type: 'integer', initialValue: anyOf('integer', 3) });
  const reply = await s.bridge.call('getSession', { sessionId: 'w1' });
  t.is(reply.sessionId, 'w1');
  t.deepEqual(reply.metadata, { a: 'b' });
  t.is(reply.createdAt?.getTime(), s.clock.now());
  t.is(reply.variableCount, 1);
  t.is(reply.toolCount, 0);
  const missing = await t.throwsAsync(s.bridge.call('getSession', { sessionId: 'nope' }));
  t.is(codeOf(missing), status.NOT_FOUND);
  t.regex(missing.message, /Session not found: nope/);
});

test('Heartbeat says whether the session is live; CleanupSession closes it and is idempotent', async (t) => {
  const s = await startBridge();
  t.teardown(() => s.stop());
  await s.bridge.call('initializeSession', { sessionId: 'w1' });
  t.true((await s.bridge.call('heartbeat', { sessionId: 'w1', clientTime: new Date() })).sessionValid);
  t.false((await s.bridge.call('heartbeat', { sessionId: 'unknown' })).sessionValid);

  const cleaned = await s.bridge.call('cleanupSession', { sessionId: 'w1', force: true });
  t.deepEqual(cleaned, { success: true, resourcesCleaned: 1 });
  t.false((await s.bridge.call('heartbeat', { sessionId: 'w1' })).sessionValid);
  const native = await s.rpc.call('getSession', { sessionId: 'w1' });
  t.is(native.state, 2 /* SESSION_STATE_CLOSED */);
  t.deepEqual(await s.bridge.call('cleanupSession', { sessionId: 'w1' }), { success: true, resourcesCleaned: 0 });

  const reopen = await t.throwsAsync(s.bridge.call('initializeSession', { sessionId: 'w1' }));
  t.is(codeOf(reopen), status.FAILED_PRECONDITION);
});

test('dependency and optimisation RPCs answer UNIMPLEMENTED with a reason', async (t) => {
  const s = await startBridge();
  t.teardown(() => s.stop());
  for (const method of ['addDependency', 'startOptimization', 'stopOptimization'] as const) {
    const error = await t.throwsAsync(s.bridge.call(method, { sessionId: 'w1' }));
    t.is(codeOf(error), status.UNIMPLEMENTED, method);
    t.regex(error.message, /not implemented in varledger/);
  }
});

test('a request string that is not valid UTF-8 is INVALID_ARGUMENT, as on the native API', async (t) => {
  const s = await startBridge();
  t.teardown(() => s.stop());
  // HeartbeatRequest { session_id (1) = bytes 0x61 0xff }
  const raw = Buffer.from([0x0a, 0x02, 0x61, 0xff]);
  const error = await new Promise<ServiceError | null>((resolve) =>
    s.bridge.grpc.makeUnaryRequest(
      '/snakepit.bridge.BridgeService/Heartbeat',
      (b: Buffer) => b,
      (b: Buffer) => b,
      raw,
      (e) => resolve(e),
    ),
  );
  t.is(error?.code, status.INVALID_ARGUMENT);
  t.regex(error?.details ?? '', /not valid UTF-8/);
});
