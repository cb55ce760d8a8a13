/**
 * What metrics cost a call: 16-in-flight SetVariable and GetVariable
 * throughput on two in-process servers, one without metrics and one with
 * `metrics: { port: 0 }` (the RPC interceptor, the pipeline and tool hooks,
 * a scrape-ready registry), in one run. Rounds alternate between the two
 * servers, so a change in machine load hits both alike; each figure is the
 * median of its rounds, and the ratio is metrics / plain (1.0 = free).
 * A scrape after the rounds checks the metrics counted every call.
 *
 * On a shared machine the ratio drifts with the load, so the section also
 * times what metrics add to one SetVariable in process, without gRPC: the
 * interceptor's counter and histogram, and the pipeline hook's batch,
 * commit and event counters (`recordUs`), which does not drift.
 */
import { join } from 'node:path';
import { pino } from 'pino';
import { LedgerRpc } from '../src/client/ledger-rpc.js';
import type { Revision, SessionId, StoredEvent, VariableId, Version } from '../src/domain/index.js';
import type { ServerInterceptingCallInterface, ServerMethodDefinition } from '@grpc/grpc-js';
import { LedgerMetrics } from '../src/metrics/ledger-metrics.js';
import { metricsInterceptor } from '../src/server/metrics-interceptor.js';
import { startServer, type RunningServer } from '../src/server/server.js';
import { ACTOR, floatValue, seedFloats } from './ledger-setup.js';
import { BENCH_SERVER_OPTIONS, makeTempDir } from './server-fixture.js';
import { median, round, since } from './stats.js';

export interface MetricsOverheadResult {
  readonly setVariable: { readonly plainCallsPerSecond: number; readonly metricsCallsPerSecond: number; readonly ratio: number };
  readonly getVariable: { readonly plainCallsPerSecond: number; readonly metricsCallsPerSecond: number; readonly ratio: number };
  /** Calls the scrape counted on the metrics server vs calls made to it. */
  readonly scrapedCalls: number;
  readonly madeCalls: number;
  /** What one SetVariable adds, measured in process: the interceptor and its counter + histogram, and a one-commit round's hook. */
  readonly recordUs: number;
  /** One GET /metrics after the rounds. */
  readonly scrapeMs: number;
  readonly scrapeBytes: number;
  readonly conditions: { readonly concurrency: number; readonly callsPerRound: number; readonly rounds: number };
}

const CONCURRENCY = 16;
const CALLS_PER_ROUND = Number(process.env.BENCH_METRICS_CALLS ?? 5_000);
const ROUNDS = Number(process.env.BENCH_METRICS_ROUNDS ?? 5);
const WARMUP_CALLS = 2_000;
const SESSION = 'mo';

export async function runMetricsOverhead(): Promise<MetricsOverheadResult> {
  const tmp = makeTempDir('varledger-bench-metrics-');
  const servers: RunningServer[] = [];
  const clients: LedgerRpc[] = [];
  try {
    const start = async (name: string, metrics: boolean) => {
      const server = await startServer({
        ...BENCH_SERVER_OPTIONS,
        dataPath: join(tmp.dir, `${name}.db`),
        logger: pino({ level: 'silent' }),
        ...(metrics && { metrics: { port: 0 } }),
      });
      servers.push(server);
      const rpc = new LedgerRpc(`127.0.0.1:${server.port}`);
      clients.push(rpc);
      return { server, rpc, names: await seedFloats(rpc, SESSION, CONCURRENCY) };
    };
    const plain = await start('plain', false);
    const withMetrics = await start('metrics', true);
    let made = 0;

    type Target = typeof plain;
    const set = (target: Target) => (name: string, i: number) =>
      target.rpc.call('setVariable', { sessionId: SESSION, identifier: name, value: floatValue(i) }, ACTOR);
    const get = (target: Target) => (name: string) => target.rpc.call('getVariable', { sessionId: SESSION, identifier: name });
    const runRound = async (target: Target, calls: number, call: (name: string, i: number) => Promise<unknown>): Promise<number> => {
      let issued = 0;
      const worker = async (name: string) => {
        while (issued < calls) await call(name, issued++);
      };
      const started = performance.now();
      await Promise.all(target.names.map(worker));
      if (target === withMetrics) made += calls;
      return calls / (since(started) / 1000);
    };
    const compare = async (call: (target: Target) => (name: string, i: number) => Promise<unknown>) => {
      for (const target of [plain, withMetrics]) await runRound(target, WARMUP_CALLS, call(target));
      const rates = { plain: [] as number[], metrics: [] as number[] };
      for (let r = 0; r < ROUNDS; r++) {
        // Alternating who goes first, so neither always runs on the warmer (or busier) machine.
        const order = r % 2 === 0 ? ([plain, withMetrics] as const) : ([withMetrics, plain] as const);
        for (const target of order) (target === plain ? rates.plain : rates.metrics).push(await runRound(target, CALLS_PER_ROUND, call(target)));
      }
      const plainRate = median(rates.plain);
      const metricsRate = median(rates.metrics);
      return { plainCallsPerSecond: round(plainRate, 0), metricsCallsPerSecond: round(metricsRate, 0), ratio: round(metricsRate / plainRate, 3) };
    };
    const setVariable = await compare(set);
    const getVariable = await compare(get);

    const recordUs = timeRecording();
    const scrapeStart = performance.now();
    const response = await fetch(`http://127.0.0.1:${withMetrics.server.metricsPort}/metrics`);
    const text = await response.text();
    const scrapeMs = since(scrapeStart);
    const counted = [...text.matchAll(/^varledger_rpc_calls_total\{[^}]*method="(?:SetVariable|GetVariable)"[^}]*\} (\d+)$/gm)].reduce(
      (sum, m) => sum + Number(m[1]),
      0,
    );
    return {
      setVariable,
      getVariable,
      recordUs,
      scrapedCalls: counted,
      madeCalls: made,
      scrapeMs: round(scrapeMs, 1),
      scrapeBytes: text.length,
      conditions: { concurrency: CONCURRENCY, callsPerRound: CALLS_PER_ROUND, rounds: ROUNDS },
    };
  } finally {
    for (const c of clients) c.close();
    for (const s of servers) await s.shutdown();
    tmp.remove();
  }
}

/**
 * µs per SetVariable of what metrics add, best of five timed loops: the
 * interceptor wrapping a stand-in for grpc-js's base call (start, a message,
 * the status, the cancel grpc-js reports after it) and recording the call,
 * plus the pipeline hook for a one-commit round.
 */
function timeRecording(): number {
  const metrics = new LedgerMetrics();
  const intercept = metricsInterceptor(metrics);
  const method = { path: '/varledger.v1.Ledger/SetVariable', requestStream: false, responseStream: false } as ServerMethodDefinition<unknown, unknown>;
  const listener = { onReceiveMetadata() {}, onReceiveMessage() {}, onReceiveHalfClose() {}, onCancel() {} };
  class BaseCall {
    listener = listener;
    start(l: typeof listener) {
      this.listener = l;
    }
    sendStatus() {}
  }
  const event = {
    kind: 'variable_set',
    sessionId: 'mo' as SessionId,
    variableId: 'var_x' as VariableId,
    version: 1 as Version,
    value: { kind: 'float', value: 1 },
    metadata: {},
    time: 0,
    actor: 'bench',
    revision: 1 as Revision,
    commitId: 1 as Revision,
  } as StoredEvent;
  const round_ = { committed: 1, conflicts: 0, events: [event], seconds: 0.0001 };
  const n = 100_000;
  let best = Number.POSITIVE_INFINITY;
  for (let r = 0; r < 5; r++) {
    const started = performance.now();
    for (let i = 0; i < n; i++) {
      const base = new BaseCall();
      const call = intercept(method, base as unknown as ServerInterceptingCallInterface);
      call.start(listener);
      base.listener.onReceiveMessage();
      call.sendStatus({ code: 0, details: '' });
      base.listener.onCancel();
      metrics.appended(round_);
    }
    best = Math.min(best, (since(started) * 1000) / n);
  }
  return round(best, 2);
}
