import { status, type ServiceError } from '@grpc/grpc-js';
import test from 'ava';
import { decodeBinaryNumbers } from '../../../src/compat/binary-values.js';
import { anyJson, fixture, startBridge } from './bridge-client.js';

const EMBEDDING = Array.from({ length: 2000 }, (_, i) => (i - 1000) / 7);

/** The Any a Python worker sends beside a pickled embedding. */
function binaryAny(type: string, shape: number[]) {
  const meta = { shape, dtype: 'float32', binary_format: 'pickle', type };
  return { typeUrl: `type.googleapis.com/snakepit.${type}.binary`, value: Buffer.from(JSON.stringify(meta)) };
}

test('a pickled 2,000-float embedding is stored exactly and comes back pickled', async (t) => {
  const s = await startBridge();
  t.teardown(() => s.stop());
  await s.bridge.call('initializeSession', { sessionId: 'w1' });
  const reg = await s.bridge.call('registerVariable', {
    sessionId: 'w1',
    name: 'emb',
    type: 'embedding',
    initialValue: binaryAny('embedding', [2000]),
    initialBinaryValue: fixture('embedding-2000.pickle'),
    constraintsJson: '{"dimensions": 2000}',
  });
  t.true(reg.success);

  const native = await s.rpc.call('getVariable', { sessionId: 'w1', identifier: 'emb' });
  t.deepEqual(native.value?.kind, { $case: 'vectorValue', vectorValue: { values: EMBEDDING } });

  const { variable } = await s.bridge.call('getVariable', { sessionId: 'w1', variableIdentifier: 'emb' });
  t.is(variable?.value?.typeUrl, 'type.googleapis.com/snakepit.embedding.binary');
  const meta = anyJson(variable?.value) as { shape: number[]; binary_format: string };
  t.deepEqual(meta.shape, [2000]);
  t.is(meta.binary_format, 'pickle');
  t.deepEqual(decodeBinaryNumbers(variable?.binaryValue ?? new Uint8Array(), 'pickle'), EMBEDDING);

  // A write through the native API keeps the pickle encoding for bridge readers.
  const shifted = EMBEDDING.map((x) => x + 1);
  await s.rpc.call('setVariable', { sessionId: 'w1', identifier: 'emb', value: { kind: { $case: 'vectorValue', vectorValue: { values: shifted } } } });
  const after = await s.bridge.call('getVariable', { sessionId: 'w1', variableIdentifier: 'emb' });
  t.deepEqual(decodeBinaryNumbers(after.variable?.binaryValue ?? new Uint8Array(), 'pickle'), shifted);
  t.is(after.variable?.version, 1);
});

test('a pickled tensor is stored with its shape; SetVariable accepts binary_value', async (t) => {
  const s = await startBridge();
  t.teardown(() => s.stop());
  await s.bridge.call('initializeSession', { sessionId: 'w1' });
  await s.bridge.call('registerVariable', {
    sessionId: 'w1',
    name: 't',
    type: 'tensor',
    initialValue: { typeUrl: 'type.googleapis.com/snakepit.tensor', value: Buffer.from('{"shape": [2, 3], "data": [[0,0,0],[0,0,0]]}') },
    constraintsJson: '{"shape": [2, 3]}',
  });
  const set = await s.bridge.call('setVariable', {
    sessionId: 'w1',
    variableIdentifier: 't',
    value: binaryAny('tensor', [2, 3]),
    binaryValue: fixture('tensor-2x3.pickle'),
  });
  t.is(set.newVersion, 1);
  const native = await s.rpc.call('getVariable', { sessionId: 'w1', identifier: 't' });
  t.deepEqual(native.value?.kind, {
    $case: 'tensorValue',
    tensorValue: { shape: [2, 3], data: [1.5, 2.5, 3.5, 4.5, 5.5, 6.5], dtype: 'float32' },
  });
  const { variable } = await s.bridge.call('getVariable', { sessionId: 'w1', variableIdentifier: 't' });
  t.is(variable?.value?.typeUrl, 'type.googleapis.com/snakepit.tensor.binary');
  t.deepEqual(decodeBinaryNumbers(variable?.binaryValue ?? new Uint8Array(), 'pickle'), [
    [1.5, 2.5, 3.5],
    [4.5, 5.5, 6.5],
  ]);
});

test('binary data that is not a list of numbers is INVALID_ARGUMENT and writes nothing', async (t) => {
  const s = await startBridge();
  t.teardown(() => s.stop());
  await s.bridge.call('initializeSession', { sessionId: 'w1' });
  const garbage = await t.throwsAsync<ServiceError>(
    s.bridge.call('registerVariable', {
      sessionId: 'w1',
      name: 'emb',
      type: 'embedding',
      initialValue: binaryAny('embedding', [3]),
      initialBinaryValue: Buffer.from('not a pickle at all'),
    }),
  );
  t.is(garbage.code, status.INVALID_ARGUMENT);
  const empty = await t.throwsAsync<ServiceError>(
    s.bridge.call('registerVariable', { sessionId: 'w1', name: 'emb', type: 'embedding', initialValue: binaryAny('embedding', [3]) }),
  );
  t.is(empty.code, status.INVALID_ARGUMENT);
  t.is((await s.bridge.call('listVariables', { sessionId: 'w1' })).variables.length, 0);
});
