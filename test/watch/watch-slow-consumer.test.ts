/**
 * A watcher whose client stops reading: writers and other watchers carry on,
 * the server falls back to the log for it, and once it reads again it gets
 * every update in order, none lost or repeated.
 */
import test, { type ExecutionContext } from 'ava';
import { VariableType, WatchEventKind, type DeepPartial, type Operation } from '../../src/gen/varledger/v1/ledger.js';
import { intValue } from '../helpers/grpc-expect.js';
import { startLedger } from '../helpers/harness.js';
import { intOf, setOp, until, type WireEvent } from '../helpers/watch-helpers.js';
import { WatchReader } from '../helpers/watch-reader.js';

const UPDATES = 3_000;
const PER_COMMIT = 100;
const IN_FLIGHT = 4;

/** Every update is one SET of `counter` to 1, 2, … UPDATES, versions alike, revisions consecutive. */
function checkAllUpdates(t: ExecutionContext, events: readonly WireEvent[], firstRevision: bigint, who: string) {
  t.is(events.length, UPDATES, `${who}: number of events`);
  const bad = events.findIndex(
    (e, i) =>
      intOf(e.variable?.value) !== i + 1 ||
      intOf(e.previousValue) !== i ||
      e.variable?.version !== BigInt(i + 1) ||
      e.revision !== firstRevision + BigInt(i),
  );
  t.is(bad, -1, `${who}: first event out of order, missing or repeated at index ${bad}`);
}

test('a paused watcher blocks nobody, stays bounded, and later receives every update', async (t) => {
  const ledger = await startLedger({ watchBufferBytes: 16 * 1024 });
  t.teardown(() => ledger.stop());
  const { rpc, server } = ledger;
  const registered = await rpc.call('registerVariable', {
    sessionId: 's1',
    name: 'counter',
    type: VariableType.VARIABLE_TYPE_INTEGER,
    initialValue: intValue(0n),
  });

  // Count log reads for this session made after the watchers subscribed: the fallback path.
  const store = server.file!;
  const readSessionAfter = store.readSessionAfter.bind(store);
  let logReads = 0;
  store.readSessionAfter = (...args) => {
    logReads++;
    return readSessionAfter(...args);
  };
  t.teardown(() => {
    store.readSessionAfter = readSessionAfter;
  });

  const slow = new WatchReader(rpc.watch({ sessionId: 's1', identifiers: ['counter'] }));
  slow.stream.pause();
  const fast = new WatchReader(rpc.watch({ sessionId: 's1', identifiers: ['counter'] }));
  t.teardown(() => slow.cancel());
  t.teardown(() => fast.cancel());
  await until(() => server.watchHub.size === 2, 'both watchers subscribed');
  logReads = 0;

  const fastEvents = fast.events(UPDATES);
  let next = 1;
  const writer = async () => {
    while (next <= UPDATES) {
      const operations: DeepPartial<Operation>[] = [];
      for (let i = 0; i < PER_COMMIT && next <= UPDATES; i++) operations.push(setOp('counter', intValue(BigInt(next++))));
      await rpc.call('commit', { sessionId: 's1', atomic: true, operations });
    }
  };
  // Writes finish while the slow client reads nothing: they were not blocked by it.
  await Promise.all(Array.from({ length: IN_FLIGHT }, writer));
  t.is(BigInt(server.service.head), registered.createdRevision + BigInt(UPDATES));
  checkAllUpdates(t, await fastEvents, registered.createdRevision + 1n, 'fast watcher');
  t.true(logReads > 0, 'the paused watcher overflowed its buffer and fell back to the log');

  slow.stream.resume();
  const slowEvents = await slow.events(UPDATES);
  checkAllUpdates(t, slowEvents, registered.createdRevision + 1n, 'slow watcher');
  // Caught up: it is live again and gets the next write at once.
  const live = await rpc.call('setVariable', { sessionId: 's1', identifier: 'counter', value: intValue(BigInt(UPDATES + 1)) });
  t.deepEqual((await slow.next()).events.map((e) => e.revision), [live.modifiedRevision]);
});

test('a watcher replaying a long history while writes continue turns live without gap or duplicate', async (t) => {
  const ledger = await startLedger({ watchBufferBytes: 4 * 1024 });
  t.teardown(() => ledger.stop());
  const { rpc } = ledger;
  const registered = await rpc.call('registerVariable', {
    sessionId: 's1',
    name: 'counter',
    type: VariableType.VARIABLE_TYPE_INTEGER,
    initialValue: intValue(0n),
  });
  await rpc.call('registerVariable', { sessionId: 's1', name: 'noise', type: VariableType.VARIABLE_TYPE_INTEGER, initialValue: intValue(0n) });
  const total = 1_500;
  let next = 1;
  const commitSome = (count: number) => {
    const operations: DeepPartial<Operation>[] = [];
    for (let i = 0; i < count && next <= total; i++) {
      operations.push(setOp('counter', intValue(BigInt(next++))));
      if (i % 7 === 0) operations.push(setOp('noise', intValue(BigInt(next))));
    }
    return rpc.call('commit', { sessionId: 's1', atomic: true, operations });
  };
  while (next <= 1_500) await commitSome(50);

  const reader = new WatchReader(rpc.watch({ sessionId: 's1', identifiers: ['counter'], startRevision: registered.createdRevision }));
  t.teardown(() => reader.cancel());
  const received = reader.events(total + 1);
  // Small commits race with the replay until every value is written.
  const writers = Array.from({ length: 3 }, async () => {
    while (next <= total) await commitSome(5);
  });
  await Promise.all(writers);
  const [first, ...events] = await received;
  t.is(first?.revision, registered.createdRevision);
  const values = events.map((e) => intOf(e.variable?.value));
  t.deepEqual(values, Array.from({ length: total }, (_, i) => i + 1));
  const revisions = events.map((e) => e.revision);
  t.true(revisions.every((r, i) => i === 0 || r > (revisions[i - 1] ?? 0n)), 'revisions strictly increase');
  t.true(events.every((e, i) => intOf(e.previousValue) === i), 'each previous value is the one before');
});

test('a paused watcher that fell behind still gets every update, then SESSION_CLOSED, then a clean end', async (t) => {
  const ledger = await startLedger({ watchBufferBytes: 4 * 1024 });
  t.teardown(() => ledger.stop());
  const { rpc, server } = ledger;
  const registered = await rpc.call('registerVariable', {
    sessionId: 's1',
    name: 'counter',
    type: VariableType.VARIABLE_TYPE_INTEGER,
    initialValue: intValue(0n),
  });
  const reader = new WatchReader(rpc.watch({ sessionId: 's1', identifiers: ['counter'] }));
  reader.stream.pause();
  t.teardown(() => reader.cancel());
  await until(() => server.watchHub.size === 1, 'watcher subscribed');

  const total = 1_500;
  for (let start = 1; start <= total; start += 100) {
    const operations = Array.from({ length: 100 }, (_, i) => setOp('counter', intValue(BigInt(start + i))));
    await rpc.call('commit', { sessionId: 's1', atomic: true, operations });
  }
  const closed = await rpc.call('closeSession', { sessionId: 's1' });

  reader.stream.resume();
  const events = await reader.events(total + 1);
  const updates = events.slice(0, total);
  t.true(updates.every((e, i) => intOf(e.variable?.value) === i + 1 && e.revision === registered.createdRevision + BigInt(i + 1)));
  t.deepEqual(events.slice(total).map((e) => [e.kind, e.revision]), [[WatchEventKind.WATCH_EVENT_KIND_SESSION_CLOSED, closed.modifiedRevision]]);
  t.is(await reader.done, undefined);
  await until(() => server.watchHub.size === 0, 'watcher released');
});
