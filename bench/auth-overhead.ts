/**
 * What auth costs a call: sequential GetVariable and SetVariable latency on
 * two in-process servers, one without auth and one with an auth file of 100
 * principals (the caller's token resolved by hash, its grant matched by
 * glob, its rate and byte buckets charged) — in one tinybench run, so both
 * see the same machine conditions. Reported as p50/p99 and auth/plain ratios.
 * Tasks run one after another, so on a busy machine the ratio drifts with
 * the load; the last task times the decision alone (token → principal,
 * grant, rate bucket: what the interceptor adds to every call), which does not.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { Bench } from 'tinybench';
import { mayAccess } from '../src/auth/access.js';
import { PrincipalLimiter } from '../src/auth/limits.js';
import { hashToken } from '../src/auth/tokens.js';
import { LedgerRpc } from '../src/client/ledger-rpc.js';
import { startServer, type RunningServer } from '../src/server/server.js';
import { latencyFigure, type LatencyFigure } from './latency-figure.js';
import { ACTOR, floatValue, seedFloats } from './ledger-setup.js';
import { BENCH_SERVER_OPTIONS, makeTempDir } from './server-fixture.js';
import { round } from './stats.js';

export interface AuthOverheadResult {
  readonly plain: { readonly getVariable: LatencyFigure; readonly setVariable: LatencyFigure };
  readonly auth: { readonly getVariable: LatencyFigure; readonly setVariable: LatencyFigure };
  /** auth p50 / plain p50. */
  readonly getP50Ratio: number;
  readonly setP50Ratio: number;
  /** authenticate + mayAccess + takeRequest, in process, no gRPC. */
  readonly decision: LatencyFigure;
  readonly conditions: { readonly principals: number; readonly timeMsPerTask: number };
}

const TIME_MS = Number(process.env.BENCH_LATENCY_MS ?? 3000);
const PRINCIPALS = 100;
const VARIABLES = 10;

export async function runAuthOverhead(): Promise<AuthOverheadResult> {
  const tmp = makeTempDir('varledger-bench-auth-');
  const token = 'bench-token-0123456789abcdefghijklmnopqrstuvwxyz';
  const principals = Array.from({ length: PRINCIPALS }, (_, i) => ({
    name: `p${i}`,
    // The caller is the last one; the others hold tokens and globs of their own.
    token_sha256: hashToken(i === PRINCIPALS - 1 ? token : `other-${i}`),
    allow: [{ sessions: i === PRINCIPALS - 1 ? 'lat-*' : `team-${i}-*`, access: 'write' }],
  }));
  const authFile = join(tmp.dir, 'auth.json');
  // Limits far above what one machine can send: the bench measures what the
  // checks cost, not the default 1,000 calls/s refusing a latency loop.
  const limits = { requests_per_second: 1_000_000, burst: 1_000_000, bytes_per_minute: 1e12 };
  writeFileSync(authFile, JSON.stringify({ limits, principals }));
  const servers: RunningServer[] = [];
  const clients: LedgerRpc[] = [];
  try {
    const start = async (name: string, auth: boolean) => {
      const server = await startServer({
        ...BENCH_SERVER_OPTIONS,
        dataPath: join(tmp.dir, `${name}.db`),
        logger: pino({ level: 'silent' }),
        ...(auth && { authFile }),
      });
      servers.push(server);
      const rpc = new LedgerRpc(`127.0.0.1:${server.port}`, {}, auth ? { token } : {});
      clients.push(rpc);
      return rpc;
    };
    const plain = await start('plain', false);
    const authed = await start('auth', true);
    const names = await seedFloats(plain, 'lat-1', VARIABLES);
    await seedFloats(authed, 'lat-1', VARIABLES);

    const bench = new Bench({ name: 'auth overhead', time: TIME_MS, iterations: 500, warmupTime: 500, warmupIterations: 200, throws: true });
    let i = 0;
    for (const [label, rpc] of [
      ['plain', plain],
      ['auth', authed],
    ] as const) {
      bench
        .add(`GetVariable ${label}`, async () => {
          await rpc.call('getVariable', { sessionId: 'lat-1', identifier: names[i++ % VARIABLES] as string });
        })
        .add(`SetVariable ${label}`, async () => {
          const n = i++;
          await rpc.call('setVariable', { sessionId: 'lat-1', identifier: names[n % VARIABLES] as string, value: floatValue(n * 0.001) }, ACTOR);
        });
    }
    const authority = servers[1]!.authority;
    const limiter = new PrincipalLimiter(Date.now);
    const authorization = [`Bearer ${token}`];
    bench.add('auth decision', () => {
      const principal = authority.authenticate({ authorization });
      if (!mayAccess(principal, 'write', 'lat-1') || limiter.takeRequest(principal.name, { ...principal.limits, burst: 1e12 })) throw new Error('refused');
    });
    await bench.run();
    const figure = (name: string) => latencyFigure(bench.getTask(name), name);
    const result = {
      plain: { getVariable: figure('GetVariable plain'), setVariable: figure('SetVariable plain') },
      auth: { getVariable: figure('GetVariable auth'), setVariable: figure('SetVariable auth') },
    };
    return {
      ...result,
      getP50Ratio: round(result.auth.getVariable.p50Us / result.plain.getVariable.p50Us, 2),
      setP50Ratio: round(result.auth.setVariable.p50Us / result.plain.setVariable.p50Us, 2),
      decision: figure('auth decision'),
      conditions: { principals: PRINCIPALS, timeMsPerTask: TIME_MS },
    };
  } finally {
    for (const c of clients) c.close();
    for (const s of servers) await s.shutdown();
    tmp.remove();
  }
}
