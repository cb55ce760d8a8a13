/**
 * Seeded fuzzing of every RPC of varledger.v1.Ledger and
 * snakepit.bridge.BridgeService, over real gRPC: random, hostile and
 * mutated request bodies. After each call the answer is a status a caller
 * can act on, the log moved only on OK (tool-call records aside), the call took under a second,
 * and the server still answers Health. A few seconds; the long run is
 * `npm run bench:hostile` (bench/hostile-input.ts).
 */
import test from 'ava';
import fc from 'fast-check';
import { startLedger } from '../helpers/harness.js';
import { FuzzClient, FuzzStats, logView, seedSessions, violation } from './fuzz-run.js';
import { fuzzTargets } from './request-arbitraries.js';

const SEED = 20261130;
const RUNS = Number(process.env.VARLEDGER_FUZZ_RUNS ?? 250);

test('fuzzed requests to every RPC never break the server or its log', async (t) => {
  const ledger = await startLedger();
  const client = new FuzzClient(ledger.address, logView(ledger.server.file!));
  t.teardown(async () => {
    client.close();
    await ledger.stop();
  });
  await seedSessions(ledger.rpc);
  const targets = fuzzTargets();
  const stats = new FuzzStats();
  const call = fc.nat(targets.length - 1).chain((i) => {
    const target = targets[i]!;
    return target.bodies.map((bodies) => ({ target, bodies }));
  });
  await fc.assert(
    fc.asyncProperty(call, async ({ target, bodies }) => {
      const outcome = await client.call(target, bodies);
      stats.add(outcome);
      const problem = violation(outcome);
      if (problem) throw new Error(problem);
    }),
    { seed: SEED, numRuns: RUNS, endOnFailure: true },
  );
  t.log(stats.summary());
  t.is(stats.paths.size, targets.length, 'every RPC was called');
});
