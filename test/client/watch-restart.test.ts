/**
 * Watches across server restarts: the iterator reconnects with backoff and
 * resumes at the last revision seen + 1 (no gap, no duplicate); the cache
 * watch comes back with a fresh snapshot.
 */
import { join } from 'node:path';
import test from 'ava';
import { connect, type WatchEvent } from '../../src/client/index.js';
import { spawnLocalServer, type LocalServer } from '../../src/client/local-server.js';
import { startLedger, tempDir } from '../helpers/harness.js';
import { until } from '../helpers/watch-helpers.js';
import { take } from './client-fixture.js';

const summary = (events: readonly (WatchEvent | undefined | void)[]) => events.map((e) => [e?.kind, e?.revision, e?.previousValue, e?.variable?.value]);

test('a watch that has seen nothing yet and the cache watch both survive a server restart', async (t) => {
  const tmp = tempDir();
  const dataPath = join(tmp.dir, 'ledger.db');
  let ledger = await startLedger({ dataPath });
  const port = ledger.server.port;
  const client = await connect(ledger.address, { channelOptions: { 'grpc.initial_reconnect_backoff_ms': 20 } });
  const controller = new AbortController();
  t.teardown(async () => {
    controller.abort();
    await client.close();
    await ledger.stop();
    tmp.remove();
  });
  const s = client.session('s1');
  await s.register('x', 'integer', 0);
  const cached = client.session('s1', { cache: 'watch' });
  await cached.enableWatchCache();
  const events = s.watch(['x'], { signal: controller.signal, backoff: { initialMs: 10, maxMs: 100 } });
  const pending = events.next();
  await until(() => ledger.server.watchHub.size === 2, 'both watches are open');

  await ledger.stop({ remove: false });
  ledger = await startLedger({ dataPath, port });
  const writes = [];
  for (let i = 1; i <= 3; i++) writes.push(await ledger.rpc.call('setVariable', { sessionId: 's1', identifier: 'x', value: { kind: { $case: 'integerValue', integerValue: BigInt(i) } } }));
  const seen = [(await pending).value, ...(await take(events, 2))];
  t.deepEqual(
    summary(seen),
    writes.map((w, i) => ['set', Number(w.modifiedRevision), i, i + 1]),
  );

  await cached.waitForRevision(Number(writes[2]?.modifiedRevision));
  t.is(await cached.get('x'), 3);
  t.true(cached.stats().live);
});

test('after SIGKILL and a restart on the same file and port, the iterator continues without gap or duplicate', async (t) => {
  const tmp = tempDir();
  const data = join(tmp.dir, 'ledger.db');
  const servers: LocalServer[] = [];
  const controller = new AbortController();
  let first = await spawnLocalServer({ data });
  servers.push(first);
  const client = await connect(first.address, { actor: 'watcher', channelOptions: { 'grpc.initial_reconnect_backoff_ms': 20 } });
  t.teardown(async () => {
    controller.abort();
    await client.close();
    for (const server of servers) await server.stop();
    tmp.remove();
  });
  const s = client.session('s1');
  await s.register('x', 'integer', 0);
  await s.register('other', 'integer', 0);
  const events = s.watch(['x'], { includeInitial: true, signal: controller.signal, backoff: { initialMs: 10, maxMs: 100 } });
  t.deepEqual(summary(await take(events, 1)).map(([kind, , , value]) => [kind, value]), [['initial', 0]]);

  const before = [];
  for (let i = 1; i <= 4; i++) {
    before.push(await s.set('x', i));
    await s.set('other', i);
  }
  t.deepEqual(summary(await take(events, 2)), summary([before[0], before[1]].map((v, i) => ({ kind: 'set', revision: v?.modifiedRevision, previousValue: i, variable: v }) as WatchEvent)));

  await first.kill('SIGKILL');
  first = await spawnLocalServer({ data, port: first.port });
  servers.push(first);
  const writer = await connect(first.address);
  t.teardown(() => writer.close());
  const after = [];
  for (let i = 5; i <= 6; i++) {
    after.push(await writer.session('s1').set('x', i));
    await writer.session('s1').set('other', i);
  }
  const rest = await take(events, 4);
  const expected = [...before.slice(2), ...after].map((v, i) => ['set', v.modifiedRevision, i + 2, i + 3]);
  t.deepEqual(summary(rest), expected);

  // Then live on the new server, nothing repeated.
  const live = await writer.session('s1').set('x', 7);
  t.deepEqual(summary(await take(events, 1)), [['set', live.modifiedRevision, 6, 7]]);
});
