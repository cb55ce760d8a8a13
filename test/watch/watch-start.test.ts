/**
 * WatchVariables starting points: a consistent initial snapshot while writes
 * race with the subscription, replay from start_revision, progress messages,
 * and the errors a bad starting point gets.
 */
import { status } from '@grpc/grpc-js';
import test, { type ExecutionContext } from 'ava';
import { VariableType, type WatchResponse } from '../../src/gen/varledger/v1/ledger.js';
import { codeName, intValue } from '../helpers/grpc-expect.js';
import { intOf, kindName, ledgerFor, openWatch, readThrough, type WireEvent } from '../helpers/watch-helpers.js';
import { WatchReader } from '../helpers/watch-reader.js';

const INTEGER = VariableType.VARIABLE_TYPE_INTEGER;

async function expectWatchError(t: ExecutionContext, reader: WatchReader, code: status, message?: RegExp) {
  const error = await reader.done;
  t.truthy(error, 'the stream failed');
  t.is(codeName(error?.code ?? -1), codeName(code), error?.details);
  if (message) t.regex(error?.details ?? '', message);
}

const flatten = (messages: readonly WatchResponse[]): WireEvent[] => messages.flatMap((m) => m.events);

test('include_initial while writes race: snapshot at R, then exactly the writes after R, in order', async (t) => {
  const ledger = await ledgerFor(t);
  const { rpc } = ledger;
  for (const name of ['a', 'b']) await rpc.call('registerVariable', { sessionId: 's1', name, type: INTEGER, initialValue: intValue(0n) });

  const write = (i: number) =>
    rpc.call('setVariable', { sessionId: 's1', identifier: i % 2 === 0 ? 'a' : 'b', value: intValue(BigInt(i)) });
  const writes = Array.from({ length: 150 }, (_, i) => write(i + 1));
  const reader = openWatch(t, ledger, { sessionId: 's1', includeInitial: true });
  writes.push(...Array.from({ length: 150 }, (_, i) => write(i + 151)));
  const replies = await Promise.all(writes);
  const lastRevision = replies.reduce((max, r) => (r.modifiedRevision > max ? r.modifiedRevision : max), 0n);

  const [initial, ...rest] = await readThrough(reader, lastRevision);
  if (!initial) throw new Error('no initial message');
  const R = initial.revision;
  t.log(`snapshot at ${R}, writes up to ${lastRevision}`);
  t.true(initial.events.every((e) => kindName(e) === 'WATCH_EVENT_KIND_INITIAL'));
  // The snapshot is the state at R: each variable's newest write at or below R.
  const stateAt = (name: string) => {
    const at = replies.filter((r) => r.name === name && r.modifiedRevision <= R).sort((x, y) => Number(x.modifiedRevision - y.modifiedRevision));
    return intOf(at[at.length - 1]?.value) ?? 0;
  };
  t.deepEqual(
    initial.events.map((e) => [e.variable?.name, intOf(e.variable?.value)]),
    [
      ['a', stateAt('a')],
      ['b', stateAt('b')],
    ],
  );

  const events = flatten(rest);
  const revisions = events.map((e) => e.revision);
  t.true(revisions.every((r) => r > R), 'every later event is after the snapshot');
  t.true(revisions.every((r, i) => i === 0 || r > (revisions[i - 1] ?? 0n)), 'strictly increasing, so no duplicate');
  const expected = replies.filter((r) => r.modifiedRevision > R).map((r) => r.modifiedRevision).sort((x, y) => Number(x - y));
  t.deepEqual(revisions, expected, 'no gap: exactly the writes after R');
  t.true(rest.every((m) => m.revision === m.events[m.events.length - 1]?.revision));

  // Folding the events over the snapshot gives the final state.
  const folded = new Map(initial.events.map((e) => [e.variable?.name, intOf(e.variable?.value)]));
  for (const e of events) {
    t.is(intOf(e.previousValue), folded.get(e.variable?.name), `previous value at revision ${e.revision}`);
    folded.set(e.variable?.name, intOf(e.variable?.value));
  }
  const final = await rpc.call('listVariables', { sessionId: 's1' });
  t.deepEqual([...folded], final.variables.map((v) => [v.name, intOf(v.value)]));
});

test('start_revision replays matching events from the log, inclusive, then continues live', async (t) => {
  const ledger = await ledgerFor(t);
  const { rpc } = ledger;
  const x = await rpc.call('registerVariable', { sessionId: 's1', name: 'x', type: INTEGER, initialValue: intValue(0n) });
  await rpc.call('registerVariable', { sessionId: 'other', name: 'x', type: INTEGER, initialValue: intValue(0n) });
  await rpc.call('registerVariable', { sessionId: 's1', name: 'noise', type: INTEGER, initialValue: intValue(0n) });
  const revisions: bigint[] = [];
  for (let i = 1; i <= 5; i++) {
    revisions.push((await rpc.call('setVariable', { sessionId: 's1', identifier: 'x', value: intValue(BigInt(i)) })).modifiedRevision);
    await rpc.call('setVariable', { sessionId: 's1', identifier: 'noise', value: intValue(BigInt(i)) });
    await rpc.call('setVariable', { sessionId: 'other', identifier: 'x', value: intValue(BigInt(-i)) });
  }

  const reader = openWatch(t, ledger, { sessionId: 's1', identifiers: ['x'], startRevision: revisions[2] });
  const replayed = await reader.events(3);
  t.deepEqual(
    replayed.map((e) => [kindName(e), e.revision, intOf(e.previousValue), intOf(e.variable?.value), e.variable?.sessionId]),
    [
      ['WATCH_EVENT_KIND_SET', revisions[2], 2, 3, 's1'],
      ['WATCH_EVENT_KIND_SET', revisions[3], 3, 4, 's1'],
      ['WATCH_EVENT_KIND_SET', revisions[4], 4, 5, 's1'],
    ],
  );

  await rpc.call('setVariable', { sessionId: 's1', identifier: 'noise', value: intValue(99n) });
  const live = await rpc.call('setVariable', { sessionId: 's1', identifier: 'x', value: intValue(6n) });
  const next = await reader.next();
  t.deepEqual(
    next.events.map((e) => [e.revision, intOf(e.previousValue), intOf(e.variable?.value)]),
    [[live.modifiedRevision, 5, 6]],
  );

  // From the very first revision the registration is replayed too.
  const fromStart = openWatch(t, ledger, { sessionId: 's1', identifiers: ['x'], startRevision: 1n });
  const all = await fromStart.events(7);
  t.deepEqual(all.map(kindName), ['WATCH_EVENT_KIND_REGISTERED', ...Array(6).fill('WATCH_EVENT_KIND_SET')]);
  t.is(all[0]?.revision, x.createdRevision);
  t.deepEqual(all.map((e) => intOf(e.variable?.value)), [0, 1, 2, 3, 4, 5, 6]);
});

test('start_revision with include_initial sends the state before that revision, then the replay', async (t) => {
  const ledger = await ledgerFor(t);
  const { rpc } = ledger;
  await rpc.call('registerVariable', { sessionId: 's1', name: 'x', type: INTEGER, initialValue: intValue(0n) });
  const one = await rpc.call('setVariable', { sessionId: 's1', identifier: 'x', value: intValue(1n) });
  const two = await rpc.call('setVariable', { sessionId: 's1', identifier: 'x', value: intValue(2n) });
  const reader = openWatch(t, ledger, { sessionId: 's1', identifiers: ['x'], startRevision: two.modifiedRevision, includeInitial: true });
  const initial = await reader.next();
  t.is(initial.revision, two.modifiedRevision - 1n);
  t.deepEqual(initial.events.map((e) => [kindName(e), intOf(e.variable?.value)]), [['WATCH_EVENT_KIND_INITIAL', 1]]);
  t.is(one.modifiedRevision, initial.revision);
  const replay = await reader.next();
  t.deepEqual(replay.events.map((e) => [e.revision, intOf(e.variable?.value)]), [[two.modifiedRevision, 2]]);
});

test('start_revision at head + 1 is accepted and delivers only later writes', async (t) => {
  const ledger = await ledgerFor(t);
  const { rpc } = ledger;
  await rpc.call('registerVariable', { sessionId: 's1', name: 'x', type: INTEGER, initialValue: intValue(0n) });
  const reader = openWatch(t, ledger, { sessionId: 's1', startRevision: BigInt(ledger.server.service.head + 1) });
  const written = await rpc.call('setVariable', { sessionId: 's1', identifier: 'x', value: intValue(1n) });
  const message = await reader.next();
  t.deepEqual(message.events.map((e) => e.revision), [written.modifiedRevision]);
});

test('start_revision beyond head + 1 fails with OUT_OF_RANGE', async (t) => {
  const ledger = await ledgerFor(t);
  await ledger.rpc.call('registerVariable', { sessionId: 's1', name: 'x', type: INTEGER, initialValue: intValue(0n) });
  const reader = openWatch(t, ledger, { sessionId: 's1', startRevision: BigInt(ledger.server.service.head + 2) });
  await expectWatchError(t, reader, status.OUT_OF_RANGE);
  t.is(ledger.server.watchHub.size, 0);
});

test('watching an unknown session fails with NOT_FOUND, with or without start_revision', async (t) => {
  const ledger = await ledgerFor(t);
  await ledger.rpc.call('registerVariable', { sessionId: 's1', name: 'x', type: INTEGER, initialValue: intValue(0n) });
  await expectWatchError(t, openWatch(t, ledger, { sessionId: 'nope' }), status.NOT_FOUND, /nope/);
  await expectWatchError(t, openWatch(t, ledger, { sessionId: 'nope', startRevision: 1n }), status.NOT_FOUND, /nope/);
  t.is(ledger.server.watchHub.size, 0);
});

test('a closed session: FAILED_PRECONDITION without start_revision; replay up to SESSION_CLOSED with one', async (t) => {
  const ledger = await ledgerFor(t);
  const { rpc } = ledger;
  await rpc.call('registerVariable', { sessionId: 's1', name: 'x', type: INTEGER, initialValue: intValue(0n) });
  await rpc.call('setVariable', { sessionId: 's1', identifier: 'x', value: intValue(1n) });
  await rpc.call('closeSession', { sessionId: 's1' });
  await expectWatchError(t, openWatch(t, ledger, { sessionId: 's1' }), status.FAILED_PRECONDITION, /closed/i);
  await expectWatchError(t, openWatch(t, ledger, { sessionId: 's1', includeInitial: true }), status.FAILED_PRECONDITION);

  const replay = openWatch(t, ledger, { sessionId: 's1', startRevision: 1n });
  const events = await replay.events(3);
  t.deepEqual(events.map(kindName), ['WATCH_EVENT_KIND_REGISTERED', 'WATCH_EVENT_KIND_SET', 'WATCH_EVENT_KIND_SESSION_CLOSED']);
  t.is(await replay.done, undefined, 'ends cleanly after the replayed close');
});

test('an idle watcher gets progress messages: no events, the current head revision', async (t) => {
  const ledger = await ledgerFor(t, { watchProgressMs: 50 });
  const { rpc } = ledger;
  await rpc.call('registerVariable', { sessionId: 's1', name: 'x', type: INTEGER, initialValue: intValue(0n) });
  await rpc.call('registerVariable', { sessionId: 's1', name: 'y', type: INTEGER, initialValue: intValue(0n) });
  const reader = openWatch(t, ledger, { sessionId: 's1', identifiers: ['x'], includeInitial: true });
  const initial = await reader.next();
  t.is(initial.events.length, 1);

  // Writes that do not match move the head; progress reports it.
  await rpc.call('setVariable', { sessionId: 's1', identifier: 'y', value: intValue(1n) });
  await rpc.call('registerVariable', { sessionId: 'elsewhere', name: 'z', type: INTEGER, initialValue: intValue(0n) });
  const head = BigInt(ledger.server.service.head);
  let progress = await reader.next();
  while (progress.revision < head) {
    t.deepEqual(progress.events, []);
    progress = await reader.next();
  }
  t.deepEqual(progress.events, []);
  t.is(progress.revision, head);

  // A watcher resuming after a progress revision misses nothing.
  const written = await rpc.call('setVariable', { sessionId: 's1', identifier: 'x', value: intValue(5n) });
  const resumed = openWatch(t, ledger, { sessionId: 's1', identifiers: ['x'], startRevision: progress.revision + 1n });
  t.deepEqual((await resumed.next()).events.map((e) => e.revision), [written.modifiedRevision]);
});

test('watching a closed session from after its close fails with FAILED_PRECONDITION instead of hanging', async (t) => {
  const ledger = await ledgerFor(t);
  const { rpc } = ledger;
  await rpc.call('registerVariable', { sessionId: 's1', name: 'x', type: INTEGER, initialValue: intValue(0n) });
  const closed = await rpc.call('closeSession', { sessionId: 's1' });
  // A client that saw SESSION_CLOSED at revision N and resumes from N + 1.
  const reader = openWatch(t, ledger, { sessionId: 's1', startRevision: closed.modifiedRevision + 1n });
  await expectWatchError(t, reader, status.FAILED_PRECONDITION, /closed/i);
  t.is(ledger.server.watchHub.size, 0);
});
