import test from 'ava';
import { VariableType } from '../src/gen/varledger/v1/ledger.js';
import { startLedger } from './helpers/harness.js';

test('register, set and read back a float over gRPC, now and at a past revision', async (t) => {
  const { rpc, stop } = await startLedger();
  t.teardown(() => stop());
  const registered = await rpc.call('registerVariable', {
    sessionId: 's1',
    name: 'temperature',
    type: VariableType.VARIABLE_TYPE_FLOAT,
    initialValue: { kind: { $case: 'floatValue', floatValue: 0.7 } },
    constraints: { min: 0, max: 1 },
    description: 'sampling temperature',
  });
  t.is(registered.version, 0n);
  t.regex(registered.id, /^var_temperature_/);
  const updated = await rpc.call(
    'setVariable',
    { sessionId: 's1', identifier: 'temperature', value: { kind: { $case: 'floatValue', floatValue: 0.9 } }, metadata: { reason: 'more creative' } },
    { actor: 'optimizer' },
  );
  t.is(updated.version, 1n);
  t.is(updated.modifiedBy, 'optimizer');
  const read = await rpc.call('getVariable', { sessionId: 's1', identifier: registered.id });
  t.deepEqual(read.value, { kind: { $case: 'floatValue', floatValue: 0.9 } });
  const past = await rpc.call('getVariable', { sessionId: 's1', identifier: 'temperature', atRevision: registered.modifiedRevision });
  t.deepEqual(past.value, { kind: { $case: 'floatValue', floatValue: 0.7 } });
});
