/**
 * SIGKILL while many commits are in flight, so the server is group
 * committing (one transaction, one savepoint per commit): no acknowledged
 * commit is lost, no commit is left half-written, revisions stay gapless
 * and the hash chain intact.
 */
import { join } from 'node:path';
import test from 'ava';
import { LedgerRpc } from '../../src/client/ledger-rpc.js';
import { VariableType } from '../../src/gen/varledger/v1/ledger.js';
import type { EventRow } from '../../src/store/event-codec.js';
import { chainHash, GENESIS_HASH } from '../../src/store/hash-chain.js';
import { SqliteEventStore } from '../../src/store/sqlite-event-store.js';
import { startCli } from '../helpers/cli-process.js';
import { intValue } from '../helpers/grpc-expect.js';
import { tempDir } from '../helpers/harness.js';

const WRITERS = 24;
const KILL_AFTER_ACKS = 400;

test('SIGKILL during group commits loses no acknowledged commit and leaves none half-written', async (t) => {
  const tmp = tempDir();
  t.teardown(() => tmp.remove());
  const data = join(tmp.dir, 'ledger.db');
  const server = await startCli(['--port', '0', '--data', data]);
  t.teardown(() => server.stop());
  const rpc = new LedgerRpc(server.address);
  t.teardown(() => rpc.close());

  // Each writer owns three variables and commits the same counter to all three atomically.
  const names = (w: number) => [`w${w}a`, `w${w}b`, `w${w}c`];
  for (let w = 0; w < WRITERS; w++) {
    for (const name of names(w)) {
      await rpc.call('registerVariable', { sessionId: 's1', name, type: VariableType.VARIABLE_TYPE_INTEGER, initialValue: intValue(0n) });
    }
  }
  const acknowledged = new Array<number>(WRITERS).fill(0);
  let acks = 0;
  let killed: Promise<unknown> | undefined;
  const writer = async (w: number) => {
    for (let n = 1; ; n++) {
      try {
        await rpc.call('commit', {
          sessionId: 's1',
          atomic: true,
          operations: names(w).map((identifier) => ({ op: { $case: 'set' as const, set: { identifier, value: intValue(BigInt(n)) } } })),
        });
      } catch {
        return; // the server is gone
      }
      acknowledged[w] = n;
      if (++acks === KILL_AFTER_ACKS) killed = server.stop('SIGKILL');
    }
  };
  await Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));
  await killed;

  const file = new SqliteEventStore(data);
  t.teardown(() => file.close());
  const events = [...file.readAll()];
  t.true(events.every((e, i) => e.revision === i + 1), 'gapless revisions');
  let hash = GENESIS_HASH;
  let chainOk = true;
  for (const row of file.rowsWithHashes()) {
    hash = chainHash(hash, row.slice(0, 9) as EventRow);
    chainOk &&= row[9] === hash;
  }
  t.true(chainOk, 'the hash chain verifies');
  // Whole commits only: every commit of sets holds all three sets of one writer, with one value.
  const commits = new Map<number, typeof events>();
  for (const e of events) commits.set(Number(e.commitId), [...(commits.get(Number(e.commitId)) ?? []), e]);
  const setCommits = [...commits.values()].filter((c) => c[0]?.kind === 'variable_set');
  t.true(setCommits.length >= KILL_AFTER_ACKS, `${setCommits.length} commits of sets`);
  t.true(setCommits.every((c) => c.length === 3 && new Set(c.map((e) => ('value' in e ? String(e.value.kind === 'integer' && e.value.value) : ''))).size === 1));
  // Every acknowledged counter is in the log.
  const byName = new Map<string, bigint>();
  for (const e of events) {
    if (e.kind === 'variable_registered') byName.set(e.variableId, 0n);
    if (e.kind === 'variable_set' && e.value.kind === 'integer') byName.set(e.variableId, e.value.value);
  }
  const registered = new Map(events.flatMap((e) => (e.kind === 'variable_registered' ? [[e.name, e.variableId] as const] : [])));
  for (let w = 0; w < WRITERS; w++) {
    for (const name of names(w)) {
      const durable = byName.get(registered.get(name) ?? '') ?? -1n;
      t.true(durable >= BigInt(acknowledged[w] ?? 0), `${name}: durable ${durable} ≥ acknowledged ${acknowledged[w]}`);
    }
  }
});
