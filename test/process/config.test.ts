import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import test from 'ava';
import { LedgerRpc } from '../../src/client/ledger-rpc.js';
import { VariableType } from '../../src/gen/varledger/v1/ledger.js';
import { spawnCli, startCli } from '../helpers/cli-process.js';
import { floatValue } from '../helpers/grpc-expect.js';
import { tempDir } from '../helpers/harness.js';

function scratch(t: { teardown(fn: () => void): void }): string {
  const tmp = tempDir();
  t.teardown(() => tmp.remove());
  return tmp.dir;
}

async function writeAndRead(address: string): Promise<number> {
  const rpc = new LedgerRpc(address);
  try {
    await rpc.call('registerVariable', { sessionId: 's1', name: 'x', type: VariableType.VARIABLE_TYPE_FLOAT, initialValue: floatValue(0.5) });
    const read = await rpc.call('getVariable', { sessionId: 's1', identifier: 'x' });
    return read.value?.kind?.$case === 'floatValue' ? read.value.kind.floatValue : Number.NaN;
  } finally {
    rpc.close();
  }
}

test('VARLEDGER_PORT and VARLEDGER_DATA configure the server; stdout holds only the readiness line', async (t) => {
  const dir = scratch(t);
  const data = join(dir, 'from-env.db');
  const cli = await startCli([], { VARLEDGER_PORT: '0', VARLEDGER_DATA: data });
  t.teardown(() => cli.stop());
  t.true(cli.port > 0);
  t.is(await writeAndRead(cli.address), 0.5);
  t.true(existsSync(data), 'the database is where VARLEDGER_DATA says');
  t.deepEqual(await cli.stop('SIGTERM'), { code: 0, signal: null });
  t.deepEqual(cli.stdoutLines, [`GRPC_READY:${cli.port}`]);
  t.regex(cli.stderr(), /listening/, 'logs go to stderr');
});

test('--watch-progress-ms reaches the watch hub: an idle watcher gets progress messages', async (t) => {
  const dir = scratch(t);
  const cli = await startCli(['--port', '0', '--data', join(dir, 'progress.db'), '--watch-progress-ms', '50']);
  t.teardown(() => cli.stop());
  t.is(await writeAndRead(cli.address), 0.5);
  const rpc = new LedgerRpc(cli.address);
  const stream = rpc.watch({ sessionId: 's1' });
  t.teardown(() => {
    stream.cancel();
    rpc.close();
  });
  // Nothing is written after the watch starts, so the first message can only be progress.
  const first = await new Promise<{ events: unknown[]; revision: bigint }>((resolve, reject) => {
    stream.once('data', resolve);
    stream.once('error', reject);
  });
  t.deepEqual(first.events, []);
  t.is(first.revision, 2n);
});

test('--heap-growth-percent is applied after start-up and reported in the listening line (default 50, 0 leaves V8 alone)', async (t) => {
  const dir = scratch(t);
  let runs = 0;
  const listening = async (args: string[], env: Record<string, string> = {}) => {
    const cli = await startCli(['--port', '0', '--data', join(dir, `heap-${++runs}.db`), ...args], env);
    t.teardown(() => cli.stop());
    t.is(await writeAndRead(cli.address), 0.5);
    t.deepEqual(await cli.stop('SIGTERM'), { code: 0, signal: null });
    const line = cli
      .stderr()
      .split('\n')
      .find((l) => l.includes('"listening"'));
    return (JSON.parse(line ?? '{}') as { heapGrowthPercent?: number }).heapGrowthPercent;
  };
  t.is(await listening([]), 50);
  t.is(await listening(['--heap-growth-percent', '0']), 0);
  t.is(await listening([], { VARLEDGER_HEAP_GROWTH_PERCENT: '25' }), 25);
});

test('--durability full works', async (t) => {
  const dir = scratch(t);
  const data = join(dir, 'full.db');
  const cli = await startCli(['--port', '0', '--data', data, '--durability', 'full']);
  t.teardown(() => cli.stop());
  t.is(await writeAndRead(cli.address), 0.5);
  t.deepEqual(await cli.stop('SIGTERM'), { code: 0, signal: null });
  const again = await startCli(['--port', '0', '--data', data, '--durability', 'full']);
  t.teardown(() => again.stop());
  const rpc = new LedgerRpc(again.address);
  t.teardown(() => rpc.close());
  t.deepEqual((await rpc.call('getVariable', { sessionId: 's1', identifier: 'x' })).value, floatValue(0.5));
});

test('--snapshot-every and VARLEDGER_SNAPSHOT_KEEP reach the service: a snapshot per event, only the newest two kept', async (t) => {
  const dir = scratch(t);
  const data = join(dir, 'snapshots.db');
  const cli = await startCli(['--port', '0', '--data', data, '--snapshot-every', '1'], { VARLEDGER_SNAPSHOT_KEEP: '2' });
  t.teardown(() => cli.stop());
  const rpc = new LedgerRpc(cli.address);
  t.teardown(() => rpc.close());
  for (let i = 0; i < 5; i++) {
    await rpc.call('registerVariable', { sessionId: 's1', name: `x${i}`, type: VariableType.VARIABLE_TYPE_FLOAT, initialValue: floatValue(i) });
  }
  const head = Number((await rpc.call('getDigest', {})).revision);
  t.deepEqual(await cli.stop('SIGTERM'), { code: 0, signal: null });
  const db = new Database(data, { readonly: true });
  t.teardown(() => db.close());
  // Written at every event up to the head, pruned to the newest two.
  t.deepEqual(db.prepare('SELECT revision FROM snapshots ORDER BY revision').pluck().all(), [head - 1, head]);
  // One row per session state a kept snapshot holds: s1 as of each of the two.
  t.deepEqual(db.prepare("SELECT revision FROM snapshot_states WHERE session_id = 's1' ORDER BY revision").pluck().all(), [head - 1, head]);
});

const badFlags: readonly { title: string; args: string[]; env?: Record<string, string>; stderr: RegExp }[] = [
  { title: '--port abc', args: ['--port', 'abc'], stderr: /port/ },
  { title: '--port 70000', args: ['--port', '70000'], stderr: /port/ },
  { title: 'VARLEDGER_PORT=abc', args: [], env: { VARLEDGER_PORT: 'abc' }, stderr: /port/i },
  { title: '--durability weird', args: ['--port', '0', '--durability', 'weird'], stderr: /weird|durability/ },
  { title: 'an unknown flag', args: ['--port', '0', '--frobnicate'], stderr: /frobnicate/ },
  { title: '--watch-buffer-bytes 10', args: ['--port', '0', '--watch-buffer-bytes', '10'], stderr: /watch-buffer-bytes/ },
  { title: '--heap-growth-percent -5', args: ['--port', '0', '--heap-growth-percent', '-5'], stderr: /heap-growth-percent/ },
  { title: '--sqlite-cache-mib 0', args: ['--port', '0', '--sqlite-cache-mib', '0'], stderr: /sqlite-cache-mib/ },
  { title: '--snapshot-keep -1', args: ['--port', '0', '--snapshot-keep', '-1'], stderr: /snapshot-keep/ },
  { title: '--retain-ended 3x', args: ['--port', '0', '--retain-ended', '3x'], stderr: /retain-ended.*duration/ },
  {
    title: '--retain-ended on PostgreSQL without --archive-dir',
    args: ['--port', '0', '--store', 'postgres://u:p@127.0.0.1:1/x', '--retain-ended', '30d'],
    stderr: /--retain-ended on PostgreSQL needs --archive-dir/,
  },
  { title: 'VARLEDGER_WATCH_PROGRESS_MS=-1', args: ['--port', '0'], env: { VARLEDGER_WATCH_PROGRESS_MS: '-1' }, stderr: /watch-progress-ms/ },
];

for (const c of badFlags) {
  test(`a bad configuration exits non-zero with a message on stderr: ${c.title}`, async (t) => {
    const dir = scratch(t);
    const proc = spawnCli(['serve', '--data', join(dir, 'ledger.db'), ...c.args], c.env ?? {});
    t.teardown(() => proc.stop());
    const exit = await proc.exited;
    t.not(exit.code, 0);
    t.is(exit.signal, null);
    t.regex(proc.stderr(), c.stderr);
    t.deepEqual(proc.stdoutLines, [], 'no readiness line');
  });
}

test('a database whose migration history is newer than the code is refused with a clear message', async (t) => {
  const dir = scratch(t);
  const data = join(dir, 'ledger.db');
  const first = await startCli(['--port', '0', '--data', data]);
  t.teardown(() => first.stop());
  t.is(await writeAndRead(first.address), 0.5);
  t.deepEqual(await first.stop('SIGTERM'), { code: 0, signal: null });

  const db = new Database(data);
  // One past the newest migration this code knows.
  const next = (db.prepare('SELECT max(version) FROM schema_migrations').pluck().get() as number) + 1;
  db.prepare('INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)').run(next, 'future', 'x', 0);
  db.close();

  const proc = spawnCli(['serve', '--port', '0', '--data', data]);
  t.teardown(() => proc.stop());
  const exit = await proc.exited;
  t.not(exit.code, 0);
  t.is(exit.signal, null);
  t.regex(proc.stderr(), new RegExp(`${String(next).padStart(4, '0')}_future`));
  t.regex(proc.stderr(), /newer than this varledger/);
  t.deepEqual(proc.stdoutLines, []);
});
