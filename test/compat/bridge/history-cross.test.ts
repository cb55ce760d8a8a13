import { status, type ServiceError } from '@grpc/grpc-js';
import test from 'ava';
import { VariableType } from '../../../src/gen/varledger/v1/ledger.js';
import { anyJson, anyOf, startBridge } from './bridge-client.js';

test('GetVariableHistory lists versions newest first; RollbackVariable appends the old value', async (t) => {
  const s = await startBridge();
  t.teardown(() => s.stop());
  await s.bridge.call('initializeSession', { sessionId: 'w1' });
  await s.bridge.call('registerVariable', { sessionId: 'w1', name: 'lr', type: 'float', initialValue: anyOf('float', 0.1) }, 'alice');
  await s.bridge.call('setVariable', { sessionId: 'w1', variableIdentifier: 'lr', value: anyOf('float', 0.2), metadata: { reason: 'try' } }, 'bob');
  await s.bridge.call('setVariable', { sessionId: 'w1', variableIdentifier: 'lr', value: anyOf('float', 0.3) }, 'bob');

  const history = await s.bridge.call('getVariableHistory', { sessionId: 'w1', variableIdentifier: 'lr', limit: 10 });
  t.deepEqual(
    history.entries.map((e) => [e.version, anyJson(e.value), e.changedBy]),
    [
      [2, 0.3, 'bob'],
      [1, 0.2, 'bob'],
      [0, 0.1, 'alice'],
    ],
  );
  t.deepEqual(history.entries[1]?.metadata, { reason: 'try' });
  t.is((await s.bridge.call('getVariableHistory', { sessionId: 'w1', variableIdentifier: 'lr', limit: 1 })).entries.length, 1);

  const rolled = await s.bridge.call('rollbackVariable', { sessionId: 'w1', variableIdentifier: 'lr', targetVersion: 1 });
  t.true(rolled.success);
  t.is(rolled.variable?.version, 3);
  t.is(anyJson(rolled.variable?.value), 0.2);

  const missing = await t.throwsAsync<ServiceError>(
    s.bridge.call('rollbackVariable', { sessionId: 'w1', variableIdentifier: 'lr', targetVersion: 42 }),
  );
  t.is(missing.code, status.NOT_FOUND);
});

test('a variable written through either API is visible through the other', async (t) => {
  const s = await startBridge();
  t.teardown(() => s.stop());
  await s.rpc.call('createSession', { sessionId: 'shared' });
  const native = await s.rpc.call('registerVariable', {
    sessionId: 'shared',
    name: 'model',
    type: VariableType.VARIABLE_TYPE_CHOICE,
    initialValue: { kind: { $case: 'stringValue', stringValue: 'gpt-4' } },
    constraints: { choices: ['gpt-4', 'claude'] },
  });
  const viaBridge = await s.bridge.call('getVariable', { sessionId: 'shared', variableIdentifier: native.id });
  t.is(viaBridge.variable?.name, 'model');
  t.is(viaBridge.variable?.type, 'choice');
  t.is(anyJson(viaBridge.variable?.value), 'gpt-4');
  t.deepEqual(JSON.parse(viaBridge.variable?.constraintsJson ?? ''), { choices: ['gpt-4', 'claude'] });

  await s.bridge.call('setVariable', { sessionId: 'shared', variableIdentifier: 'model', value: anyOf('choice', 'claude') });
  const back = await s.rpc.call('getVariable', { sessionId: 'shared', identifier: 'model' });
  t.deepEqual(back.value?.kind, { $case: 'stringValue', stringValue: 'claude' });
  t.is(back.version, 1n);

  const reg = await s.bridge.call('registerVariable', { sessionId: 'shared', name: 'seed', type: 'integer', initialValue: anyOf('integer', 42) });
  const seed = await s.rpc.call('getVariable', { sessionId: 'shared', identifier: reg.variableId });
  t.deepEqual(seed.value?.kind, { $case: 'integerValue', integerValue: 42n });
  const nativeList = await s.rpc.call('listVariables', { sessionId: 'shared' });
  const bridgeList = await s.bridge.call('listVariables', { sessionId: 'shared' });
  t.deepEqual(
    nativeList.variables.map((v) => [v.id, Number(v.version)]),
    bridgeList.variables.map((v) => [v.id, v.version]),
  );
});
