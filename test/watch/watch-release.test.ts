/**
 * WatchVariables resource release: cancel and client disconnect free the
 * watcher and its timer at once; other watchers carry on.
 */
import { spawn } from 'node:child_process';
import test from 'ava';
import { VariableType } from '../../src/gen/varledger/v1/ledger.js';
import { intValue } from '../helpers/grpc-expect.js';
import { startLedger } from '../helpers/harness.js';
import { intOf, until } from '../helpers/watch-helpers.js';
import { WatchReader } from '../helpers/watch-reader.js';

const INTEGER = VariableType.VARIABLE_TYPE_INTEGER;
const CLIENT = new URL('../helpers/watch-client-process.js', import.meta.url);

test('cancelling a watch releases the watcher and, with the last one, the progress timer', async (t) => {
  const ledger = await startLedger();
  t.teardown(() => ledger.stop());
  const { rpc, server } = ledger;
  await rpc.call('registerVariable', { sessionId: 's1', name: 'x', type: INTEGER, initialValue: intValue(0n) });
  t.false(server.watchHub.hasTimer);

  const first = new WatchReader(rpc.watch({ sessionId: 's1', includeInitial: true }));
  const second = new WatchReader(rpc.watch({ sessionId: 's1', includeInitial: true }));
  t.teardown(() => second.cancel());
  await first.next();
  await second.next();
  t.is(server.watchHub.size, 2);
  t.true(server.watchHub.hasTimer);

  first.cancel();
  await until(() => server.watchHub.size === 1, 'the server released the cancelled watcher');
  t.true(server.watchHub.hasTimer, 'the timer stays while a watcher remains');
  // The other watcher is unaffected.
  await rpc.call('setVariable', { sessionId: 's1', identifier: 'x', value: intValue(1n) });
  t.is(intOf((await second.next()).events[0]?.variable?.value), 1);

  second.cancel();
  await until(() => server.watchHub.size === 0, 'the server released the last watcher');
  t.false(server.watchHub.hasTimer);
  // Writes after the release still work and reach a new watcher.
  const third = new WatchReader(rpc.watch({ sessionId: 's1', identifiers: ['x'] }));
  t.teardown(() => third.cancel());
  await until(() => server.watchHub.size === 1, 'new watcher subscribed');
  await rpc.call('setVariable', { sessionId: 's1', identifier: 'x', value: intValue(2n) });
  t.is(intOf((await third.next()).events[0]?.variable?.value), 2);
});

test('cancelling a watcher that is behind (replaying the log) releases it too', async (t) => {
  const ledger = await startLedger({ watchBufferBytes: 1024 });
  t.teardown(() => ledger.stop());
  const { rpc, server } = ledger;
  await rpc.call('registerVariable', { sessionId: 's1', name: 'x', type: INTEGER, initialValue: intValue(0n) });
  for (let i = 1; i <= 200; i++) await rpc.call('setVariable', { sessionId: 's1', identifier: 'x', value: intValue(BigInt(i)) });

  const reader = new WatchReader(rpc.watch({ sessionId: 's1', startRevision: 1n }));
  reader.stream.pause();
  await until(() => server.watchHub.size === 1, 'watcher subscribed');
  reader.cancel();
  await until(() => server.watchHub.size === 0, 'the server released the lagging watcher');
  t.false(server.watchHub.hasTimer);
});

test('a client that disconnects (its process is killed) releases its watchers', async (t) => {
  const ledger = await startLedger();
  t.teardown(() => ledger.stop());
  const { rpc, server } = ledger;
  await rpc.call('registerVariable', { sessionId: 's1', name: 'x', type: INTEGER, initialValue: intValue(0n) });

  const client = spawn(process.execPath, [CLIENT.pathname, ledger.address, 's1', '2'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => client.once('exit', () => resolve()));
  t.teardown(() => {
    client.kill('SIGKILL');
    return exited;
  });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    client.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      if (out.includes('WATCHING\n')) resolve();
    });
    client.once('exit', (code) => reject(new Error(`client exited early with ${code}`)));
  });
  t.is(server.watchHub.size, 2);

  client.kill('SIGKILL');
  await exited;
  await until(() => server.watchHub.size === 0, 'the server released the disconnected watchers');
  t.false(server.watchHub.hasTimer);
  // The server keeps serving other clients.
  const written = await rpc.call('setVariable', { sessionId: 's1', identifier: 'x', value: intValue(1n) });
  t.is(written.version, 1n);
});
