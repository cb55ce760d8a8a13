/**
 * A change a bridge watcher cannot be sent (here: a tensor deeper than the
 * Snakepit encodings nest, written by an older writer straight into the log)
 * ends that watch with a clear error instead of being skipped in silence:
 * a watcher sees every event, or learns that it cannot.
 */
import { status, type ServiceError } from '@grpc/grpc-js';
import test from 'ava';
import { parseSessionId, type VariableId, type Version } from '../../../src/domain/index.js';
import type { VariableUpdate } from '../../../src/gen/snakepit/bridge/snakepit_bridge.js';
import { VariableType } from '../../../src/gen/varledger/v1/ledger.js';
import { SqliteEventStore } from '../../../src/store/sqlite-event-store.js';
import { tensorValue } from '../../helpers/grpc-expect.js';
import { WatchReader } from '../../helpers/watch-reader.js';
import { anyJson, startBridge, StreamReader } from './bridge-client.js';

test('a running bridge watcher ends with an error naming the change it cannot encode; the native watcher gets it', async (t) => {
  const s = await startBridge();
  t.teardown(() => s.stop());
  const registered = await s.rpc.call('registerVariable', { sessionId: 's1', name: 't', type: VariableType.VARIABLE_TYPE_TENSOR, initialValue: tensorValue([1], [1]) });

  const bridgeWatch = new StreamReader<VariableUpdate>(s.bridge.stream('watchVariables', { sessionId: 's1', includeInitialValues: true }));
  t.teardown(() => bridgeWatch.stream.cancel());
  const nativeWatch = new WatchReader(s.rpc.watch({ sessionId: 's1', includeInitial: true }));
  t.teardown(() => nativeWatch.cancel());
  // The initial values say both watchers are subscribed.
  await bridgeWatch.next();
  await nativeWatch.next();

  await s.rpc.call('setVariable', { sessionId: 's1', identifier: 't', value: tensorValue([2], [1, 2]) });
  const [first] = await bridgeWatch.next();
  t.deepEqual(anyJson(first?.variable?.value), { shape: [2], data: [1, 2] });
  await nativeWatch.next();

  // An older writer on the same file, from before the tensor rule.
  const legacy = new SqliteEventStore(s.dataPath);
  t.teardown(() => legacy.close());
  const deep = Array<number>(33).fill(1);
  const [stored] = legacy.write((tx) =>
    tx.append([
      {
        kind: 'variable_set',
        sessionId: parseSessionId('s1'),
        time: Date.UTC(2026, 0, 1),
        actor: 'old-writer',
        variableId: registered.id as VariableId,
        version: 2 as Version,
        value: { kind: 'tensor', shape: deep, data: [5], dtype: 'float64' },
        metadata: {},
      },
    ]),
  );

  const error = await t.throwsAsync<ServiceError>(bridgeWatch.done);
  t.is(error?.code, status.INVALID_ARGUMENT);
  t.is(
    error?.details,
    `Variable "t" at revision ${stored?.revision} cannot be sent as a Snakepit VariableUpdate (Tensor shape has 33 dimensions; the limit is 32); this watch ends here so that no change is skipped`,
  );
  const native = await nativeWatch.next();
  t.deepEqual(native.events.map((e) => [e.revision, e.actor]), [[BigInt(stored?.revision ?? 0), 'old-writer']]);
});
