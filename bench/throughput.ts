/**
 * SetVariable throughput with a fixed number of calls in flight: CONCURRENCY
 * workers share one channel, each awaiting its call before sending the next,
 * until CALLS_PER_ROUND calls have completed. Several timed rounds after a
 * warm-up round; each round's calls/s is reported, and the median is the figure.
 * The same rounds of Health/Check (no varledger code) give the floor: what
 * grpc-js alone does on this machine with as many calls in flight.
 */
import { LedgerRpc } from '../src/client/ledger-rpc.js';
import { ACTOR, floatValue, healthCheck, seedFloats } from './ledger-setup.js';
import type { BenchServer } from './server-fixture.js';
import { median, round, since } from './stats.js';

export interface ThroughputResult {
  readonly callsPerSecond: number;
  readonly bestCallsPerSecond: number;
  readonly roundsCallsPerSecond: readonly number[];
  /** Health/Check calls/s, same concurrency and rounds (informational). */
  readonly floorCallsPerSecond: number;
  readonly conditions: {
    readonly concurrency: number;
    readonly callsPerRound: number;
    readonly rounds: number;
    readonly warmupCalls: number;
    readonly variables: number;
  };
}

const CONCURRENCY = 16;
const CALLS_PER_ROUND = Number(process.env.BENCH_THROUGHPUT_CALLS ?? 20_000);
const ROUNDS = 3;
const WARMUP_CALLS = 2_000;

export async function runThroughput(server: BenchServer): Promise<ThroughputResult> {
  const rpc = new LedgerRpc(server.address);
  try {
    const sessionId = 'tp';
    const names = await seedFloats(rpc, sessionId, CONCURRENCY);

    const setCall = (name: string, i: number): Promise<unknown> => rpc.call('setVariable', { sessionId, identifier: name, value: floatValue(i) }, ACTOR);
    const round_ = async (calls: number, call: (name: string, i: number) => Promise<unknown> = setCall): Promise<number> => {
      let issued = 0;
      const worker = async (name: string) => {
        while (issued < calls) {
          const i = issued++;
          await call(name, i);
        }
      };
      const start = performance.now();
      await Promise.all(names.map(worker));
      return calls / (since(start) / 1000);
    };

    await round_(WARMUP_CALLS);
    const rounds: number[] = [];
    for (let r = 0; r < ROUNDS; r++) rounds.push(round(await round_(CALLS_PER_ROUND), 0));
    const floor = () => healthCheck(rpc);
    await round_(WARMUP_CALLS, floor);
    const floorRounds: number[] = [];
    for (let r = 0; r < ROUNDS; r++) floorRounds.push(round(await round_(CALLS_PER_ROUND, floor), 0));
    return {
      callsPerSecond: round(median(rounds), 0),
      bestCallsPerSecond: Math.max(...rounds),
      roundsCallsPerSecond: rounds,
      floorCallsPerSecond: round(median(floorRounds), 0),
      conditions: { concurrency: CONCURRENCY, callsPerRound: CALLS_PER_ROUND, rounds: ROUNDS, warmupCalls: WARMUP_CALLS, variables: CONCURRENCY },
    };
  } finally {
    rpc.close();
  }
}
