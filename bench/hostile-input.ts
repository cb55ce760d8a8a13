/**
 * `npm run bench:hostile`: what issue 11's attacks cost now, and a long fuzz run.
 *
 *   timings  (tinybench, sequential, one server in this process)
 *            - SetVariable of "a"×30+"!" against `(a+)+$` and `(a|aa)+$`
 *              (refused; target < 10 ms) and a GetVariable sent beside it
 *            - ListVariables `*a*a*a*a*a*a*a*b` over a name of 64 `a`s, and
 *              the worst 1,024-character glob over a 256-character name
 *            - SetVariable with 20 watchers holding a 6-pair glob, vs none
 *            - Snakepit GetVariable of the largest zero-size tensor the
 *              rule allows ([1048574, 0]) and of a 1,000-by-1,000 tensor
 *   fuzz     BENCH_FUZZ_RUNS (default 5,000) seeded requests over every RPC of
 *            both services, server in a child process (a crash cannot hide),
 *            with the invariants of test/fuzz: counts per status, the slowest
 *            call, and every violation.
 *
 * Knobs (env): BENCH_FUZZ_RUNS, BENCH_FUZZ_SEED, BENCH_HOSTILE_MS (time per
 * timing task, default 1000), BENCH_ONLY=timings|fuzz.
 * Writes bench/results/local/hostile-<time>.json and hostile-latest.json
 * (and the committed bench/results/hostile-baseline.json with
 * BENCH_BASELINE=1); exits 1 if the fuzz run found a violation.
 */
import { cpus, loadavg } from 'node:os';
import fc from 'fast-check';
import { Bench } from 'tinybench';
import { LedgerRpc } from '../src/client/ledger-rpc.js';
import { BridgeServiceService, GetVariableRequest } from '../src/gen/snakepit/bridge/snakepit_bridge.js';
import { VariableType as T, type DeepPartial, type Value } from '../src/gen/varledger/v1/ledger.js';
import { SqliteEventStore } from '../src/store/sqlite-event-store.js';
import { FuzzClient, FuzzStats, logView, seedSessions, violation } from '../test/fuzz/fuzz-run.js';
import { fuzzTargets } from '../test/fuzz/request-arbitraries.js';
import { latencyFigure, type LatencyFigure } from './latency-figure.js';
import { writeResults } from './report.js';
import { startBenchServer } from './server-fixture.js';
import { round } from './stats.js';

const TIME_MS = Number(process.env.BENCH_HOSTILE_MS ?? 1000);
const RUNS = Number(process.env.BENCH_FUZZ_RUNS ?? 5000);
const SEED = Number(process.env.BENCH_FUZZ_SEED ?? 20261130);
const only = process.env.BENCH_ONLY?.split(',');

const str = (stringValue: string): DeepPartial<Value> => ({ kind: { $case: 'stringValue', stringValue } });
const int = (integerValue: bigint): DeepPartial<Value> => ({ kind: { $case: 'integerValue', integerValue } });
const tensor = (shape: number[], data: number[]): DeepPartial<Value> => ({ kind: { $case: 'tensorValue', tensorValue: { shape, data, dtype: '' } } });

/** A Snakepit GetVariable whose reply is left undecoded: the server's cost, not the client's. */
function bridgeGet(rpc: LedgerRpc, sessionId: string, variableIdentifier: string): Promise<void> {
  const d = BridgeServiceService.getVariable;
  return new Promise((resolve, reject) =>
    rpc.grpc.makeUnaryRequest(d.path, d.requestSerialize, (b: Buffer) => b, GetVariableRequest.fromPartial({ sessionId, variableIdentifier }), (e) => (e ? reject(e) : resolve())),
  );
}

async function timings(): Promise<Record<string, LatencyFigure>> {
  const server = await startBenchServer('inproc');
  const rpc = new LedgerRpc(server.address, { 'grpc.max_receive_message_length': -1 });
  const watchers: { cancel(): void }[] = [];
  try {
    const hostile = `${'a'.repeat(30)}!`;
    await rpc.call('registerVariable', { sessionId: 'h', name: 'plus', type: T.VARIABLE_TYPE_STRING, initialValue: str('a'), constraints: { pattern: '(a+)+$' } });
    await rpc.call('registerVariable', { sessionId: 'h', name: 'alt', type: T.VARIABLE_TYPE_STRING, initialValue: str('a'), constraints: { pattern: '(a|aa)+$' } });
    await rpc.call('registerVariable', { sessionId: 'h', name: 'other', type: T.VARIABLE_TYPE_INTEGER, initialValue: int(1n) });
    await rpc.call('registerVariable', { sessionId: 'h', name: 'a'.repeat(64), type: T.VARIABLE_TYPE_INTEGER, initialValue: int(1n) });
    await rpc.call('registerVariable', { sessionId: 'h', name: 'a'.repeat(256), type: T.VARIABLE_TYPE_INTEGER, initialValue: int(1n) });
    await rpc.call('registerVariable', { sessionId: 'g', name: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', type: T.VARIABLE_TYPE_INTEGER, initialValue: int(1n) });
    await rpc.call('registerVariable', { sessionId: 'n', name: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', type: T.VARIABLE_TYPE_INTEGER, initialValue: int(1n) });
    await rpc.call('registerVariable', { sessionId: 'z', name: 'empty', type: T.VARIABLE_TYPE_TENSOR, initialValue: tensor([1048574, 0], []) });
    const square = Array.from({ length: 1_000_000 }, (_, i) => i % 7);
    await rpc.call('registerVariable', { sessionId: 'z', name: 'square', type: T.VARIABLE_TYPE_TENSOR, initialValue: tensor([1000, 1000], square) });
    for (let i = 0; i < 20; i++) {
      const stream = rpc.watch({ sessionId: 'g', pattern: `${'*a'.repeat(6)}*b` });
      stream.on('error', () => {});
      watchers.push(stream);
    }
    let counter = 0;
    const refused = async (name: string) => {
      try {
        await rpc.call('setVariable', { sessionId: 'h', identifier: name, value: str(hostile) });
      } catch {
        return;
      }
      throw new Error('the hostile write was accepted');
    };
    const bench = new Bench({ name: 'hostile input', time: TIME_MS, iterations: 20, warmupTime: 100, warmupIterations: 5, throws: true });
    bench
      .add('SetVariable "a"×30+"!" vs (a+)+$ (refused)', () => refused('plus'))
      .add('SetVariable "a"×30+"!" vs (a|aa)+$ (refused)', () => refused('alt'))
      .add('GetVariable beside a hostile write', async () => {
        await Promise.all([refused('plus'), rpc.call('getVariable', { sessionId: 'h', identifier: 'other' })]);
      })
      .add('ListVariables *a*a*a*a*a*a*a*b', async () => {
        await rpc.call('listVariables', { sessionId: 'h', pattern: `${'*a'.repeat(7)}*b` });
      })
      .add('ListVariables 1,024-char glob', async () => {
        await rpc.call('listVariables', { sessionId: 'h', pattern: `${'*a'.repeat(511)}*b` });
      })
      .add('SetVariable, 20 watchers with a 6-pair glob', async () => {
        await rpc.call('setVariable', { sessionId: 'g', identifier: 'a'.repeat(48), value: int(BigInt(++counter)) });
      })
      .add('SetVariable, no watchers', async () => {
        await rpc.call('setVariable', { sessionId: 'n', identifier: 'a'.repeat(48), value: int(BigInt(++counter)) });
      })
      .add('Snakepit GetVariable tensor [1048574,0]', () => bridgeGet(rpc, 'z', 'empty'))
      .add('Snakepit GetVariable tensor [1000,1000]', () => bridgeGet(rpc, 'z', 'square'));
    await bench.run();
    const figures: Record<string, LatencyFigure> = {};
    for (const task of bench.tasks) figures[task.name] = latencyFigure(task, task.name);
    return figures;
  } finally {
    for (const w of watchers) w.cancel();
    rpc.close();
    await server.stop();
  }
}

interface FuzzResult {
  readonly requests: number;
  readonly rpcs: number;
  readonly codes: Record<string, number>;
  readonly slowestMs: number;
  readonly slowestRpc: string;
  readonly violations: string[];
  readonly seconds: number;
}

async function fuzz(): Promise<FuzzResult> {
  const server = await startBenchServer('child');
  // A second connection to the server's file reads the log for the invariants.
  const store = new SqliteEventStore(server.dataPath);
  const client = new FuzzClient(server.address, logView(store));
  const rpc = new LedgerRpc(server.address);
  const started = performance.now();
  try {
    await seedSessions(rpc);
    const targets = fuzzTargets();
    const stats = new FuzzStats();
    const violations: string[] = [];
    const call = fc.nat(targets.length - 1).chain((i) => targets[i]!.bodies.map((bodies) => ({ target: targets[i]!, bodies })));
    for (const { target, bodies } of fc.sample(call, { seed: SEED, numRuns: RUNS })) {
      const outcome = await client.call(target, bodies);
      stats.add(outcome);
      const problem = violation(outcome);
      if (problem) violations.push(problem);
      if (!outcome.healthy) break;
      if (stats.requests % 1000 === 0) console.error(`fuzz: ${stats.summary()}`);
    }
    return {
      requests: stats.requests,
      rpcs: stats.paths.size,
      codes: Object.fromEntries(stats.codes),
      slowestMs: round(stats.worst.ms),
      slowestRpc: stats.worst.path,
      violations,
      seconds: round((performance.now() - started) / 1000),
    };
  } finally {
    client.close();
    rpc.close();
    store.close();
    await server.stop();
  }
}

const startedAt = new Date();
const results: Record<string, unknown> = {};
if (!only || only.includes('timings')) {
  const figures = await timings();
  results['timings'] = figures;
  for (const [name, f] of Object.entries(figures)) {
    console.log(`${name.padEnd(48)} p50 ${(f.p50Us / 1000).toFixed(2).padStart(8)} ms  p99 ${(f.p99Us / 1000).toFixed(2).padStart(8)} ms  max ${(f.maxUs / 1000).toFixed(2).padStart(8)} ms  (${f.samples})`);
  }
}
let failed = false;
if (!only || only.includes('fuzz')) {
  const f = await fuzz();
  results['fuzz'] = f;
  console.log(`fuzz: ${f.requests} requests over ${f.rpcs} RPCs in ${f.seconds} s; ${JSON.stringify(f.codes)}; slowest ${f.slowestMs} ms (${f.slowestRpc}); ${f.violations.length} violations`);
  for (const v of f.violations.slice(0, 20)) console.log(`  violation: ${v}`);
  failed = f.violations.length > 0;
}
const paths = writeResults(
  { suite: 'hostile', timestamp: startedAt.toISOString(), conditions: { cpus: cpus().length, loadavg: loadavg(), runs: RUNS, seed: SEED, timeMsPerTask: TIME_MS }, results },
  startedAt,
  process.env.BENCH_BASELINE === '1',
  undefined,
  'hostile',
);
console.log(`results: ${paths.join(', ')}`);
process.exit(failed ? 1 : 0);
