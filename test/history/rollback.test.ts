/** RollbackVariable over gRPC: a new version holding an old value; history is never rewritten. */
import { status } from '@grpc/grpc-js';
import test from 'ava';
import { HistoryKind, VariableType, WatchEventKind, type DeepPartial, type Value } from '../../src/gen/varledger/v1/ledger.js';
import { expectStatus, floatValue, intValue, stringValue, tensorValue, vectorValue } from '../helpers/grpc-expect.js';
import { kindName, nextWithEvents, openWatch } from '../helpers/watch-helpers.js';
import { ledgerFor } from './history-helpers.js';

const FLOAT = VariableType.VARIABLE_TYPE_FLOAT;
const INTEGER = VariableType.VARIABLE_TYPE_INTEGER;

test('RollbackVariable appends a new version with the old value and keeps every old version', async (t) => {
  const ledger = await ledgerFor(t);
  const { rpc, clock } = ledger;
  await rpc.call('registerVariable', { sessionId: 's1', name: 'lr', type: FLOAT, initialValue: floatValue(0.1) }, { actor: 'alice' });
  await rpc.call('setVariable', { sessionId: 's1', identifier: 'lr', value: floatValue(0.2), metadata: { reason: 'try' } }, { actor: 'bob' });
  await rpc.call('setVariable', { sessionId: 's1', identifier: 'lr', value: floatValue(0.3) }, { actor: 'bob' });
  const before = (await rpc.call('getHistory', { sessionId: 's1', identifier: 'lr' })).entries;
  clock.advance(5000);

  const rolled = await rpc.call(
    'rollbackVariable',
    { sessionId: 's1', identifier: 'lr', targetVersion: 1n, metadata: { reason: 'diverged' } },
    { actor: 'carol' },
  );
  t.is(rolled.version, 3n);
  t.deepEqual(rolled.value, floatValue(0.2));
  t.is(rolled.modifiedBy, 'carol');
  t.is(rolled.updatedAt?.getTime(), clock.now());
  t.like(rolled.metadata, { reason: 'diverged', rolled_back_from: '2', rolled_back_to: '1' });
  t.deepEqual(await rpc.call('getVariable', { sessionId: 's1', identifier: 'lr' }), rolled);

  const after = (await rpc.call('getHistory', { sessionId: 's1', identifier: 'lr' })).entries;
  t.is(after.length, 4);
  // The old versions are untouched: same entries, byte for byte.
  t.deepEqual(after.slice(1), before);
  t.deepEqual(after[0], {
    version: 3n,
    value: floatValue(0.2) as Value,
    revision: rolled.modifiedRevision,
    time: new Date(clock.now()),
    actor: 'carol',
    metadata: { reason: 'diverged', rolled_back_from: '2', rolled_back_to: '1' },
    kind: HistoryKind.HISTORY_KIND_ROLLED_BACK,
  });
  // A read just before the rollback still sees the value it replaced.
  const past = await rpc.call('getVariable', { sessionId: 's1', identifier: 'lr', atRevision: rolled.modifiedRevision - 1n });
  t.deepEqual(past.value, floatValue(0.3));
  t.is(past.version, 2n);

  // A rollback is itself a version: rolling back to it, or past it, works the same way.
  const again = await rpc.call('rollbackVariable', { sessionId: 's1', identifier: 'lr', targetVersion: 0n });
  t.is(again.version, 4n);
  t.deepEqual(again.value, floatValue(0.1));
  t.like(again.metadata, { rolled_back_from: '3', rolled_back_to: '0' });
  const toRollback = await rpc.call('rollbackVariable', { sessionId: 's1', identifier: rolled.id, targetVersion: 3n });
  t.is(toRollback.version, 5n);
  t.deepEqual(toRollback.value, floatValue(0.2));
  t.deepEqual(
    (await rpc.call('getHistory', { sessionId: 's1', identifier: 'lr' })).entries.map((e) => [e.version, e.kind]),
    [
      [5n, HistoryKind.HISTORY_KIND_ROLLED_BACK],
      [4n, HistoryKind.HISTORY_KIND_ROLLED_BACK],
      [3n, HistoryKind.HISTORY_KIND_ROLLED_BACK],
      [2n, HistoryKind.HISTORY_KIND_SET],
      [1n, HistoryKind.HISTORY_KIND_SET],
      [0n, HistoryKind.HISTORY_KIND_REGISTERED],
    ],
  );
});

test('RollbackVariable with a stale expected_version is ABORTED and writes nothing', async (t) => {
  const { rpc } = await ledgerFor(t);
  await rpc.call('registerVariable', { sessionId: 's1', name: 'n', type: INTEGER, initialValue: intValue(1n) });
  await rpc.call('setVariable', { sessionId: 's1', identifier: 'n', value: intValue(2n) });
  await rpc.call('setVariable', { sessionId: 's1', identifier: 'n', value: intValue(3n) });
  const digest = await rpc.call('getDigest', {});
  const history = await rpc.call('getHistory', { sessionId: 's1', identifier: 'n' });

  await expectStatus(
    t,
    rpc.call('rollbackVariable', { sessionId: 's1', identifier: 'n', targetVersion: 0n, expectedVersion: 1n }),
    status.ABORTED,
    'Version conflict on n: expected 1, current 2',
  );
  t.deepEqual(await rpc.call('getDigest', {}), digest);
  t.deepEqual(await rpc.call('getHistory', { sessionId: 's1', identifier: 'n' }), history);
  t.is((await rpc.call('getVariable', { sessionId: 's1', identifier: 'n' })).version, 2n);

  // With the right expected_version it goes through.
  const ok = await rpc.call('rollbackVariable', { sessionId: 's1', identifier: 'n', targetVersion: 0n, expectedVersion: 2n });
  t.is(ok.version, 3n);
  t.deepEqual(ok.value, intValue(1n));
});

test('RollbackVariable to a version that does not exist is NOT_FOUND and writes nothing', async (t) => {
  const { rpc } = await ledgerFor(t);
  const first = await rpc.call('registerVariable', { sessionId: 's1', name: 'x', type: INTEGER, initialValue: intValue(1n) });
  await rpc.call('setVariable', { sessionId: 's1', identifier: 'x', value: intValue(2n) });
  await rpc.call('setVariable', { sessionId: 's1', identifier: 'x', value: intValue(3n) });
  const digest = await rpc.call('getDigest', {});

  await expectStatus(t, rpc.call('rollbackVariable', { sessionId: 's1', identifier: 'x', targetVersion: 3n }), status.NOT_FOUND, /Version 3 of x not found/);
  await expectStatus(t, rpc.call('rollbackVariable', { sessionId: 's1', identifier: 'x', targetVersion: 1000n }), status.NOT_FOUND);
  await expectStatus(t, rpc.call('rollbackVariable', { sessionId: 's1', identifier: 'nope', targetVersion: 0n }), status.NOT_FOUND);
  t.deepEqual(await rpc.call('getDigest', {}), digest);

  // Versions of a deleted variable of the same name are not this variable's versions.
  await rpc.call('deleteVariable', { sessionId: 's1', identifier: 'x' });
  const second = await rpc.call('registerVariable', { sessionId: 's1', name: 'x', type: INTEGER, initialValue: intValue(100n) });
  t.not(second.id, first.id);
  const afterReregister = await rpc.call('getDigest', {});
  await expectStatus(t, rpc.call('rollbackVariable', { sessionId: 's1', identifier: 'x', targetVersion: 1n }), status.NOT_FOUND);
  await expectStatus(t, rpc.call('rollbackVariable', { sessionId: 's1', identifier: first.id, targetVersion: 0n }), status.NOT_FOUND);
  t.deepEqual(await rpc.call('getDigest', {}), afterReregister);
  const own = await rpc.call('rollbackVariable', { sessionId: 's1', identifier: 'x', targetVersion: 0n });
  t.deepEqual(own.value, intValue(100n));
  t.is(own.version, 1n);
});

interface RoundTripCase {
  readonly type: VariableType;
  readonly constraints?: Record<string, unknown>;
  readonly values: readonly DeepPartial<Value>[];
}

// The first value is registered; rollbacks to each version must give back exactly what was stored.
const ROUND_TRIPS: Record<string, RoundTripCase> = {
  integer: {
    type: INTEGER,
    values: [intValue(2n ** 63n - 1n), intValue(-(2n ** 63n)), intValue(0n), intValue(9_007_199_254_740_993n)],
  },
  float: {
    type: FLOAT,
    values: [floatValue(0.1 + 0.2), floatValue(-0), floatValue(Number.NaN), floatValue(-Infinity), floatValue(5e-324), floatValue(Number.MAX_VALUE)],
  },
  string: {
    type: VariableType.VARIABLE_TYPE_STRING,
    values: [stringValue('héllo 🌍\n"quoted"\\'), stringValue(''), stringValue('\u0000nul'), stringValue('plain')],
  },
  embedding: {
    type: VariableType.VARIABLE_TYPE_EMBEDDING,
    constraints: { dimensions: 3 },
    values: [vectorValue([0.1, -2.5e-300, 1e300]), vectorValue([1, 2, 3]), vectorValue([Math.PI, Math.E, -1 / 3])],
  },
  tensor: {
    type: VariableType.VARIABLE_TYPE_TENSOR,
    constraints: { shape: [2, 3] },
    values: [
      tensorValue([2, 3], [1.5, -2.25, 1e-10, 0, 7, 1 / 3], 'float32'),
      tensorValue([2, 3], [1, 2, 3, 4, 5, 6], 'int32'),
      tensorValue([2, 3], [0.1, 0.2, 0.3, 0.4, 0.5, 0.6], 'float64'),
    ],
  },
};

for (const [name, { type, constraints, values }] of Object.entries(ROUND_TRIPS)) {
  test(`rollback of ${name} values round-trips exactly`, async (t) => {
    const { rpc } = await ledgerFor(t);
    const [initial, ...rest] = values;
    const registered = await rpc.call('registerVariable', { sessionId: 's1', name: 'v', type, initialValue: initial, constraints: constraints ?? {} });
    const stored: (Value | undefined)[] = [registered.value];
    for (const value of rest) stored.push((await rpc.call('setVariable', { sessionId: 's1', identifier: 'v', value })).value);
    // What the server stored is what was sent (tensor dtype and all).
    t.deepEqual(stored, values as Value[]);

    // Roll back to every version, oldest first, then back to the newest rollback.
    let version = BigInt(values.length - 1);
    for (let target = 0; target < values.length; target++) {
      const rolled = await rpc.call('rollbackVariable', { sessionId: 's1', identifier: 'v', targetVersion: BigInt(target) });
      version++;
      t.is(rolled.version, version);
      t.deepEqual(rolled.value, stored[target], `rollback to ${target}`);
      t.deepEqual((await rpc.call('getVariable', { sessionId: 's1', identifier: 'v' })).value, stored[target]);
      const [entry] = (await rpc.call('getHistory', { sessionId: 's1', identifier: 'v', limit: 1 })).entries;
      t.deepEqual(entry?.value, stored[target]);
    }
    // A rollback to a rolled-back version gives the same value again.
    const last = await rpc.call('rollbackVariable', { sessionId: 's1', identifier: 'v', targetVersion: BigInt(values.length) });
    t.deepEqual(last.value, stored[0]);
  });
}

test('a watcher sees a rollback as ROLLED_BACK with the previous value and the rollback metadata', async (t) => {
  const ledger = await ledgerFor(t);
  const { rpc } = ledger;
  await rpc.call('registerVariable', { sessionId: 's1', name: 'x', type: INTEGER, initialValue: intValue(10n) });
  await rpc.call('registerVariable', { sessionId: 's1', name: 'other', type: INTEGER, initialValue: intValue(0n) });
  await rpc.call('setVariable', { sessionId: 's1', identifier: 'x', value: intValue(20n) });
  await rpc.call('setVariable', { sessionId: 's1', identifier: 'x', value: intValue(30n) });
  // Start just after the head: the rollback is delivered whether it lands before or after the watch is live.
  const { revision: head } = await rpc.call('getDigest', {});
  const watch = openWatch(t, ledger, { sessionId: 's1', identifiers: ['x'], startRevision: head + 1n });

  const rolled = await rpc.call('rollbackVariable', { sessionId: 's1', identifier: 'x', targetVersion: 0n, metadata: { reason: 'revert' } }, { actor: 'eve' });
  const message = await nextWithEvents(watch);
  t.is(message.revision, rolled.modifiedRevision);
  t.is(message.events.length, 1);
  const [event] = message.events;
  t.is(kindName(event), 'WATCH_EVENT_KIND_ROLLED_BACK');
  t.is(event?.kind, WatchEventKind.WATCH_EVENT_KIND_ROLLED_BACK);
  t.deepEqual(event?.variable, rolled);
  t.deepEqual(event?.previousValue, intValue(30n));
  t.is(event?.previousVersion, 2n);
  t.is(event?.revision, rolled.modifiedRevision);
  t.is(event?.actor, 'eve');
  t.deepEqual(event?.metadata, { reason: 'revert', rolled_back_from: '2', rolled_back_to: '0' });

  // A replay from the log reports the same event.
  const replay = openWatch(t, ledger, { sessionId: 's1', identifiers: ['x'], startRevision: rolled.modifiedRevision });
  t.deepEqual((await nextWithEvents(replay)).events, message.events);
});
