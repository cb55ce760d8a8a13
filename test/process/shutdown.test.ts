/**
 * Stopping `varledger serve` with a signal: it ends open streams, closes the
 * database and exits 0 promptly — also when the reader of its log went away —
 * a second signal exits at once, and a stream that cannot end (its client
 * stopped reading) is cancelled after the grace period.
 */
import { status, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import test, { type ExecutionContext } from 'ava';
import { join } from 'node:path';
import { LedgerRpc } from '../../src/client/ledger-rpc.js';
import { VariableType, type WatchResponse } from '../../src/gen/varledger/v1/ledger.js';
import { startCli } from '../helpers/cli-process.js';
import { floatValue, stringValue } from '../helpers/grpc-expect.js';
import { startLedger, tempDir } from '../helpers/harness.js';
import { WatchReader } from '../helpers/watch-reader.js';

function client(t: ExecutionContext, address: string, options: Record<string, number> = {}): LedgerRpc {
  const rpc = new LedgerRpc(address, options);
  t.teardown(() => rpc.close());
  return rpc;
}

function dataPath(t: ExecutionContext): string {
  const tmp = tempDir();
  t.teardown(() => tmp.remove());
  return join(tmp.dir, 'ledger.db');
}

/** The error a stream ends with (undefined if it ended with OK). */
const ended = (stream: ClientReadableStream<WatchResponse>): Promise<ServiceError | undefined> =>
  new Promise((resolve) => {
    stream.on('error', resolve);
    stream.on('end', () => resolve(undefined));
  });

/**
 * A watcher on its own connection that stopped reading after its first
 * message, with more written to it since than HTTP/2 flow control lets
 * through: the server cannot deliver its final status, so the stream cannot
 * end by itself.
 */
async function stuckWatcher(t: ExecutionContext, address: string, writer: LedgerRpc): Promise<{ end(): Promise<ServiceError | undefined> }> {
  await writer.call('createSession', { sessionId: 's1' });
  await writer.call('registerVariable', { sessionId: 's1', name: 'blob', type: VariableType.VARIABLE_TYPE_STRING, initialValue: stringValue('') });
  const own = client(t, address, { 'grpc.use_local_subchannel_pool': 1 });
  const stream = own.watch({ sessionId: 's1', identifiers: ['blob'], includeInitial: true });
  const end = ended(stream);
  await new Promise<void>((resolve) =>
    stream.once('data', () => {
      stream.pause();
      resolve();
    }),
  );
  // 40 × 64 KiB: far beyond what the paused client buffers (16 messages) plus a 64 KiB window.
  const big = 'x'.repeat(64 * 1024);
  for (let i = 0; i < 40; i++) await writer.call('setVariable', { sessionId: 's1', identifier: 'blob', value: stringValue(`${i}${big}`) });
  // grpc-js reports a stream's status only after its messages were read.
  return { end: () => (stream.resume(), end) };
}

test('SIGTERM ends an open watch with UNAVAILABLE and exits 0 even with its log reader gone; every acknowledged write is kept', async (t) => {
  const data = dataPath(t);
  const cli = await startCli(['--port', '0', '--data', data]);
  t.teardown(() => cli.stop());
  const rpc = client(t, cli.address);
  await rpc.call('createSession', { sessionId: 's1' });
  await rpc.call('registerVariable', { sessionId: 's1', name: 'temperature', type: VariableType.VARIABLE_TYPE_FLOAT, initialValue: floatValue(0.5) });
  await rpc.call('setVariable', { sessionId: 's1', identifier: 'temperature', value: floatValue(0.9) });
  const reader = new WatchReader(rpc.watch({ sessionId: 's1', pattern: '*', includeInitial: true }));
  t.is((await reader.next()).events.length, 1);
  // What a dead supervisor or test runner leaves behind: every log line now
  // meets EPIPE (the server once hung in its exit flush here, deaf to signals).
  cli.child.stderr!.destroy();

  t.deepEqual(await cli.stop('SIGTERM'), { code: 0, signal: null });
  const error = await reader.done;
  t.is(error?.code, status.UNAVAILABLE);
  t.regex(error?.details ?? '', /server shutting down; resume with start_revision/);

  const again = await startCli(['--port', '0', '--data', data]);
  t.teardown(() => again.stop());
  const after = await client(t, again.address).call('getVariable', { sessionId: 's1', identifier: 'temperature' });
  t.like(after.value, floatValue(0.9));
  t.is(after.version, 1n);
});

test('a second signal while a stuck stream holds the shutdown exits 1 at once', async (t) => {
  // A grace period no test waits out: only the second signal can end this server.
  const cli = await startCli(['--port', '0', '--data', dataPath(t), '--shutdown-grace', '10m']);
  t.teardown(() => cli.stop());
  const stuck = await stuckWatcher(t, cli.address, client(t, cli.address));
  cli.child.kill('SIGTERM');
  await cli.waitForStderr(/"msg":"shutting down"/);
  t.deepEqual(await cli.stop('SIGINT'), { code: 1, signal: null });
  t.regex(cli.stderr(), /second signal while shutting down; exiting now/);
  t.truthy(await stuck.end(), 'the stuck stream ends with an error once the process is gone');
});

test('after the grace period a stream that cannot end is cancelled, and shutdown completes', async (t) => {
  const ledger = await startLedger({ shutdownGraceMs: 20 });
  const stuck = await stuckWatcher(t, ledger.address, ledger.rpc);
  await ledger.stop();
  t.truthy(await stuck.end());
});
