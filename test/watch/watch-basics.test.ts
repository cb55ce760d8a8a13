import test from 'ava';
import { VariableType, WatchEventKind } from '../../src/gen/varledger/v1/ledger.js';
import { startLedger } from '../helpers/harness.js';
import { WatchReader } from '../helpers/watch-reader.js';

const float = (floatValue: number) => ({ kind: { $case: 'floatValue' as const, floatValue } });

test('a watcher gets the initial value, then each update with the previous value', async (t) => {
  const { rpc, stop } = await startLedger();
  t.teardown(() => stop());
  await rpc.call('registerVariable', { sessionId: 's1', name: 'temperature', type: VariableType.VARIABLE_TYPE_FLOAT, initialValue: float(0.5) });
  const reader = new WatchReader(rpc.watch({ sessionId: 's1', identifiers: ['temperature'], includeInitial: true }));
  t.teardown(() => reader.cancel());
  const initial = await reader.next();
  t.is(initial.events.length, 1);
  t.is(initial.events[0]?.kind, WatchEventKind.WATCH_EVENT_KIND_INITIAL);
  t.deepEqual(initial.events[0]?.variable?.value, float(0.5));

  await rpc.call('setVariable', { sessionId: 's1', identifier: 'temperature', value: float(0.8), metadata: { reason: 'r' } }, { actor: 'alice' });
  const update = await reader.next();
  const event = update.events[0];
  t.is(event?.kind, WatchEventKind.WATCH_EVENT_KIND_SET);
  t.deepEqual(event?.variable?.value, float(0.8));
  t.deepEqual(event?.previousValue, float(0.5));
  t.is(event?.actor, 'alice');
  t.deepEqual(event?.metadata, { reason: 'r' });
  t.is(update.revision, event?.revision ?? -1n);
});
