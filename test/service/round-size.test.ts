/**
 * How commands queued in one turn of the event loop reach the store: with
 * group commit (the default) as one round, one transaction; with it off
 * (`groupCommit: false`, the benchmarks' baseline) as one transaction each,
 * written back to back before the event loop turns again, so the baseline
 * pays for its transactions and not for waiting a turn per write.
 */
import { join } from 'node:path';
import test from 'ava';
import { parseSessionId, type Value } from '../../src/domain/index.js';
import type { AppendedRound } from '../../src/service/command-pipeline.js';
import { LedgerService } from '../../src/service/ledger-service.js';
import { SqliteEventStore } from '../../src/store/sqlite-event-store.js';
import { SqliteLog } from '../../src/store/sqlite-log.js';
import { tempDir } from '../helpers/harness.js';

const sessionId = parseSessionId('s');
const float = (value: number): Value => ({ kind: 'float', value });

async function open(t: import('ava').ExecutionContext, groupCommit: boolean) {
  const dir = tempDir();
  const rounds: AppendedRound[] = [];
  const service = await LedgerService.open({
    store: new SqliteLog(new SqliteEventStore(join(dir.dir, 'ledger.db')), { pollMs: 0 }),
    clock: { now: () => 1_000 },
    newIdSuffix: () => 'x',
    newSessionId: () => 'x',
    snapshotEvery: 0,
    groupCommit,
    onAppended: (round) => rounds.push(round),
  });
  t.teardown(async () => {
    await service.close();
    dir.remove();
  });
  await service.createSession({ sessionId, metadata: {}, ttlSeconds: 0 }, 'test');
  for (const name of ['a', 'b', 'c', 'd']) await service.register({ sessionId, name, type: 'float', value: float(0), constraints: {}, metadata: {}, description: '' }, 'test');
  rounds.length = 0;
  return { service, rounds };
}

/** Four sets issued in one turn; also notes how many rounds were written when the next turn began. */
async function fourSetsInOneTurn(service: LedgerService, rounds: readonly AppendedRound[]) {
  const sets = ['a', 'b', 'c', 'd'].map((identifier, i) => service.set({ sessionId, identifier, value: float(i + 1), metadata: {} }, 'test'));
  const roundsAtNextTurn = new Promise<number>((resolve) => setImmediate(() => resolve(rounds.length)));
  const written = await Promise.all(sets);
  return { revisions: written.map((v) => Number(v.modifiedRevision)), roundsAtNextTurn: await roundsAtNextTurn };
}

test('with group commit, four sets of one turn share one transaction', async (t) => {
  const { service, rounds } = await open(t, true);
  const { revisions } = await fourSetsInOneTurn(service, rounds);
  t.deepEqual(
    rounds.map((r) => r.committed),
    [4],
  );
  t.deepEqual(revisions, [6, 7, 8, 9], 'in the order they were issued');
});

test('without group commit, each set is its own transaction, all written before the event loop turns again', async (t) => {
  const { service, rounds } = await open(t, false);
  const { revisions, roundsAtNextTurn } = await fourSetsInOneTurn(service, rounds);
  t.deepEqual(
    rounds.map((r) => r.committed),
    [1, 1, 1, 1],
  );
  t.deepEqual(revisions, [6, 7, 8, 9], 'in the order they were issued');
  t.is(roundsAtNextTurn, 4, 'no turn of the event loop between one write and the next');
  t.deepEqual(
    ['a', 'b', 'c', 'd'].map((name) => {
      const session = service.peekSession(sessionId);
      const id = session?.names.get(name);
      return id === undefined ? undefined : session?.variables.get(id)?.value;
    }),
    [1, 2, 3, 4].map(float),
  );
});
