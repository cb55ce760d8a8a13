/**
 * Writes by another process on the same database file reach watchers of the
 * server quickly (it polls SQLite's data_version every `externalPollMs`).
 * The other process here is a second store and service in this process: a
 * separate SQLite connection, which is what SQLite sees of another process.
 */
import test from 'ava';
import { VariableType } from '../../src/gen/varledger/v1/ledger.js';
import { parseSessionId } from '../../src/domain/index.js';
import { LedgerService } from '../../src/service/ledger-service.js';
import { SqliteEventStore } from '../../src/store/sqlite-event-store.js';
import { SqliteLog } from '../../src/store/sqlite-log.js';
import { intValue } from '../helpers/grpc-expect.js';
import { startLedger } from '../helpers/harness.js';
import { intOf, kindName, until } from '../helpers/watch-helpers.js';
import { WatchReader } from '../helpers/watch-reader.js';

test('each write by another connection to the same file reaches a watcher, in order, with its previous value', async (t) => {
  const ledger = await startLedger();
  t.teardown(() => ledger.stop());
  const { rpc, server, clock, dataPath } = ledger;
  await rpc.call('registerVariable', { sessionId: 's1', name: 'x', type: VariableType.VARIABLE_TYPE_INTEGER, initialValue: intValue(0n) });

  let suffix = 0;
  const other = await LedgerService.open({
    store: new SqliteLog(new SqliteEventStore(dataPath)),
    clock,
    newIdSuffix: () => `ext${++suffix}`,
    newSessionId: () => 'unused',
  });
  t.teardown(() => other.close());

  const reader = new WatchReader(rpc.watch({ sessionId: 's1', includeInitial: true }));
  t.teardown(() => reader.cancel());
  await reader.next();
  await until(() => server.watchHub.size === 1, 'watcher subscribed');

  const sessionId = parseSessionId('s1');
  const latencies: number[] = [];
  for (let i = 1; i <= 5; i++) {
    const written = await other.set({ sessionId, identifier: 'x', value: { kind: 'integer', value: BigInt(i) }, metadata: {} }, 'worker-2');
    const start = performance.now();
    const message = await reader.next();
    latencies.push(performance.now() - start);
    t.deepEqual(
      message.events.map((e) => [kindName(e), e.revision, intOf(e.previousValue), intOf(e.variable?.value), e.actor]),
      [['WATCH_EVENT_KIND_SET', BigInt(written.modifiedRevision), i - 1, i, 'worker-2']],
    );
  }
  t.log(`latencies (ms): ${latencies.map((ms) => ms.toFixed(1)).join(', ')}`);
  // How fast is a figure for `npm run bench` (watch delivery), not an assertion: this machine is shared.

  // The server's own state includes the other process's writes, and its own writes follow them.
  const mine = await rpc.call('setVariable', { sessionId: 's1', identifier: 'x', value: intValue(6n) });
  t.is(mine.version, 6n);
  const next = await reader.next();
  t.deepEqual(next.events.map((e) => [e.revision, intOf(e.previousValue)]), [[mine.modifiedRevision, 5]]);
});

test('a large burst of commits by another connection reaches watchers whole: no commit split across messages', async (t) => {
  const ledger = await startLedger();
  t.teardown(() => ledger.stop());
  const { rpc, clock, dataPath } = ledger;
  await rpc.call('registerVariable', { sessionId: 's1', name: 'x', type: VariableType.VARIABLE_TYPE_INTEGER, initialValue: intValue(0n) });
  const other = await LedgerService.open({ store: new SqliteLog(new SqliteEventStore(dataPath)), clock, newIdSuffix: () => 'ext', newSessionId: () => 'unused' });
  t.teardown(() => other.close());
  const reader = new WatchReader(rpc.watch({ sessionId: 's1', identifiers: ['x'], includeInitial: true }));
  t.teardown(() => reader.cancel());
  await reader.next();

  // Written back to back, before the server polls: more events than the server folds in one read
  // batch (10,000), with a commit straddling that boundary.
  const sessionId = parseSessionId('s1');
  const sizes = [...Array<number>(99).fill(101), 10, 7];
  let value = 0;
  const commits: number[] = [];
  for (const size of sizes) {
    const operations = Array.from({ length: size }, () => ({
      kind: 'set_variable' as const,
      sessionId,
      identifier: 'x',
      value: { kind: 'integer' as const, value: BigInt(++value) },
      metadata: {},
    }));
    commits.push((await other.commit({ sessionId, atomic: true, operations }, 'bulk')).revision);
  }
  const lastRevision = BigInt(commits[commits.length - 1] ?? 0);
  const commitEnds = new Set(commits.map((r) => BigInt(r)));

  const events = [];
  for (;;) {
    const message = await reader.next();
    if (message.events.length > 0) {
      // Every message ends where a commit ends, and says so in its revision.
      t.true(commitEnds.has(message.revision), `message at ${message.revision} ends inside a commit`);
      t.is(message.events[message.events.length - 1]?.revision, message.revision);
      events.push(...message.events);
    }
    if (message.revision >= lastRevision) break;
  }
  t.is(events.length, value);
  t.deepEqual(
    events.map((e) => e.variable?.value?.kind?.$case === 'integerValue' && e.variable.value.kind.integerValue),
    Array.from({ length: value }, (_, i) => BigInt(i + 1)),
  );
  // Events of one commit share its commit id, which is the commit's first revision.
  const sizesSeen = new Map<bigint, number>();
  for (const e of events) sizesSeen.set(e.commitId, (sizesSeen.get(e.commitId) ?? 0) + 1);
  t.deepEqual([...sizesSeen.values()], sizes);
});

test('a watch from a revision another process wrote, before this server noticed it, starts there instead of being refused', async (t) => {
  // externalPollMs 0: this server never polls for others' commits, so only the watch's own catch-up can find them.
  const ledger = await startLedger({ externalPollMs: 0 });
  t.teardown(() => ledger.stop());
  const { rpc, server, clock, dataPath } = ledger;
  await rpc.call('registerVariable', { sessionId: 's1', name: 'x', type: VariableType.VARIABLE_TYPE_INTEGER, initialValue: intValue(0n) });

  const other = await LedgerService.open({
    store: new SqliteLog(new SqliteEventStore(dataPath), { pollMs: 0 }),
    clock,
    newIdSuffix: () => 'ext',
    newSessionId: () => 'unused',
  });
  t.teardown(() => other.close());
  const sessionId = parseSessionId('s1');
  const revisions: number[] = [];
  for (const i of [1n, 2n, 3n]) {
    revisions.push((await other.set({ sessionId, identifier: 'x', value: { kind: 'integer', value: i }, metadata: {} }, 'worker-2')).modifiedRevision);
  }
  const from = revisions[1] as number;
  // More than one revision ahead of what the server has applied (one ahead is simply "the next event").
  t.true(from > server.service.head + 1, 'the server has not seen the other process commits yet');

  // A client that wrote through the other process watches here from one of its writes on.
  const reader = new WatchReader(rpc.watch({ sessionId: 's1', identifiers: ['x'], startRevision: BigInt(from) }));
  t.teardown(() => reader.cancel());
  const seen: [number | undefined, number | undefined][] = [];
  while (seen.length < 2) {
    const message = await reader.next();
    for (const e of message.events) seen.push([intOf(e.previousValue), intOf(e.variable?.value)]);
  }
  t.deepEqual(seen, [
    [1, 2],
    [2, 3],
  ]);
});
