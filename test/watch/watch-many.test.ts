import test from 'ava';
import { LedgerRpc } from '../../src/client/ledger-rpc.js';
import { VariableType, WatchEventKind } from '../../src/gen/varledger/v1/ledger.js';
import { WatchReader } from '../helpers/watch-reader.js';
import { ledgerFor, until } from '../helpers/watch-helpers.js';

const WATCHERS = 1000;
const CHANNELS = 10;
const float = (floatValue: number) => ({ kind: { $case: 'floatValue' as const, floatValue } });

test('1,000 watchers on one server each get the update once, and all are released on cancel', async (t) => {
  const ledger = await ledgerFor(t);
  await ledger.rpc.call('registerVariable', { sessionId: 's1', name: 'x', type: VariableType.VARIABLE_TYPE_FLOAT, initialValue: float(0) });
  // Separate channels, as separate workers would have (grpc-js would otherwise share one connection).
  const channels = Array.from({ length: CHANNELS }, () => new LedgerRpc(ledger.address, { 'grpc.use_local_subchannel_pool': 1 }));
  t.teardown(() => channels.forEach((c) => c.close()));
  const readers = Array.from(
    { length: WATCHERS },
    (_, i) => new WatchReader((channels[i % CHANNELS] as LedgerRpc).watch({ sessionId: 's1', identifiers: ['x'], includeInitial: true })),
  );
  t.teardown(() => readers.forEach((r) => r.cancel()));

  // Every watcher is subscribed once its initial snapshot arrives.
  const initial = await Promise.all(readers.map((r) => r.next()));
  t.true(initial.every((m) => m.events[0]?.kind === WatchEventKind.WATCH_EVENT_KIND_INITIAL));
  t.is(ledger.server.watchHub.size, WATCHERS);

  const set = await ledger.rpc.call('setVariable', { sessionId: 's1', identifier: 'x', value: float(1) });
  const updates = await Promise.all(readers.map((r) => r.next()));
  for (const update of updates) {
    t.is(update.events.length, 1);
    t.is(update.revision, set.modifiedRevision);
  }

  readers.forEach((r) => r.cancel());
  await until(() => ledger.server.watchHub.size === 0, 'every watcher released');
  t.false(ledger.server.watchHub.hasTimer);
});
