import { status, type ServiceError } from '@grpc/grpc-js';
import test from 'ava';
import { LedgerRpc } from '../../src/client/ledger-rpc.js';
import { VariableType } from '../../src/gen/varledger/v1/ledger.js';
import { startLedger } from '../helpers/harness.js';
import { expectStatus, intValue, stringValue } from '../helpers/grpc-expect.js';

const CLIENTS = 5;
const INCREMENTS = 10;

async function increment(rpc: LedgerRpc, actor: string): Promise<number> {
  let conflicts = 0;
  for (;;) {
    const current = await rpc.call('getVariable', { sessionId: 's1', identifier: 'counter' });
    const value = current.value?.kind?.$case === 'integerValue' ? current.value.kind.integerValue : undefined;
    if (value === undefined) throw new Error('counter is not an integer');
    try {
      await rpc.call('setVariable', { sessionId: 's1', identifier: 'counter', value: intValue(value + 1n), expectedVersion: current.version }, { actor });
      return conflicts;
    } catch (error) {
      if ((error as ServiceError).code !== status.ABORTED) throw error;
      conflicts++;
    }
  }
}

test('five clients doing read-modify-write with expected_version lose no increment', async (t) => {
  const ledger = await startLedger();
  t.teardown(() => ledger.stop());
  await ledger.rpc.call('registerVariable', { sessionId: 's1', name: 'counter', type: VariableType.VARIABLE_TYPE_INTEGER, initialValue: intValue(0n) });
  const clients = Array.from({ length: CLIENTS }, () => new LedgerRpc(ledger.address));
  t.teardown(() => clients.forEach((c) => c.close()));
  await Promise.all(
    clients.map(async (rpc, i) => {
      for (let n = 0; n < INCREMENTS; n++) await increment(rpc, `worker-${i}`);
    }),
  );
  const final = await ledger.rpc.call('getVariable', { sessionId: 's1', identifier: 'counter' });
  t.deepEqual(final.value, intValue(BigInt(CLIENTS * INCREMENTS)));
  t.is(final.version, BigInt(CLIENTS * INCREMENTS));
  // Every version in between holds exactly its own count.
  const registeredAt = final.createdRevision;
  const history = await ledger.rpc.call('getVariable', { sessionId: 's1', identifier: 'counter', atRevision: registeredAt + 1n });
  t.deepEqual(history.value, intValue(1n));
});

test('sessions are isolated: the same names in two sessions never see or change each other', async (t) => {
  const ledger = await startLedger();
  t.teardown(() => ledger.stop());
  const { rpc } = ledger;
  const a = await rpc.call('registerVariable', { sessionId: 'alpha', name: 'x', type: VariableType.VARIABLE_TYPE_STRING, initialValue: stringValue('A') });
  const b = await rpc.call('registerVariable', { sessionId: 'beta', name: 'x', type: VariableType.VARIABLE_TYPE_INTEGER, initialValue: intValue(1n) });
  await rpc.call('registerVariable', { sessionId: 'beta', name: 'only-beta', type: VariableType.VARIABLE_TYPE_INTEGER, initialValue: intValue(2n) });
  t.not(a.id, b.id);

  await rpc.call('setVariable', { sessionId: 'alpha', identifier: 'x', value: stringValue('A2') });
  t.deepEqual((await rpc.call('getVariable', { sessionId: 'beta', identifier: 'x' })).value, intValue(1n));
  t.is((await rpc.call('getVariable', { sessionId: 'beta', identifier: 'x' })).version, 0n);

  // Ids from one session are unknown in the other, for every kind of call.
  await expectStatus(t, rpc.call('getVariable', { sessionId: 'beta', identifier: a.id }), status.NOT_FOUND, `Variable not found: ${a.id}`);
  await expectStatus(t, rpc.call('setVariable', { sessionId: 'beta', identifier: a.id, value: intValue(5n) }), status.NOT_FOUND);
  await expectStatus(t, rpc.call('deleteVariable', { sessionId: 'beta', identifier: a.id }), status.NOT_FOUND);
  await expectStatus(t, rpc.call('getVariable', { sessionId: 'alpha', identifier: 'only-beta' }), status.NOT_FOUND);
  const committed = await rpc.call('commit', {
    sessionId: 'alpha',
    atomic: false,
    operations: [{ op: { $case: 'set', set: { identifier: b.id, value: stringValue('hijack') } } }, { op: { $case: 'delete', delete: { identifier: 'only-beta' } } }],
  });
  t.deepEqual(
    committed.results.map((r) => r.errorCode),
    ['NOT_FOUND', 'NOT_FOUND'],
  );
  const many = await rpc.call('getVariables', { sessionId: 'alpha', identifiers: ['x', b.id, 'only-beta'] });
  t.deepEqual(Object.keys(many.variables), ['x']);
  t.deepEqual(many.missing, [b.id, 'only-beta']);

  t.deepEqual(
    (await rpc.call('listVariables', { sessionId: 'alpha' })).variables.map((v) => [v.name, v.value]),
    [['x', stringValue('A2')]],
  );
  t.deepEqual(
    (await rpc.call('listVariables', { sessionId: 'beta', pattern: '*' })).variables.map((v) => [v.name, v.value]),
    [
      ['only-beta', intValue(2n)],
      ['x', intValue(1n)],
    ],
  );
  await rpc.call('deleteVariable', { sessionId: 'alpha', identifier: 'x' });
  t.deepEqual((await rpc.call('getVariable', { sessionId: 'beta', identifier: 'x' })).value, intValue(1n));
  await rpc.call('closeSession', { sessionId: 'alpha' });
  const beta = await rpc.call('setVariable', { sessionId: 'beta', identifier: 'x', value: intValue(3n) });
  t.is(beta.version, 1n);
  t.is((await rpc.call('getSession', { sessionId: 'beta' })).variableCount, 2);
});
