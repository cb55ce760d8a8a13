import test from 'ava';
import { status, type ServiceError } from '@grpc/grpc-js';
import { anyJson, anyOf, startBridge, StreamReader } from './bridge-client.js';
import type { VariableUpdate } from '../../../src/gen/snakepit/bridge/snakepit_bridge.js';

const floatValue = (n: number) => ({ kind: { $case: 'floatValue' as const, floatValue: n } });

test('WatchVariables sends initial values, then one VariableUpdate per change from either API', async (t) => {
  const s = await startBridge();
  t.teardown(() => s.stop());
  await s.bridge.call('initializeSession', { sessionId: 'w1' });
  const reg = await s.bridge.call('registerVariable', { sessionId: 'w1', name: 'temp', type: 'float', initialValue: anyOf('float', 0.5) });
  await s.bridge.call('registerVariable', { sessionId: 'w1', name: 'other', type: 'integer', initialValue: anyOf('integer', 1) });

  const reader = new StreamReader<VariableUpdate>(
    s.bridge.stream('watchVariables', { sessionId: 'w1', variableIdentifiers: ['temp'], includeInitialValues: true }),
  );
  t.teardown(() => reader.stream.cancel());
  const [initial] = await reader.next();
  t.is(initial?.updateType, 'initial_value');
  t.is(initial?.variableId, reg.variableId);
  t.is(anyJson(initial?.variable?.value), 0.5);

  await s.rpc.call('setVariable', { sessionId: 'w1', identifier: 'other', value: { kind: { $case: 'integerValue', integerValue: 2n } } });
  await s.rpc.call('setVariable', { sessionId: 'w1', identifier: 'temp', value: floatValue(0.9), metadata: { reason: 'native' } }, { actor: 'alice' });
  await s.bridge.call('setVariable', { sessionId: 'w1', variableIdentifier: reg.variableId, value: anyOf('float', 'Infinity') }, 'bob');
  const [fromNative, fromBridge] = await reader.next(2);
  t.is(fromNative?.updateType, 'value_change');
  t.is(fromNative?.updateSource, 'alice');
  t.deepEqual(fromNative?.updateMetadata, { reason: 'native' });
  t.is(anyJson(fromNative?.variable?.value), 0.9);
  t.is(fromNative?.variable?.version, 1);
  t.is(fromBridge?.updateSource, 'bob');
  t.is(anyJson(fromBridge?.variable?.value), 'Infinity');

  await s.bridge.call('rollbackVariable', { sessionId: 'w1', variableIdentifier: 'temp', targetVersion: 0 });
  await s.bridge.call('deleteVariable', { sessionId: 'w1', variableIdentifier: 'temp' });
  const [rolled, deleted] = await reader.next(2);
  t.is(rolled?.updateType, 'rolled_back');
  t.is(anyJson(rolled?.variable?.value), 0.5);
  t.is(deleted?.updateType, 'deleted');
  t.is(deleted?.variableId, reg.variableId);

  // Closing the session ends the stream cleanly.
  await s.bridge.call('cleanupSession', { sessionId: 'w1' });
  await reader.done;
  t.true(reader.ended);
});

test('a watch without identifiers sees every variable; one commit of several updates arrives as several messages', async (t) => {
  const s = await startBridge();
  t.teardown(() => s.stop());
  await s.bridge.call('initializeSession', { sessionId: 'w1' });
  const reader = new StreamReader<VariableUpdate>(s.bridge.stream('watchVariables', { sessionId: 'w1' }));
  t.teardown(() => reader.stream.cancel());
  await s.bridge.call('registerVariable', { sessionId: 'w1', name: 'a', type: 'integer', initialValue: anyOf('integer', 1) });
  await s.bridge.call('registerVariable', { sessionId: 'w1', name: 'b', type: 'integer', initialValue: anyOf('integer', 1) });
  await s.bridge.call('setVariables', { sessionId: 'w1', atomic: true, updates: { a: anyOf('integer', 5), b: anyOf('integer', 6) } });
  const updates = await reader.next(4);
  t.deepEqual(
    updates.map((u) => [u.updateType, u.variable?.name, anyJson(u.variable?.value)]),
    [
      ['registered', 'a', 1],
      ['registered', 'b', 1],
      ['value_change', 'a', 5],
      ['value_change', 'b', 6],
    ],
  );
});

test('watching an unknown session is NOT_FOUND', async (t) => {
  const s = await startBridge();
  t.teardown(() => s.stop());
  const stream = s.bridge.stream('watchVariables', { sessionId: 'nope' });
  const error = await new Promise<ServiceError>((resolve) => stream.on('error', resolve));
  t.is(error.code, status.NOT_FOUND);
});
