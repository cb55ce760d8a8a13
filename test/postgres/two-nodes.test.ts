/**
 * Two varledger server processes on one PostgreSQL log, as behind a load
 * balancer: read-modify-write through both nodes, a watch on one node seeing
 * the other's commits, and a node killed under load losing nothing.
 */
import { status, type ServiceError } from '@grpc/grpc-js';
import test from 'ava';
import { LedgerRpc } from '../../src/client/ledger-rpc.js';
import { VariableType } from '../../src/gen/varledger/v1/ledger.js';
import { startCli, type ReadyCli } from '../helpers/cli-process.js';
import { intValue } from '../helpers/grpc-expect.js';
import { freshDatabase, usePostgres } from '../helpers/postgres-fixture.js';
import { intOf } from '../helpers/watch-helpers.js';
import { WatchReader } from '../helpers/watch-reader.js';

usePostgres(test);

type Teardown = { teardown(fn: () => unknown): void };

async function node(t: Teardown, url: string): Promise<{ cli: ReadyCli; rpc: LedgerRpc }> {
  const cli = await startCli(['--port', '0', '--store', url]);
  t.teardown(() => cli.stop());
  const rpc = new LedgerRpc(cli.address);
  t.teardown(() => rpc.close());
  return { cli, rpc };
}

/** Reads, adds one with expected_version, retries on ABORTED: the classic optimistic increment. Returns the revision written. */
async function increment(rpc: LedgerRpc, sessionId: string, name: string): Promise<bigint> {
  for (;;) {
    const current = await rpc.call('getVariable', { sessionId, identifier: name });
    const next = (intOf(current.value) ?? 0) + 1;
    try {
      const written = await rpc.call('setVariable', { sessionId, identifier: name, value: intValue(BigInt(next)), expectedVersion: current.version });
      return written.modifiedRevision;
    } catch (error) {
      if ((error as ServiceError).code !== status.ABORTED) throw error;
    }
  }
}

test('5 clients × 10 expected_version increments spread over both nodes end at exactly 50', async (t) => {
  const url = await freshDatabase();
  const [a, b] = [await node(t, url), await node(t, url)];
  await a.rpc.call('registerVariable', { sessionId: 's1', name: 'counter', type: VariableType.VARIABLE_TYPE_INTEGER, initialValue: intValue(0n) });
  let last = 0n;
  await Promise.all(
    Array.from({ length: 5 }, async (_, client) => {
      for (let i = 0; i < 10; i++) {
        const revision = await increment((client + i) % 2 === 0 ? a.rpc : b.rpc, 's1', 'counter');
        if (revision > last) last = revision;
      }
    }),
  );
  // Read-your-writes across nodes: a client passing the revision it saw reads it on either node.
  for (const { rpc } of [a, b]) {
    const v = await rpc.call('getVariable', { sessionId: 's1', identifier: 'counter', atRevision: last });
    t.is(intOf(v.value), 50);
    t.is(v.version, 50n);
  }
  const [da, db] = [await a.rpc.call('getDigest', {}), await b.rpc.call('getDigest', {})];
  t.deepEqual(da, db);
});

test("a watch on node B sees node A's commits in order with previous values", async (t) => {
  const url = await freshDatabase();
  const [a, b] = [await node(t, url), await node(t, url)];
  await a.rpc.call('registerVariable', { sessionId: 's1', name: 'x', type: VariableType.VARIABLE_TYPE_INTEGER, initialValue: intValue(0n) });
  const first = await a.rpc.call('getVariable', { sessionId: 's1', identifier: 'x' });
  const reader = new WatchReader(b.rpc.watch({ sessionId: 's1', identifiers: ['x'], startRevision: first.createdRevision }));
  t.teardown(() => reader.cancel());
  const seen: [number | undefined, number | undefined][] = [];
  const writes = (async () => {
    for (let i = 1n; i <= 5n; i++) await a.rpc.call('setVariable', { sessionId: 's1', identifier: 'x', value: intValue(i) });
  })();
  while (seen.length < 6) {
    const message = await reader.next();
    for (const e of message.events) seen.push([intOf(e.previousValue), intOf(e.variable?.value)]);
  }
  await writes;
  t.deepEqual(seen, [
    [undefined, 0],
    [0, 1],
    [1, 2],
    [2, 3],
    [3, 4],
    [4, 5],
  ]);
});

test('SIGKILL one node under write load: every acknowledged write is readable through the other', async (t) => {
  const url = await freshDatabase();
  const [a, b] = [await node(t, url), await node(t, url)];
  await b.rpc.call('createSession', { sessionId: 's1' });
  const acknowledged: string[] = [];
  const writers = Array.from({ length: 4 }, async (_, w) => {
    for (let i = 0; ; i++) {
      const name = `w${w}_${i}`;
      try {
        await a.rpc.call('registerVariable', { sessionId: 's1', name, type: VariableType.VARIABLE_TYPE_INTEGER, initialValue: intValue(BigInt(i)) });
        acknowledged.push(name);
      } catch {
        return; // the node is gone
      }
      if (acknowledged.length === 20) void a.cli.stop('SIGKILL');
    }
  });
  await Promise.all(writers);
  t.true(acknowledged.length >= 20);
  const listed = await b.rpc.call('listVariables', { sessionId: 's1', pattern: '*' });
  const names = new Set(listed.variables.map((v) => v.name));
  t.deepEqual(
    acknowledged.filter((n) => !names.has(n)),
    [],
  );
});
