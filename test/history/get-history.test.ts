/** GetHistory over gRPC: every version of a variable, newest first, pageable. */
import { status } from '@grpc/grpc-js';
import test from 'ava';
import { HistoryKind, VariableType, type HistoryEntry } from '../../src/gen/varledger/v1/ledger.js';
import { expectStatus, floatValue, intValue, stringValue } from '../helpers/grpc-expect.js';
import { setOp } from '../helpers/watch-helpers.js';
import { ledgerFor } from './history-helpers.js';

const FLOAT = VariableType.VARIABLE_TYPE_FLOAT;
const INTEGER = VariableType.VARIABLE_TYPE_INTEGER;
const STRING = VariableType.VARIABLE_TYPE_STRING;

const versions = (entries: readonly HistoryEntry[]): bigint[] => entries.map((e) => e.version);

test('GetHistory lists every version newest first with value, revision, time, actor, metadata and kind', async (t) => {
  const ledger = await ledgerFor(t);
  const { rpc, clock } = ledger;
  const registered = await rpc.call(
    'registerVariable',
    { sessionId: 's1', name: 'temperature', type: FLOAT, initialValue: floatValue(0.5), metadata: { owner: 'team-a' } },
    { actor: 'alice' },
  );
  const t0 = clock.now();
  clock.advance(1000);
  const v1 = await rpc.call(
    'setVariable',
    { sessionId: 's1', identifier: 'temperature', value: floatValue(0.7), metadata: { reason: 'too cold' } },
    { actor: 'bob' },
  );
  clock.advance(1000);
  // A write to another variable in between must not appear in this history.
  await rpc.call('registerVariable', { sessionId: 's1', name: 'other', type: FLOAT, initialValue: floatValue(1) }, { actor: 'zed' });
  clock.advance(1000);
  const v2 = await rpc.call('setVariable', { sessionId: 's1', identifier: registered.id, value: floatValue(0.9) }, { actor: 'carol' });

  const { entries } = await rpc.call('getHistory', { sessionId: 's1', identifier: 'temperature' });
  t.deepEqual(entries, [
    {
      version: 2n,
      value: floatValue(0.9),
      revision: v2.modifiedRevision,
      time: new Date(t0 + 3000),
      actor: 'carol',
      metadata: {},
      kind: HistoryKind.HISTORY_KIND_SET,
    },
    {
      version: 1n,
      value: floatValue(0.7),
      revision: v1.modifiedRevision,
      time: new Date(t0 + 1000),
      actor: 'bob',
      metadata: { reason: 'too cold' },
      kind: HistoryKind.HISTORY_KIND_SET,
    },
    {
      version: 0n,
      value: floatValue(0.5),
      revision: registered.createdRevision,
      time: new Date(t0),
      actor: 'alice',
      metadata: { owner: 'team-a' },
      kind: HistoryKind.HISTORY_KIND_REGISTERED,
    },
  ] as HistoryEntry[]);
  // By id, the same history.
  t.deepEqual((await rpc.call('getHistory', { sessionId: 's1', identifier: registered.id })).entries, entries);
  // Each entry's value is what an at_revision read at its revision gives.
  for (const entry of entries) {
    const past = await rpc.call('getVariable', { sessionId: 's1', identifier: 'temperature', atRevision: entry.revision });
    t.deepEqual(past.value, entry.value);
    t.is(past.version, entry.version);
    t.is(past.modifiedBy, entry.actor);
  }
});

test('GetHistory pages backwards with limit and before_version, without gaps or repeats', async (t) => {
  const { rpc } = await ledgerFor(t);
  await rpc.call('registerVariable', { sessionId: 's1', name: 'n', type: INTEGER, initialValue: intValue(0n) });
  for (let i = 1; i <= 10; i++) {
    await rpc.call('setVariable', { sessionId: 's1', identifier: 'n', value: intValue(BigInt(i * 10)) });
  }
  const all = (await rpc.call('getHistory', { sessionId: 's1', identifier: 'n' })).entries;
  t.deepEqual(versions(all), [10n, 9n, 8n, 7n, 6n, 5n, 4n, 3n, 2n, 1n, 0n]);
  t.deepEqual(
    all.map((e) => e.value),
    [10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0].map((i) => intValue(BigInt(i * 10))),
  );

  t.deepEqual(versions((await rpc.call('getHistory', { sessionId: 's1', identifier: 'n', limit: 3 })).entries), [10n, 9n, 8n]);
  t.deepEqual(versions((await rpc.call('getHistory', { sessionId: 's1', identifier: 'n', beforeVersion: 4n })).entries), [3n, 2n, 1n, 0n]);
  t.deepEqual(versions((await rpc.call('getHistory', { sessionId: 's1', identifier: 'n', limit: 2, beforeVersion: 4n })).entries), [3n, 2n]);
  t.deepEqual((await rpc.call('getHistory', { sessionId: 's1', identifier: 'n', beforeVersion: 1n })).entries, all.slice(-1));
  // before_version above the newest: everything.
  t.deepEqual((await rpc.call('getHistory', { sessionId: 's1', identifier: 'n', beforeVersion: 99n })).entries, all);

  // Walk pages of 3 from the newest; together they are the whole history.
  const pages: HistoryEntry[][] = [];
  let before = 0n;
  for (;;) {
    const page = (await rpc.call('getHistory', { sessionId: 's1', identifier: 'n', limit: 3, beforeVersion: before })).entries;
    if (page.length === 0) break;
    pages.push(page);
    const last = page[page.length - 1]!;
    if (last.version === 0n) break;
    before = last.version;
  }
  t.deepEqual(pages.map((p) => p.length), [3, 3, 3, 2]);
  t.deepEqual(pages.flat(), all);
});

test('GetHistory returns at most 100 entries by default', async (t) => {
  const { rpc } = await ledgerFor(t);
  await rpc.call('registerVariable', { sessionId: 's1', name: 'n', type: INTEGER, initialValue: intValue(0n) });
  // One commit writing 150 versions of the same variable.
  const commit = await rpc.call('commit', {
    sessionId: 's1',
    atomic: true,
    operations: Array.from({ length: 150 }, (_, i) => setOp('n', intValue(BigInt(i + 1)))),
  });
  t.true(commit.results.every((r) => r.ok));
  const { entries } = await rpc.call('getHistory', { sessionId: 's1', identifier: 'n' });
  t.is(entries.length, 100);
  t.is(entries[0]?.version, 150n);
  t.is(entries[99]?.version, 51n);
  // Each version is its own event; within the commit they follow each other.
  t.true(entries.every((e, i) => i === 0 || e.revision === entries[i - 1]!.revision - 1n));
  const rest = await rpc.call('getHistory', { sessionId: 's1', identifier: 'n', limit: 1000, beforeVersion: 51n });
  t.is(rest.entries.length, 51);
  t.is(rest.entries[50]?.version, 0n);
});

test('GetHistory of an unknown variable or session is NOT_FOUND', async (t) => {
  const { rpc } = await ledgerFor(t);
  await rpc.call('registerVariable', { sessionId: 's1', name: 'x', type: FLOAT, initialValue: floatValue(1) });
  await expectStatus(t, rpc.call('getHistory', { sessionId: 's1', identifier: 'nope' }), status.NOT_FOUND, /nope/);
  await expectStatus(t, rpc.call('getHistory', { sessionId: 's1', identifier: 'var_nope_1' }), status.NOT_FOUND);
  await expectStatus(t, rpc.call('getHistory', { sessionId: 'no-such-session', identifier: 'x' }), status.NOT_FOUND);
  // A variable of another session is not visible either.
  await rpc.call('registerVariable', { sessionId: 's2', name: 'y', type: FLOAT, initialValue: floatValue(1) });
  await expectStatus(t, rpc.call('getHistory', { sessionId: 's1', identifier: 'y' }), status.NOT_FOUND);
});

test('a deleted variable re-registered under the same name has its own history', async (t) => {
  const { rpc } = await ledgerFor(t);
  const first = await rpc.call('registerVariable', { sessionId: 's1', name: 'x', type: FLOAT, initialValue: floatValue(1) });
  await rpc.call('setVariable', { sessionId: 's1', identifier: 'x', value: floatValue(2) });
  await rpc.call('setVariable', { sessionId: 's1', identifier: 'x', value: floatValue(3) });
  await rpc.call('deleteVariable', { sessionId: 's1', identifier: 'x' });
  await expectStatus(t, rpc.call('getHistory', { sessionId: 's1', identifier: 'x' }), status.NOT_FOUND);

  const second = await rpc.call('registerVariable', { sessionId: 's1', name: 'x', type: STRING, initialValue: stringValue('fresh') });
  t.not(second.id, first.id);
  await rpc.call('setVariable', { sessionId: 's1', identifier: 'x', value: stringValue('newer') }, { actor: 'dora' });

  const { entries } = await rpc.call('getHistory', { sessionId: 's1', identifier: 'x' });
  t.deepEqual(versions(entries), [1n, 0n]);
  t.deepEqual(
    entries.map((e) => e.value),
    [stringValue('newer'), stringValue('fresh')],
  );
  t.deepEqual(
    entries.map((e) => e.kind),
    [HistoryKind.HISTORY_KIND_SET, HistoryKind.HISTORY_KIND_REGISTERED],
  );
  t.true(entries.every((e) => e.revision >= second.createdRevision));
  t.deepEqual((await rpc.call('getHistory', { sessionId: 's1', identifier: second.id })).entries, entries);
  // The first incarnation's id no longer names a live variable.
  await expectStatus(t, rpc.call('getHistory', { sessionId: 's1', identifier: first.id }), status.NOT_FOUND);
});
