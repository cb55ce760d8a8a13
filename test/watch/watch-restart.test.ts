/**
 * Resuming a watch by revision across a `kill -9` of the server process:
 * the watcher gets exactly the events after the last one it saw, whether
 * they were written before the crash or after the restart.
 */
import { join } from 'node:path';
import test from 'ava';
import { LedgerRpc } from '../../src/client/ledger-rpc.js';
import { VariableType } from '../../src/gen/varledger/v1/ledger.js';
import { intValue } from '../helpers/grpc-expect.js';
import { tempDir } from '../helpers/harness.js';
import { intOf, kindName, spawnServer, type ServerProcess } from '../helpers/watch-helpers.js';
import { WatchReader } from '../helpers/watch-reader.js';

test('a watcher resumes with start_revision after a SIGKILL restart and misses nothing', async (t) => {
  const tmp = tempDir();
  t.teardown(() => tmp.remove());
  const dataPath = join(tmp.dir, 'ledger.db');
  const running: ServerProcess[] = [];
  const clients: LedgerRpc[] = [];
  t.teardown(async () => {
    for (const client of clients) client.close();
    for (const server of running) await server.kill('SIGKILL');
  });
  const set = (rpc: LedgerRpc, identifier: string, value: number) =>
    rpc.call('setVariable', { sessionId: 's1', identifier, value: intValue(BigInt(value)) });

  // First server: the watcher sees some updates, then more are written that it never reads.
  const first = await spawnServer(dataPath);
  running.push(first);
  const rpc1 = new LedgerRpc(first.address);
  clients.push(rpc1);
  await rpc1.call('registerVariable', { sessionId: 's1', name: 'x', type: VariableType.VARIABLE_TYPE_INTEGER, initialValue: intValue(0n) });
  await rpc1.call('registerVariable', { sessionId: 's1', name: 'other', type: VariableType.VARIABLE_TYPE_INTEGER, initialValue: intValue(0n) });
  const watcher = new WatchReader(rpc1.watch({ sessionId: 's1', identifiers: ['x'], includeInitial: true }));
  await watcher.next();
  for (let i = 1; i <= 3; i++) await set(rpc1, 'x', i);
  const seen = await watcher.events(3);
  const lastSeen = seen[seen.length - 1]?.revision ?? 0n;
  t.deepEqual(seen.map((e) => intOf(e.variable?.value)), [1, 2, 3]);

  const unseen = [];
  for (let i = 4; i <= 6; i++) {
    unseen.push((await set(rpc1, 'x', i)).modifiedRevision);
    await set(rpc1, 'other', i);
  }

  await first.kill('SIGKILL');
  const failure = await watcher.done;
  t.truthy(failure, 'the stream of the killed server fails');

  // Second server on the same file: more writes, then resume.
  const second = await spawnServer(dataPath);
  running.push(second);
  const rpc2 = new LedgerRpc(second.address);
  clients.push(rpc2);
  const afterRestart = [(await set(rpc2, 'x', 7)).modifiedRevision];
  await set(rpc2, 'other', 7);
  afterRestart.push((await set(rpc2, 'x', 8)).modifiedRevision);

  const resumed = new WatchReader(rpc2.watch({ sessionId: 's1', identifiers: ['x'], startRevision: lastSeen + 1n }));
  t.teardown(() => resumed.cancel());
  const replayed = await resumed.events(5);
  t.deepEqual(
    replayed.map((e) => [kindName(e), e.revision, intOf(e.previousValue), intOf(e.variable?.value)]),
    [...unseen, ...afterRestart].map((revision, i) => ['WATCH_EVENT_KIND_SET', revision, i + 3, i + 4]),
  );

  // Then live, with nothing repeated.
  const live = await set(rpc2, 'x', 9);
  const next = await resumed.next();
  t.deepEqual(next.events.map((e) => [e.revision, intOf(e.variable?.value)]), [[live.modifiedRevision, 9]]);
});
