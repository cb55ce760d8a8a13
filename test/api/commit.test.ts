import { status } from '@grpc/grpc-js';
import test from 'ava';
import { VariableType, type DeepPartial, type Operation } from '../../src/gen/varledger/v1/ledger.js';
import { startLedger, type TestLedger } from '../helpers/harness.js';
import { expectStatus, floatValue, intValue, stringValue } from '../helpers/grpc-expect.js';

const FAILURES_TRAILER = 'varledger-operation-errors-bin';

const register = (name: string, type: VariableType, value: ReturnType<typeof intValue>, constraints = {}): DeepPartial<Operation> => ({
  op: { $case: 'register', register: { name, type, initialValue: value, constraints } },
});
const set = (identifier: string, value: ReturnType<typeof intValue>, expectedVersion?: bigint): DeepPartial<Operation> => ({
  op: { $case: 'set', set: { identifier, value, ...(expectedVersion !== undefined && { expectedVersion }) } },
});
const del = (identifier: string, expectedVersion?: bigint): DeepPartial<Operation> => ({
  op: { $case: 'delete', delete: { identifier, ...(expectedVersion !== undefined && { expectedVersion }) } },
});

async function seed(ledger: TestLedger) {
  const { rpc } = ledger;
  await rpc.call('registerVariable', { sessionId: 's1', name: 'a', type: VariableType.VARIABLE_TYPE_INTEGER, initialValue: intValue(1n) });
  await rpc.call('registerVariable', { sessionId: 's1', name: 'b', type: VariableType.VARIABLE_TYPE_FLOAT, initialValue: floatValue(0.5), constraints: { min: 0, max: 1 } });
  await rpc.call('registerVariable', { sessionId: 's1', name: 'c', type: VariableType.VARIABLE_TYPE_STRING, initialValue: stringValue('x') });
}

async function state(ledger: TestLedger) {
  const listed = await ledger.rpc.call('listVariables', { sessionId: 's1' });
  return { head: ledger.server.service.head, variables: listed.variables };
}

test('an atomic commit applies every operation in one revision range, all visible together', async (t) => {
  const ledger = await startLedger();
  t.teardown(() => ledger.stop());
  await seed(ledger);
  const head = ledger.server.service.head;
  const reply = await ledger.rpc.call(
    'commit',
    {
      sessionId: 's1',
      atomic: true,
      metadata: { reason: 'batch' },
      operations: [set('a', intValue(2n)), set('b', floatValue(0.25)), del('c'), register('d', VariableType.VARIABLE_TYPE_STRING, stringValue('new'))],
    },
    { actor: 'batcher' },
  );
  t.is(reply.revision, BigInt(head + 4));
  t.is(Number(ledger.server.service.head), head + 4);
  t.deepEqual(
    reply.results.map((r) => [r.index, r.ok, r.errorCode, r.error]),
    [
      [0, true, '', ''],
      [1, true, '', ''],
      [2, true, '', ''],
      [3, true, '', ''],
    ],
  );
  t.deepEqual(
    reply.results.map((r) => r.variable?.modifiedRevision),
    [BigInt(head + 1), BigInt(head + 2), reply.results[2]?.variable?.modifiedRevision, BigInt(head + 4)],
  );
  t.is(reply.results[2]?.variable?.name, 'c', 'a delete reports the variable as it was deleted');
  t.is(reply.results[0]?.variable?.modifiedBy, 'batcher');
  t.deepEqual(reply.results[0]?.variable?.metadata, { reason: 'batch' });
  const after = await state(ledger);
  t.deepEqual(
    after.variables.map((v) => [v.name, v.value, v.version]),
    [
      ['a', intValue(2n), 1n],
      ['b', floatValue(0.25), 1n],
      ['d', stringValue('new'), 0n],
    ],
  );
  // At the revision before the commit none of it is visible.
  const before = await ledger.rpc.call('listVariables', { sessionId: 's1', atRevision: BigInt(head) });
  t.deepEqual(
    before.variables.map((v) => v.name),
    ['a', 'b', 'c'],
  );
});

test('an atomic commit with failures names every failing operation, uses the first failure code, and writes nothing', async (t) => {
  const ledger = await startLedger();
  t.teardown(() => ledger.stop());
  await seed(ledger);
  const before = await state(ledger);
  const error = await expectStatus(
    t,
    ledger.rpc.call('commit', {
      sessionId: 's1',
      atomic: true,
      operations: [
        set('a', intValue(5n)),
        set('b', floatValue(1.5)),
        set('missing', intValue(1n)),
        set('a', stringValue('abc')),
        register('c', VariableType.VARIABLE_TYPE_STRING, stringValue('dup')),
      ],
    }),
    status.INVALID_ARGUMENT,
  );
  t.regex(error.details, /\[1\] b: Value 1\.5 is above maximum 1/);
  t.regex(error.details, /\[2\] missing: Variable not found: missing/);
  t.regex(error.details, /\[3\] a: Cannot convert "abc" to integer/);
  t.regex(error.details, /\[4\] c: Variable already exists: c/);
  t.notRegex(error.details, /\[0\]/);
  const trailer = error.metadata.get(FAILURES_TRAILER)[0];
  t.true(Buffer.isBuffer(trailer), 'the failures trailer is present');
  const failures = JSON.parse((trailer as Buffer).toString('utf8')) as unknown;
  t.deepEqual(failures, [
    { index: 1, identifier: 'b', code: 'INVALID_ARGUMENT', message: 'Value 1.5 is above maximum 1' },
    { index: 2, identifier: 'missing', code: 'NOT_FOUND', message: 'Variable not found: missing' },
    { index: 3, identifier: 'a', code: 'INVALID_ARGUMENT', message: 'Cannot convert "abc" to integer' },
    { index: 4, identifier: 'c', code: 'ALREADY_EXISTS', message: 'Variable already exists: c' },
  ]);
  t.deepEqual(await state(ledger), before, 'nothing was written');
});

test('an atomic commit with thousands of failures still gets its error: named up to a limit, the rest counted', async (t) => {
  const ledger = await startLedger();
  t.teardown(() => ledger.stop());
  await seed(ledger);
  const before = await state(ledger);
  const operations = Array.from({ length: 2000 }, (_, i) => set(`missing-${i}`, intValue(1n)));
  const error = await expectStatus(
    t,
    ledger.rpc.call('commit', { sessionId: 's1', atomic: true, operations }, { deadline: new Date(Date.now() + 20_000) }),
    status.NOT_FOUND,
  );
  t.regex(error.details, /^Commit rejected, 2000 of its operations failed: \[0\] missing-0: Variable not found: missing-0;/);
  t.regex(error.details, /and 1990 more$/);
  const trailer = error.metadata.get(FAILURES_TRAILER)[0] as Buffer;
  const failures = JSON.parse(trailer.toString('utf8')) as { index: number }[];
  t.true(failures.length > 10 && failures.length < 2000, `${failures.length} failures in the trailer`);
  t.deepEqual(
    failures.map((f) => f.index),
    failures.map((_, i) => i),
  );
  t.deepEqual(await state(ledger), before, 'nothing was written');
});

test('an atomic commit failing first on a missing variable is NOT_FOUND', async (t) => {
  const ledger = await startLedger();
  t.teardown(() => ledger.stop());
  await seed(ledger);
  const before = await state(ledger);
  const error = await expectStatus(
    t,
    ledger.rpc.call('commit', { sessionId: 's1', atomic: true, operations: [del('ghost'), set('b', floatValue(7))] }),
    status.NOT_FOUND,
    /ghost/,
  );
  t.regex(error.details, /\[1\] b: Value 7 is above maximum 1/);
  t.deepEqual(await state(ledger), before);
});

test('an atomic commit with a stale expected_version is ABORTED with the versions in the message', async (t) => {
  const ledger = await startLedger();
  t.teardown(() => ledger.stop());
  await seed(ledger);
  await ledger.rpc.call('setVariable', { sessionId: 's1', identifier: 'a', value: intValue(2n) });
  const before = await state(ledger);
  await expectStatus(
    t,
    ledger.rpc.call('commit', { sessionId: 's1', atomic: true, operations: [set('c', stringValue('y')), set('a', intValue(3n), 0n)] }),
    status.ABORTED,
    /Version conflict on a: expected 0, current 1/,
  );
  t.deepEqual(await state(ledger), before);
  const ok = await ledger.rpc.call('commit', { sessionId: 's1', atomic: true, operations: [set('c', stringValue('y'), 0n), set('a', intValue(3n), 1n)] });
  t.true(ok.results.every((r) => r.ok));
});

test('expected_version within one batch sees the versions left by earlier operations', async (t) => {
  const ledger = await startLedger();
  t.teardown(() => ledger.stop());
  await seed(ledger);
  const reply = await ledger.rpc.call('commit', {
    sessionId: 's1',
    atomic: false,
    operations: [set('a', intValue(10n), 0n), set('a', intValue(20n), 1n), set('a', intValue(30n), 1n), del('a', 2n)],
  });
  t.deepEqual(
    reply.results.map((r) => [r.ok, r.errorCode]),
    [
      [true, ''],
      [true, ''],
      [false, 'ABORTED'],
      [true, ''],
    ],
  );
  t.regex(reply.results[2]?.error ?? '', /expected 1, current 2/);
  await expectStatus(t, ledger.rpc.call('getVariable', { sessionId: 's1', identifier: 'a' }), status.NOT_FOUND);
});

test('a non-atomic commit reports each operation and writes the successes together', async (t) => {
  const ledger = await startLedger();
  t.teardown(() => ledger.stop());
  await seed(ledger);
  const head = ledger.server.service.head;
  const reply = await ledger.rpc.call('commit', {
    sessionId: 's1',
    atomic: false,
    operations: [set('a', intValue(7n)), set('b', floatValue(2)), set('nope', intValue(1n)), set('c', stringValue('z')), set('a', floatValue(0.5))],
  });
  t.deepEqual(
    reply.results.map((r) => [r.index, r.ok, r.errorCode]),
    [
      [0, true, ''],
      [1, false, 'INVALID_ARGUMENT'],
      [2, false, 'NOT_FOUND'],
      [3, true, ''],
      [4, false, 'INVALID_ARGUMENT'],
    ],
  );
  t.is(reply.results[1]?.error, 'Value 2 is above maximum 1');
  t.is(reply.results[2]?.error, 'Variable not found: nope');
  t.is(reply.results[4]?.error, 'Cannot convert 0.5 to integer');
  t.is(reply.results[1]?.variable, undefined);
  t.is(reply.revision, BigInt(head + 2));
  t.is(Number(ledger.server.service.head), head + 2);
  t.is(reply.results[0]?.variable?.modifiedRevision, BigInt(head + 1));
  t.is(reply.results[3]?.variable?.modifiedRevision, BigInt(head + 2));
  const after = await state(ledger);
  t.deepEqual(
    after.variables.map((v) => [v.name, v.value, v.version]),
    [
      ['a', intValue(7n), 1n],
      ['b', floatValue(0.5), 0n],
      ['c', stringValue('z'), 1n],
    ],
  );
});

test('a non-atomic commit where everything fails writes nothing and reports revision 0', async (t) => {
  const ledger = await startLedger();
  t.teardown(() => ledger.stop());
  await seed(ledger);
  const before = await state(ledger);
  const reply = await ledger.rpc.call('commit', { sessionId: 's1', atomic: false, operations: [set('nope', intValue(1n)), set('b', floatValue(9))] });
  t.is(reply.revision, 0n);
  t.true(reply.results.every((r) => !r.ok));
  t.deepEqual(await state(ledger), before);
});

test('register then set in one batch', async (t) => {
  const ledger = await startLedger();
  t.teardown(() => ledger.stop());
  await ledger.rpc.call('createSession', { sessionId: 'fresh' });
  const reply = await ledger.rpc.call('commit', {
    sessionId: 'fresh',
    atomic: true,
    operations: [
      register('n', VariableType.VARIABLE_TYPE_INTEGER, intValue(1n), { min: 0 }),
      set('n', intValue(2n)),
      register('m', VariableType.VARIABLE_TYPE_STRING, stringValue('a')),
      set('n', intValue(3n), 1n),
    ],
  });
  t.true(reply.results.every((r) => r.ok));
  t.is(reply.results[1]?.variable?.version, 1n);
  const n = await ledger.rpc.call('getVariable', { sessionId: 'fresh', identifier: 'n' });
  t.deepEqual(n.value, intValue(3n));
  t.is(n.version, 2n);
  t.is(n.id, reply.results[0]?.variable?.id ?? 'no id in the reply');
  t.is((await ledger.rpc.call('getSession', { sessionId: 'fresh' })).variableCount, 2);
});

test('a register-only batch creates its session implicitly', async (t) => {
  const ledger = await startLedger();
  t.teardown(() => ledger.stop());
  const reply = await ledger.rpc.call('commit', {
    sessionId: 'fresh',
    atomic: true,
    operations: [register('n', VariableType.VARIABLE_TYPE_INTEGER, intValue(1n)), register('m', VariableType.VARIABLE_TYPE_STRING, stringValue('a'))],
  });
  t.true(reply.results.every((r) => r.ok));
  t.is((await ledger.rpc.call('getSession', { sessionId: 'fresh' })).variableCount, 2);
});

test('an atomic register-only batch that fails creates no session', async (t) => {
  const ledger = await startLedger();
  t.teardown(() => ledger.stop());
  const head = ledger.server.service.head;
  await expectStatus(
    t,
    ledger.rpc.call('commit', {
      sessionId: 'fresh',
      atomic: true,
      operations: [register('ok', VariableType.VARIABLE_TYPE_INTEGER, intValue(1n)), register('bad', VariableType.VARIABLE_TYPE_INTEGER, stringValue('x'))],
    }),
    status.INVALID_ARGUMENT,
    /\[1\] bad: Cannot convert "x" to integer/,
  );
  t.is(ledger.server.service.head, head);
  await expectStatus(t, ledger.rpc.call('getSession', { sessionId: 'fresh' }), status.NOT_FOUND);
});

test('an empty commit writes nothing and reports revision 0', async (t) => {
  const ledger = await startLedger();
  t.teardown(() => ledger.stop());
  await seed(ledger);
  const before = await state(ledger);
  const reply = await ledger.rpc.call('commit', { sessionId: 's1', atomic: true, operations: [] });
  t.is(reply.revision, 0n);
  t.deepEqual(reply.results, []);
  t.deepEqual(await state(ledger), before);
});

test('a commit over 10,000 operations is RESOURCE_EXHAUSTED and writes nothing', async (t) => {
  const ledger = await startLedger();
  t.teardown(() => ledger.stop());
  await seed(ledger);
  const before = await state(ledger);
  const operations = Array.from({ length: 10_001 }, () => set('a', intValue(2n)));
  await expectStatus(t, ledger.rpc.call('commit', { sessionId: 's1', atomic: false, operations }), status.RESOURCE_EXHAUSTED, /10001 operations; the limit is 10000/);
  t.deepEqual(await state(ledger), before);
});
