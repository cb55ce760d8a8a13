/**
 * 100 sequential SetVariable calls vs one Commit carrying the same 100 set
 * operations (100 distinct variables of one session). Each side is timed end
 * to end over gRPC, alternating, for several rounds after a warm-up; the
 * figure is median(100 singles) / median(one commit).
 */
import { LedgerRpc } from '../src/client/ledger-rpc.js';
import { ACTOR, floatValue, seedFloats } from './ledger-setup.js';
import type { BenchServer } from './server-fixture.js';
import { median, quantile, round, since } from './stats.js';

export interface CommitVsSingleResult {
  readonly singlesMedianMs: number;
  readonly commitMedianMs: number;
  /** How many times faster one commit is than the singles. */
  readonly ratio: number;
  readonly singlesP90Ms: number;
  readonly commitP90Ms: number;
  readonly conditions: { readonly operations: number; readonly rounds: number; readonly warmupRounds: number; readonly atomic: boolean };
}

const OPERATIONS = 100;
const ROUNDS = Number(process.env.BENCH_COMMIT_ROUNDS ?? 40);
const WARMUP_ROUNDS = 5;

export async function runCommitVsSingle(server: BenchServer): Promise<CommitVsSingleResult> {
  const rpc = new LedgerRpc(server.address);
  try {
    const singlesSession = 'cvs-single';
    const commitSession = 'cvs-commit';
    const names = await seedFloats(rpc, singlesSession, OPERATIONS);
    await seedFloats(rpc, commitSession, OPERATIONS);

    let tick = 0;
    const singles = async (): Promise<number> => {
      const start = performance.now();
      for (const name of names) {
        await rpc.call('setVariable', { sessionId: singlesSession, identifier: name, value: floatValue(++tick) }, ACTOR);
      }
      return since(start);
    };
    const commit = async (): Promise<number> => {
      const start = performance.now();
      const response = await rpc.call(
        'commit',
        {
          sessionId: commitSession,
          atomic: true,
          operations: names.map((name) => ({ op: { $case: 'set', set: { identifier: name, value: floatValue(++tick) } } })),
        },
        ACTOR,
      );
      const elapsed = since(start);
      if (response.results.length !== OPERATIONS || response.results.some((r) => !r.ok)) throw new Error('commit failed');
      return elapsed;
    };

    const singleMs: number[] = [];
    const commitMs: number[] = [];
    for (let r = 0; r < WARMUP_ROUNDS + ROUNDS; r++) {
      const s = await singles();
      const c = await commit();
      if (r >= WARMUP_ROUNDS) {
        singleMs.push(s);
        commitMs.push(c);
      }
    }
    const singlesMedianMs = median(singleMs);
    const commitMedianMs = median(commitMs);
    return {
      singlesMedianMs: round(singlesMedianMs, 3),
      commitMedianMs: round(commitMedianMs, 3),
      ratio: round(singlesMedianMs / commitMedianMs, 2),
      singlesP90Ms: round(quantile(singleMs, 0.9), 3),
      commitP90Ms: round(quantile(commitMs, 0.9), 3),
      conditions: { operations: OPERATIONS, rounds: ROUNDS, warmupRounds: WARMUP_ROUNDS, atomic: true },
    };
  } finally {
    rpc.close();
  }
}
