import { status } from '@grpc/grpc-js';
import test from 'ava';
import { VariableType } from '../../src/gen/varledger/v1/ledger.js';
import { startLedger, type TestLedger } from '../helpers/harness.js';
import { expectStatus, floatValue, intValue, stringValue } from '../helpers/grpc-expect.js';

const FLOAT = VariableType.VARIABLE_TYPE_FLOAT;
const STRING = VariableType.VARIABLE_TYPE_STRING;

async function registerFloat(ledger: TestLedger, name: string, value: number, sessionId = 's1') {
  return ledger.rpc.call('registerVariable', { sessionId, name, type: FLOAT, initialValue: floatValue(value) });
}

test('RegisterVariable returns the full variable at version 0', async (t) => {
  const ledger = await startLedger();
  t.teardown(() => ledger.stop());
  const v = await ledger.rpc.call(
    'registerVariable',
    {
      sessionId: 's1',
      name: 'temperature',
      type: FLOAT,
      initialValue: floatValue(0.5),
      constraints: { min: 0, max: 2 },
      metadata: { source: 'test' },
      description: 'sampling temperature',
    },
    { actor: 'alice' },
  );
  t.is(v.sessionId, 's1');
  t.is(v.name, 'temperature');
  t.is(v.type, FLOAT);
  t.deepEqual(v.value, floatValue(0.5));
  t.is(v.constraints?.min, 0);
  t.is(v.constraints?.max, 2);
  t.deepEqual(v.metadata, { source: 'test' });
  t.is(v.description, 'sampling temperature');
  t.is(v.version, 0n);
  t.is(v.createdRevision, v.modifiedRevision);
  t.is(v.createdAt?.getTime(), ledger.clock.now());
  t.is(v.modifiedBy, 'alice');
  t.deepEqual(await ledger.rpc.call('getVariable', { sessionId: 's1', identifier: 'temperature' }), v);
  t.deepEqual(await ledger.rpc.call('getVariable', { sessionId: 's1', identifier: v.id }), v);
});

test('SetVariable bumps the version, records the actor from x-varledger-actor, and keeps created_* fields', async (t) => {
  const ledger = await startLedger();
  t.teardown(() => ledger.stop());
  const { rpc, clock } = ledger;
  const registered = await registerFloat(ledger, 'x', 1);
  t.is(registered.modifiedBy, 'anonymous');
  clock.advance(1000);
  const v1 = await rpc.call('setVariable', { sessionId: 's1', identifier: 'x', value: floatValue(2) }, { actor: 'bob' });
  clock.advance(1000);
  const v2 = await rpc.call('setVariable', { sessionId: 's1', identifier: registered.id, value: floatValue(3) }, { actor: 'carol' });
  t.is(v1.version, 1n);
  t.is(v2.version, 2n);
  t.is(v1.modifiedBy, 'bob');
  t.is(v2.modifiedBy, 'carol');
  t.is(v2.id, registered.id);
  t.is(v2.createdRevision, registered.createdRevision);
  t.is(v2.createdAt?.getTime(), registered.createdAt?.getTime());
  t.is(v2.updatedAt?.getTime(), clock.now());
  t.true(v2.modifiedRevision > v1.modifiedRevision && v1.modifiedRevision > registered.modifiedRevision);
  const read = await rpc.call('getVariable', { sessionId: 's1', identifier: 'x' });
  t.is(read.modifiedBy, 'carol');
  t.deepEqual(read.value, floatValue(3));
});

test('GetVariables returns a map keyed by the identifier as written, plus missing ones', async (t) => {
  const ledger = await startLedger();
  t.teardown(() => ledger.stop());
  const a = await registerFloat(ledger, 'a', 1);
  await registerFloat(ledger, 'b', 2);
  const reply = await ledger.rpc.call('getVariables', { sessionId: 's1', identifiers: [a.id, 'b', 'nope', 'also-nope'] });
  t.deepEqual(Object.keys(reply.variables).sort(), [a.id, 'b'].sort());
  t.is(reply.variables[a.id]?.name, 'a');
  t.deepEqual(reply.variables['b']?.value, floatValue(2));
  t.deepEqual(reply.missing, ['nope', 'also-nope']);
  t.is(reply.revision, BigInt(ledger.server.service.head));
});

test('ListVariables filters names with * and ? globs, including names with / and .', async (t) => {
  const ledger = await startLedger();
  t.teardown(() => ledger.stop());
  const names = ['model/temperature', 'model/top_p', 'model/nested/depth', 'prompt.v1', 'prompt.v2', 'prompt.v10', 'seed', 'a'];
  for (const name of names) await registerFloat(ledger, name, 1);
  const list = async (pattern: string) =>
    (await ledger.rpc.call('listVariables', { sessionId: 's1', pattern })).variables.map((v) => v.name);
  t.deepEqual(await list(''), [...names].sort(), 'empty pattern lists everything, in name order');
  t.deepEqual(await list('*'), [...names].sort(), '* matches any run of characters, / and . included');
  t.deepEqual(await list('model/*'), ['model/nested/depth', 'model/temperature', 'model/top_p']);
  t.deepEqual(await list('prompt.v?'), ['prompt.v1', 'prompt.v2']);
  t.deepEqual(await list('prompt.v??'), ['prompt.v10']);
  t.deepEqual(await list('*.v1*'), ['prompt.v1', 'prompt.v10']);
  t.deepEqual(await list('?'), ['a']);
  t.deepEqual(await list('seed'), ['seed']);
  t.deepEqual(await list('*top?p'), ['model/top_p']);
  t.deepEqual(await list('nothing*'), []);
  const reply = await ledger.rpc.call('listVariables', { sessionId: 's1' });
  t.is(reply.revision, BigInt(ledger.server.service.head));
});

test('DeleteVariable removes the variable; the name can be registered again with a new id', async (t) => {
  const ledger = await startLedger();
  t.teardown(() => ledger.stop());
  const { rpc, server } = ledger;
  const first = await registerFloat(ledger, 'x', 1);
  await rpc.call('setVariable', { sessionId: 's1', identifier: 'x', value: floatValue(2) });
  const deleted = await rpc.call('deleteVariable', { sessionId: 's1', identifier: 'x' });
  t.is(deleted.revision, BigInt(server.service.head));
  await expectStatus(t, rpc.call('getVariable', { sessionId: 's1', identifier: 'x' }), status.NOT_FOUND, 'Variable not found: x');
  await expectStatus(t, rpc.call('getVariable', { sessionId: 's1', identifier: first.id }), status.NOT_FOUND, `Variable not found: ${first.id}`);
  await expectStatus(t, rpc.call('setVariable', { sessionId: 's1', identifier: 'x', value: floatValue(3) }), status.NOT_FOUND, 'Variable not found: x');
  await expectStatus(t, rpc.call('deleteVariable', { sessionId: 's1', identifier: 'x' }), status.NOT_FOUND, 'Variable not found: x');
  t.deepEqual((await rpc.call('listVariables', { sessionId: 's1' })).variables, []);
  t.is((await rpc.call('getSession', { sessionId: 's1' })).variableCount, 0);

  const second = await rpc.call('registerVariable', { sessionId: 's1', name: 'x', type: STRING, initialValue: stringValue('again') });
  t.not(second.id, first.id);
  t.is(second.version, 0n);
  t.deepEqual((await rpc.call('getVariable', { sessionId: 's1', identifier: 'x' })).value, stringValue('again'));
  await expectStatus(t, rpc.call('getVariable', { sessionId: 's1', identifier: first.id }), status.NOT_FOUND);
  // The old incarnation is still visible in the past.
  const past = await rpc.call('getVariable', { sessionId: 's1', identifier: first.id, atRevision: deleted.revision - 1n });
  t.deepEqual(past.value, floatValue(2));
  t.is(past.version, 1n);
});

test('DeleteVariable with expected_version: stale is ABORTED and nothing is deleted', async (t) => {
  const ledger = await startLedger();
  t.teardown(() => ledger.stop());
  const { rpc, server } = ledger;
  await registerFloat(ledger, 'x', 1);
  await rpc.call('setVariable', { sessionId: 's1', identifier: 'x', value: floatValue(2) });
  const head = server.service.head;
  await expectStatus(
    t,
    rpc.call('deleteVariable', { sessionId: 's1', identifier: 'x', expectedVersion: 0n }),
    status.ABORTED,
    /expected 0, current 1/,
  );
  t.is(server.service.head, head);
  t.is((await rpc.call('getVariable', { sessionId: 's1', identifier: 'x' })).version, 1n);
  await rpc.call('deleteVariable', { sessionId: 's1', identifier: 'x', expectedVersion: 1n });
  await expectStatus(t, rpc.call('getVariable', { sessionId: 's1', identifier: 'x' }), status.NOT_FOUND);
});

test('SetVariable with expected_version succeeds on a match and is ABORTED on a mismatch', async (t) => {
  const ledger = await startLedger();
  t.teardown(() => ledger.stop());
  const { rpc, server } = ledger;
  await ledger.rpc.call('registerVariable', { sessionId: 's1', name: 'n', type: VariableType.VARIABLE_TYPE_INTEGER, initialValue: intValue(0n) });
  for (let v = 0n; v < 5n; v++) {
    await rpc.call('setVariable', { sessionId: 's1', identifier: 'n', value: intValue(v + 1n), expectedVersion: v });
  }
  const head = server.service.head;
  await expectStatus(
    t,
    rpc.call('setVariable', { sessionId: 's1', identifier: 'n', value: intValue(99n), expectedVersion: 3n }),
    status.ABORTED,
    'Version conflict on n: expected 3, current 5',
  );
  t.is(server.service.head, head);
  const read = await rpc.call('getVariable', { sessionId: 's1', identifier: 'n' });
  t.is(read.version, 5n);
  t.deepEqual(read.value, intValue(5n));
});

test('at_revision reads return values as they were; beyond head is OUT_OF_RANGE; before the session existed is NOT_FOUND', async (t) => {
  const ledger = await startLedger();
  t.teardown(() => ledger.stop());
  const { rpc, server } = ledger;
  const r0 = await registerFloat(ledger, 'x', 1);
  const r1 = await rpc.call('setVariable', { sessionId: 's1', identifier: 'x', value: floatValue(2) });
  await registerFloat(ledger, 'y', 10);
  const r2 = await rpc.call('setVariable', { sessionId: 's1', identifier: 'x', value: floatValue(3) });
  const beforeS2 = server.service.head;
  await registerFloat(ledger, 'x', 100, 's2');

  const at = async (revision: bigint) => rpc.call('getVariable', { sessionId: 's1', identifier: 'x', atRevision: revision });
  t.deepEqual((await at(r0.modifiedRevision)).value, floatValue(1));
  t.is((await at(r0.modifiedRevision)).version, 0n);
  t.deepEqual((await at(r1.modifiedRevision)).value, floatValue(2));
  t.deepEqual((await at(r2.modifiedRevision - 1n)).value, floatValue(2));
  t.deepEqual((await at(r2.modifiedRevision)).value, floatValue(3));
  t.is((await at(r2.modifiedRevision)).version, 2n);
  t.deepEqual((await at(BigInt(server.service.head))).value, floatValue(3));

  // y did not exist yet at r1.
  await expectStatus(t, rpc.call('getVariable', { sessionId: 's1', identifier: 'y', atRevision: r1.modifiedRevision }), status.NOT_FOUND);
  const listed = await rpc.call('listVariables', { sessionId: 's1', atRevision: r1.modifiedRevision });
  t.deepEqual(
    listed.variables.map((v) => [v.name, v.value]),
    [['x', floatValue(2)]],
  );
  t.is(listed.revision, r1.modifiedRevision);
  const many = await rpc.call('getVariables', { sessionId: 's1', identifiers: ['x', 'y'], atRevision: r1.modifiedRevision });
  t.deepEqual(many.missing, ['y']);
  t.deepEqual(many.variables['x']?.value, floatValue(2));
  t.is(many.revision, r1.modifiedRevision);

  const beyond = BigInt(server.service.head) + 1n;
  await expectStatus(t, rpc.call('getVariable', { sessionId: 's1', identifier: 'x', atRevision: beyond }), status.OUT_OF_RANGE);
  await expectStatus(t, rpc.call('listVariables', { sessionId: 's1', atRevision: beyond }), status.OUT_OF_RANGE);
  await expectStatus(t, rpc.call('getVariables', { sessionId: 's1', identifiers: ['x'], atRevision: beyond }), status.OUT_OF_RANGE);

  await expectStatus(t, rpc.call('getVariable', { sessionId: 's2', identifier: 'x', atRevision: BigInt(beforeS2) }), status.NOT_FOUND, /s2/);
  await expectStatus(t, rpc.call('listVariables', { sessionId: 's2', atRevision: BigInt(beforeS2) }), status.NOT_FOUND, /s2/);
  t.deepEqual((await rpc.call('getVariable', { sessionId: 's2', identifier: 'x' })).value, floatValue(100));
});

test('a registered name is unique among live variables: ALREADY_EXISTS and nothing written', async (t) => {
  const ledger = await startLedger();
  t.teardown(() => ledger.stop());
  await registerFloat(ledger, 'x', 1);
  const head = ledger.server.service.head;
  await expectStatus(
    t,
    ledger.rpc.call('registerVariable', { sessionId: 's1', name: 'x', type: STRING, initialValue: stringValue('s') }),
    status.ALREADY_EXISTS,
    /x/,
  );
  t.is(ledger.server.service.head, head);
  t.deepEqual((await ledger.rpc.call('getVariable', { sessionId: 's1', identifier: 'x' })).value, floatValue(1));
});
