/** `connect({ spawn })` from the package entry: a local server child process that close() stops. */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import test from 'ava';
import { connect, NotFoundError, VarledgerError, type Variable } from '../../src/index.js';
import { tempDir } from '../helpers/harness.js';

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
