import { join } from 'node:path';
import { status, type ServiceError } from '@grpc/grpc-js';
import test from 'ava';
import { LedgerRpc } from '../../src/client/ledger-rpc.js';
import { VariableType, type Variable } from '../../src/gen/varledger/v1/ledger.js';
import { startCli } from '../helpers/cli-process.js';
import { floatValue, intValue, stringValue, vectorValue } from '../helpers/grpc-expect.js';
import { tempDir } from '../helpers/harness.js';

function connect(t: { teardown(fn: () => void): void }, address: string): LedgerRpc {
  const rpc = new LedgerRpc(address);
  t.teardown(() => rpc.close());
  return rpc;
}

/** The fields a restart must preserve exactly. */
const durable = (v: Variable) => ({
  id: v.id,
  name: v.name,
  type: v.type,
  value: v.value,
  version: v.version,
  createdRevision: v.createdRevision,
  modifiedRevision: v.modifiedRevision,
  modifiedBy: v.modifiedBy,
  metadata: v.metadata,
});

test('every acknowledged write survives SIGKILL with its versions and revisions', async (t) => {
  const tmp = tempDir();
  t.teardown(() => tmp.remove());
  const data = join(tmp.dir, 'ledger.db');
  const first = await startCli(['--port', '0', '--data', data]);
  t.teardown(() => first.stop());
  const rpc = connect(t, first.address);

  const acknowledged = new Map<string, Variable>();
  const key = (sessionId: string, name: string) => `${sessionId}/${name}`;
  const sessions = ['s1', 's2', 's3'];
  // Concurrent writers: per variable a register and a chain of sets.
  await Promise.all(
    sessions.flatMap((sessionId) =>
      Array.from({ length: 8 }, async (_, i) => {
        const name = `v${i}`;
        let last = await rpc.call(
          'registerVariable',
          { sessionId, name, type: VariableType.VARIABLE_TYPE_INTEGER, initialValue: intValue(0n), metadata: { i: String(i) } },
          { actor: `writer-${sessionId}` },
        );
        for (let n = 1n; n <= 4n; n++) {
          last = await rpc.call('setVariable', { sessionId, identifier: name, value: intValue(n * 100n + BigInt(i)), expectedVersion: last.version }, { actor: `writer-${sessionId}` });
        }
        acknowledged.set(key(sessionId, name), last);
      }),
    ),
  );
  const embedding = await rpc.call('registerVariable', {
    sessionId: 's1',
    name: 'embedding',
    type: VariableType.VARIABLE_TYPE_EMBEDDING,
    initialValue: vectorValue(Array.from({ length: 512 }, (_, i) => Math.sin(i))),
  });
  acknowledged.set(key('s1', 'embedding'), embedding);
  const commit = await rpc.call('commit', {
    sessionId: 's2',
    atomic: true,
    operations: [
      { op: { $case: 'register', register: { name: 'model', type: VariableType.VARIABLE_TYPE_STRING, initialValue: stringValue('gpt') } } },
      { op: { $case: 'set', set: { identifier: 'v0', value: intValue(-1n) } } },
      { op: { $case: 'register', register: { name: 'temperature', type: VariableType.VARIABLE_TYPE_FLOAT, initialValue: floatValue(0.7) } } },
      { op: { $case: 'delete', delete: { identifier: 'v7' } } },
    ],
  });
  for (const result of commit.results) {
    const v = result.variable;
    if (v && v.name !== 'v7') acknowledged.set(key('s2', v.name), v);
  }
  acknowledged.delete(key('s2', 'v7'));
  const head = commit.revision;
  t.is((await rpc.call('listVariables', { sessionId: 's3' })).revision, head);

  const killed = await first.stop('SIGKILL');
  t.is(killed.signal, 'SIGKILL');

  const second = await startCli(['--port', '0', '--data', data]);
  t.teardown(() => second.stop());
  const again = connect(t, second.address);
  for (const [k, expected] of acknowledged) {
    const [sessionId, name] = k.split('/') as [string, string];
    const read = await again.call('getVariable', { sessionId, identifier: name });
    t.deepEqual(durable(read), durable(expected), k);
  }
  const deleted = await t.throwsAsync<ServiceError>(again.call('getVariable', { sessionId: 's2', identifier: 'v7' }));
  t.is(deleted?.code, status.NOT_FOUND);
  const listed = await again.call('listVariables', { sessionId: 's2' });
  t.is(listed.revision, head, 'the head after restart is the last acknowledged revision');
  t.deepEqual(
    listed.variables.map((v) => v.name),
    ['model', 'temperature', 'v0', 'v1', 'v2', 'v3', 'v4', 'v5', 'v6'],
  );
  // History survives too: the value before the commit.
  const v0 = acknowledged.get(key('s2', 'v0'));
  const before = await again.call('getVariable', { sessionId: 's2', identifier: 'v0', atRevision: head - 4n });
  t.deepEqual(before.value, intValue(400n));
  t.is(v0?.version, 5n);
  // New writes continue the log without a gap.
  const next = await again.call('setVariable', { sessionId: 's1', identifier: 'v1', value: intValue(1n) });
  t.is(next.modifiedRevision, head + 1n);
  t.is(next.version, 5n);
});

test('SIGTERM lets an in-flight call finish, exits 0, and a restart sees the data', async (t) => {
  const tmp = tempDir();
  t.teardown(() => tmp.remove());
  const data = join(tmp.dir, 'ledger.db');
  // The grpc-js call trace on stderr tells us when the server has taken the call.
  const first = await startCli(['--port', '0', '--data', data], { GRPC_TRACE: 'server_call', GRPC_VERBOSITY: 'DEBUG' });
  t.teardown(() => first.stop());
  const rpc = connect(t, first.address);
  await rpc.call('registerVariable', { sessionId: 's1', name: 'before', type: VariableType.VARIABLE_TYPE_STRING, initialValue: stringValue('x') });

  const operations = Array.from({ length: 2000 }, (_, i) => ({
    op: { $case: 'register' as const, register: { name: `bulk/${i}`, type: VariableType.VARIABLE_TYPE_INTEGER, initialValue: intValue(BigInt(i)) } },
  }));
  const inFlight = rpc.call('commit', { sessionId: 's1', atomic: true, operations });
  await first.waitForStderr(/Received call to method \/varledger\.v1\.Ledger\/Commit/);
  first.child.kill('SIGTERM');
  const reply = await inFlight;
  t.is(reply.results.length, 2000);
  t.true(reply.results.every((r) => r.ok));
  const exit = await first.exited;
  t.deepEqual(exit, { code: 0, signal: null });
  t.deepEqual(first.stdoutLines, [`GRPC_READY:${first.port}`], 'stdout holds only the readiness line');

  const second = await startCli(['--port', '0', '--data', data]);
  t.teardown(() => second.stop());
  const again = connect(t, second.address);
  const listed = await again.call('listVariables', { sessionId: 's1', pattern: 'bulk/*' });
  t.is(listed.variables.length, 2000);
  t.is(listed.revision, reply.revision);
  t.deepEqual((await again.call('getVariable', { sessionId: 's1', identifier: 'before' })).value, stringValue('x'));
  t.deepEqual((await again.call('getVariable', { sessionId: 's1', identifier: 'bulk/1999' })).value, intValue(1999n));
});
