/**
 * Sequential latency of single unary calls (one in flight), measured with
 * tinybench: GetVariable, SetVariable and RegisterVariable. p50/p99 come from
 * tinybench's latency statistics (`task.result.latency.p50/.p99`, in ms).
 *
 * A fourth task, grpc.health.v1.Health/Check with an empty request, is the
 * floor: the same channel and server, but no varledger code on either side,
 * so (GetVariable − floor) is what varledger itself adds to a read.
 */
import { Bench } from 'tinybench';
import { LedgerRpc } from '../src/client/ledger-rpc.js';
import { VariableType } from '../src/gen/varledger/v1/ledger.js';
import { ACTOR, floatValue, healthCheck, seedFloats } from './ledger-setup.js';
import type { BenchServer } from './server-fixture.js';
import { latencyFigure, type LatencyFigure } from './latency-figure.js';


export interface UnaryLatencyResult {
  /** Health/Check: grpc-js round trip without varledger code (informational). */
  readonly grpcFloor: LatencyFigure;
  readonly getVariable: LatencyFigure;
  readonly setVariable: LatencyFigure;
  readonly registerVariable: LatencyFigure;
  readonly conditions: {
    readonly timeMsPerTask: number;
    readonly warmupMsPerTask: number;
    readonly minIterationsPerTask: number;
    readonly variablesPerSession: number;
    readonly registrationsPerSession: number;
  };
}

const TIME_MS = Number(process.env.BENCH_LATENCY_MS ?? 3000);
const WARMUP_MS = 500;
const MIN_ITERATIONS = 500;
const VARIABLES_PER_SESSION = 10;
/**
 * Registrations move to a fresh session every so often: a session's
 * variables map is copied on every write, so one ever-growing session would
 * measure session size rather than registration.
 */
const REGISTRATIONS_PER_SESSION = 100;
const registrationSession = (i: number): string => `lat-reg-${Math.floor(i / REGISTRATIONS_PER_SESSION)}`;

export async function runUnaryLatency(server: BenchServer): Promise<UnaryLatencyResult> {
  const rpc = new LedgerRpc(server.address);
  try {
    const names = await seedFloats(rpc, 'lat-get', VARIABLES_PER_SESSION);
    await seedFloats(rpc, 'lat-set', VARIABLES_PER_SESSION);
    let getIndex = 0;
    let setIndex = 0;
    let registered = 0;

    const bench = new Bench({
      name: 'unary latency',
      time: TIME_MS,
      iterations: MIN_ITERATIONS,
      warmupTime: WARMUP_MS,
      warmupIterations: 200,
      throws: true,
    });
    bench
      .add('Health/Check (gRPC floor)', () => healthCheck(rpc))
      .add('GetVariable', async () => {
        const name = names[getIndex++ % names.length] as string;
        await rpc.call('getVariable', { sessionId: 'lat-get', identifier: name });
      })
      .add('SetVariable', async () => {
        const i = setIndex++;
        const name = names[i % names.length] as string;
        await rpc.call('setVariable', { sessionId: 'lat-set', identifier: name, value: floatValue(i * 0.001) }, ACTOR);
      })
      .add(
        'RegisterVariable',
        async () => {
          const i = registered++;
          await rpc.call(
            'registerVariable',
            {
              sessionId: registrationSession(i),
              name: `r${i}`,
              type: VariableType.VARIABLE_TYPE_FLOAT,
              initialValue: floatValue(0.5),
              constraints: { min: 0, max: 1 },
            },
            ACTOR,
          );
        },
        {
          // The session a run of registrations goes to is created outside the
          // timed call, so every sample is a plain registration.
          beforeEach: async () => {
            if (registered % REGISTRATIONS_PER_SESSION === 0) {
              await rpc.call('createSession', { sessionId: registrationSession(registered) }, ACTOR);
            }
          },
        },
      );
    await bench.run();

    const figure = (taskName: string): LatencyFigure => latencyFigure(bench.getTask(taskName), taskName);
    return {
      grpcFloor: figure('Health/Check (gRPC floor)'),
      getVariable: figure('GetVariable'),
      setVariable: figure('SetVariable'),
      registerVariable: figure('RegisterVariable'),
      conditions: {
        timeMsPerTask: TIME_MS,
        warmupMsPerTask: WARMUP_MS,
        minIterationsPerTask: MIN_ITERATIONS,
        variablesPerSession: VARIABLES_PER_SESSION,
        registrationsPerSession: REGISTRATIONS_PER_SESSION,
      },
    };
  } finally {
    rpc.close();
  }
}
