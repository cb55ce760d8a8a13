/** Start-up failures a user meets first: one clear line, exit 1, and JSON-only stderr while logging is on. */
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import test from 'ava';
import { spawnCli, startCli } from '../helpers/cli-process.js';
import { tempDir } from '../helpers/harness.js';

/** A real listener holding a port, as another program would. */
async function occupiedPort(t: { teardown(fn: () => Promise<void>): void }): Promise<number> {
  const holder: Server = createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => holder.close(() => resolve())));
  const address = holder.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

function scratchData(t: { teardown(fn: () => void): void }): string {
  const tmp = tempDir();
  t.teardown(() => tmp.remove());
  return join(tmp.dir, 'ledger.db');
}

test('a port in use: one JSON fatal line naming the address, exit 1, no raw grpc text', async (t) => {
  const port = await occupiedPort(t);
  const proc = spawnCli(['serve', '--port', String(port), '--data', scratchData(t)]);
  t.teardown(() => proc.stop());
  t.deepEqual(await proc.exited, { code: 1, signal: null });
  t.deepEqual(proc.stdoutLines, []);
  const lines = proc.stderr().trimEnd().split('\n');
  const records = lines.map((line) => JSON.parse(line) as { level: number; msg: string });
  const fatal = records.filter((r) => r.level >= 50);
  t.deepEqual(
    fatal.map((r) => [r.level, r.msg]),
    [[60, `varledger: 127.0.0.1:${port} is already in use`]],
  );
  t.notRegex(proc.stderr(), /No address added|EADDRINUSE/);
});

test('a port in use with logging off: exactly one plain line', async (t) => {
  const first = await startCli(['--port', '0', '--data', scratchData(t), '--log-level', 'silent']);
  t.teardown(() => first.stop());
  // A second varledger on the same port, as a user restarting a server that still runs would meet.
  const proc = spawnCli(['serve', '--port', String(first.port), '--data', scratchData(t), '--log-level', 'silent']);
  t.teardown(() => proc.stop());
  t.deepEqual(await proc.exited, { code: 1, signal: null });
  t.is(proc.stderr(), `varledger: 127.0.0.1:${first.port} is already in use\n`);
});
