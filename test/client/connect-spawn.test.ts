/** `connect({ spawn })` from the package entry: a local server child process that close() stops. */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { status } from '@grpc/grpc-js';
import test from 'ava';
import { LedgerRpc } from '../../src/client/ledger-rpc.js';
import { connect, NotFoundError, VarledgerError, type Variable } from '../../src/index.js';
import { tempDir } from '../helpers/harness.js';
import { killGroup, spawnReaped } from '../helpers/reaper.js';
import { WatchReader } from '../helpers/watch-reader.js';

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

test('connect({ spawn }) starts a server, and close() stops it', async (t) => {
  const tmp = tempDir();
  t.teardown(() => tmp.remove());
  const data = join(tmp.dir, 'sub', 'ledger.db');
  const client = await connect({ spawn: { data }, actor: 'script' });
  t.teardown(() => client.close());
  const pid = client.server?.pid ?? -1;
  t.true(isAlive(pid));
  t.regex(client.address, /^127\.0\.0\.1:\d+$/);

  const s = client.session('demo');
  const v: Variable = await s.register('temperature', 'float', 0.7);
  t.is(v.modifiedBy, 'script');
  t.is(await s.get('temperature'), 0.7);
  const error = await t.throwsAsync(s.get('missing'), { instanceOf: NotFoundError });
  t.true(error instanceof VarledgerError);

  await client.close();
  t.false(isAlive(pid));
  t.true(existsSync(data), 'a database the caller named is kept');
});

test('without data, the spawned server uses a temporary database removed on close', async (t) => {
  const client = await connect('127.0.0.1:0', { spawn: {} });
  t.teardown(() => client.close());
  const pid = client.server?.pid ?? -1;
  await client.session('s').register('n', 'integer', 1);
  t.is(await client.session('s').get('n'), 1);
  const dataPath = client.server?.data ?? '';
  t.true(existsSync(dirname(dataPath)));
  await client.close();
  t.false(isAlive(pid));
  t.false(existsSync(dirname(dataPath)));
});

test('a spawned server stops when the process that spawned it dies, even by SIGKILL', async (t) => {
  // The parent: a separate Node process that starts a server with connect({ spawn }) and then just stays.
  const entry = fileURLToPath(new URL('../../src/index.js', import.meta.url));
  const script = `
    import { connect } from ${JSON.stringify(entry)};
    const client = await connect({ spawn: {}, actor: 'parent' });
    process.stdout.write('READY ' + client.address + '\\n');
  `;
  // The server stays in the parent's process group: the reaper must not kill that group when the parent
  // dies (that is the test), only at the end (teardown) or if the worker ends first.
  const parent = spawnReaped(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] }, { keepGroupAfterExit: true });
  t.teardown(() => killGroup(parent));
  const address = await new Promise<string>((resolve, reject) => {
    let out = '';
    parent.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const match = /READY (\S+)\n/.exec(out);
      if (match) resolve(match[1] as string);
    });
    parent.once('exit', (code) => reject(new Error(`the parent exited (${code}) before its server was ready`)));
  });

  const rpc = new LedgerRpc(address);
  t.teardown(() => rpc.close());
  await rpc.call('createSession', { sessionId: 'orphan' });
  const reader = new WatchReader(rpc.watch({ sessionId: 'orphan', pattern: '*', includeInitial: true }));
  await reader.next();

  parent.kill('SIGKILL');
  // The server saw its stdin end and shut down as on SIGTERM: the watch ends UNAVAILABLE, and nothing answers any more.
  const error = await reader.done;
  t.is(error?.code, status.UNAVAILABLE);
  t.regex(error?.details ?? '', /server shutting down/);
  const refused = await t.throwsAsync(rpc.call('getDigest', {}));
  t.is((refused as { code?: number } | undefined)?.code, status.UNAVAILABLE);
});
