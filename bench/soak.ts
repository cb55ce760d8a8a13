/**
 * The soak: a real `varledger serve` child process under 60 s of mixed load
 * — paced writes and reads on long-lived sessions, watch streams opening and
 * closing, sessions opening (with a watcher of their own) and closing — with
 * one compaction in the middle (`serve --retain-ended`, when the build has
 * it), and the server's resident memory and event-loop delay sampled each
 * second from its own /metrics (prom-client's process metrics; the event-loop
 * histogram is reset by each scrape, so each sample is that second's).
 *
 * Figures: the RSS slope after warm-up (least squares over the samples after
 * it, MiB per minute; target < 1), the event-loop delay p99 per second
 * (median and worst second) and the worst single delay, the calls made,
 * and any unexpected call error (there should be none).
 *
 * Knobs (env): BENCH_SOAK_SECONDS (60), BENCH_SOAK_WARMUP_SECONDS (a third
 * of the run, at least 5), BENCH_SOAK_WRITES (per second, 300),
 * BENCH_SOAK_READS (per second, 300), BENCH_SOAK_SESSIONS (sessions opened
 * and closed per second, 4), BENCH_SOAK_WATCHERS (concurrent watch streams
 * cycling, 8).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { loadavg } from 'node:os';
import { status } from '@grpc/grpc-js';
import { LedgerRpc } from '../src/client/ledger-rpc.js';
import { scrape, type Scrape } from '../test/helpers/metrics-scrape.js';
import { ACTOR, floatValue, seedFloats } from './ledger-setup.js';
import { makeTempDir } from './server-fixture.js';
import { median, round } from './stats.js';

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const SECONDS = Number(process.env.BENCH_SOAK_SECONDS ?? 60);
const WARMUP_SECONDS = Number(process.env.BENCH_SOAK_WARMUP_SECONDS ?? Math.max(5, Math.round(SECONDS / 3)));
const WRITES_PER_SECOND = Number(process.env.BENCH_SOAK_WRITES ?? 300);
const READS_PER_SECOND = Number(process.env.BENCH_SOAK_READS ?? 300);
const SESSIONS_PER_SECOND = Number(process.env.BENCH_SOAK_SESSIONS ?? 4);
const WATCHERS = Number(process.env.BENCH_SOAK_WATCHERS ?? 8);
const LIVE_SESSIONS = 20;
const VARIABLES = 10;
const WORKERS = 8;
/** The slope target, MiB of RSS per minute after warm-up. */
export const SOAK_RSS_SLOPE_TARGET = 1;

export interface SoakSample {
  /** Seconds since the load started. */
  readonly t: number;
  readonly rssMiB: number;
  readonly eventLoopP99Ms: number;
  readonly eventLoopMaxMs: number;
  readonly heapUsedMiB: number;
  /** What V8 holds for the heap (used or not), and memory outside it that JS objects own (Buffers). */
  readonly heapTotalMiB: number;
  readonly externalMiB: number;
  readonly calls: number;
  readonly watchers: number;
  readonly liveSessions: number;
  readonly databaseMiB: number;
  readonly oldestRevision: number;
}

export interface SoakResult {
  readonly rssSlopeMiBPerMinute: number;
  /** Standard error of that slope: the GC's sawtooth over a minute makes it wide. */
  readonly rssSlopeStandardError: number;
  /** Slopes through the lowest sample of each 10 s after warm-up (after collections): RSS and V8 heap used. */
  readonly rssTroughSlopeMiBPerMinute: number;
  readonly heapTroughSlopeMiBPerMinute: number;
  readonly rssAfterWarmupMiB: number;
  readonly rssAtEndMiB: number;
  readonly rssMaxMiB: number;
  readonly eventLoopP99Ms: { readonly medianSecond: number; readonly worstSecond: number };
  readonly eventLoopMaxMs: number;
  /** An idle Node process's event-loop delay p99 over the soak: the machine's own noise. */
  readonly idleProcessEventLoopP99Ms: number;
  readonly callsPerSecond: number;
  readonly counts: {
    readonly writes: number;
    readonly reads: number;
    readonly watchesOpened: number;
    readonly sessionsOpened: number;
    readonly sessionsClosed: number;
  };
  readonly unexpectedErrors: number;
  readonly firstErrors: readonly string[];
  readonly compaction: { readonly ran: boolean; readonly note: string; readonly atSecond?: number; readonly oldestRevisionAfter?: number };
  readonly samples: readonly SoakSample[];
  readonly conditions: {
    readonly seconds: number;
    readonly warmupSeconds: number;
    readonly writesPerSecond: number;
    readonly readsPerSecond: number;
    readonly sessionsPerSecond: number;
    readonly watchers: number;
    readonly loadAverageAtStart: readonly number[];
    readonly loadAverageAtEnd: readonly number[];
    readonly serverArgs: readonly string[];
  };
}

/** Least-squares slope of y over x, with its standard error. */
export function slope(points: readonly { x: number; y: number }[]): { slope: number; standardError: number } {
  const n = points.length;
  if (n < 3) return { slope: Number.NaN, standardError: Number.NaN };
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.x - mx) * (p.y - my);
    den += (p.x - mx) ** 2;
  }
  const b = num / den;
  const residuals = points.reduce((s, p) => s + (p.y - (my + b * (p.x - mx))) ** 2, 0);
  return { slope: b, standardError: Math.sqrt(residuals / (n - 2) / den) };
}

/** The lowest sample of each `windowSeconds` window: where the heap and RSS sit after the garbage collector ran. */
function troughs(samples: readonly SoakSample[], windowSeconds: number, pick: (s: SoakSample) => number): { x: number; y: number }[] {
  const byWindow = new Map<number, SoakSample>();
  for (const s of samples) {
    const w = Math.floor(s.t / windowSeconds);
    const low = byWindow.get(w);
    if (!low || pick(s) < pick(low)) byWindow.set(w, s);
  }
  return [...byWindow.values()].map((s) => ({ x: s.t / 60, y: pick(s) }));
}

/**
 * An idle Node process's event-loop delay p99 over the same seconds: what the
 * machine's scheduler alone does to a timer (on a shared 2-core machine it is
 * far from zero), to read the server's figure against.
 */
function idleEventLoop(seconds: number): Promise<number> {
  const script = `const h = require('node:perf_hooks').monitorEventLoopDelay({ resolution: 10 }); h.enable();
    setTimeout(() => { process.stdout.write(String(h.percentile(99) / 1e6)); }, ${Math.round(seconds * 1000)});`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  return new Promise((resolve) => child.once('close', () => resolve(Number(out))));
}

interface Server {
  readonly child: ChildProcess;
  readonly address: string;
  readonly metricsPort: number;
  stop(): Promise<void>;
}

async function serverHelp(): Promise<string> {
  const child = spawn(process.execPath, [CLI, 'serve', '--help'], { stdio: ['ignore', 'pipe', 'ignore'] });
  let text = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (text += d));
  await new Promise((resolve) => child.once('close', resolve));
  return text;
}

async function startServer(args: readonly string[]): Promise<Server> {
  const child = spawn(process.execPath, [CLI, 'serve', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const ports = await new Promise<{ grpc: number; metrics: number }>((resolve, reject) => {
    let grpc: number | undefined;
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const [name, port] = line.split(':');
      if (name === 'GRPC_READY') grpc = Number(port);
      if (name === 'METRICS_READY' && grpc !== undefined) resolve({ grpc, metrics: Number(port) });
    });
    child.once('close', (code) => reject(new Error(`the soak server exited early (${code})`)));
  });
  return {
    child,
    address: `127.0.0.1:${ports.grpc}`,
    metricsPort: ports.metrics,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const guard = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(guard);
    },
  };
}

export async function runSoak(): Promise<SoakResult> {
  const tmp = makeTempDir('varledger-soak-');
  // The sweep's first run lands just past the middle, its second after the end: one compaction.
  const half = Math.max(1, Math.ceil(SECONDS * 0.55));
  const retention = (await serverHelp()).includes('--retain-ended');
  const args = [
    '--port', '0', '--metrics-port', '0', '--data', join(tmp.dir, 'ledger.db'), '--log-level', 'warn',
    // One sweep, in the middle: sessions that ended more than a second before it are archived.
    ...(retention ? ['--retain-ended', '1s', '--retention-interval', `${half}s`, '--archive-dir', join(tmp.dir, 'archive')] : []),
  ];
  const loadAverageAtStart = loadavg().map((x) => round(x, 2));
  const server = await startServer(args);
  const rpc = new LedgerRpc(server.address);
  const counts = { writes: 0, reads: 0, watchesOpened: 0, sessionsOpened: 0, sessionsClosed: 0 };
  const errors: string[] = [];
  let unexpectedErrors = 0;
  const fail = (what: string) => (error: unknown) => {
    unexpectedErrors++;
    if (errors.length < 5) errors.push(`${what}: ${error instanceof Error ? error.message : String(error)}`);
  };
  try {
    const live = Array.from({ length: LIVE_SESSIONS }, (_, i) => `live-${i}`);
    const names = (await Promise.all(live.map((id) => seedFloats(rpc, id, VARIABLES))))[0] as string[];
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)] as T;

    const idle = idleEventLoop(SECONDS);
    const started = performance.now();
    const end = started + SECONDS * 1000;
    const running = () => performance.now() < end;
    /** `workers` loops sharing `perSecond` calls a second between them. */
    const paced = (perSecond: number, workers: number, step: () => Promise<void>) =>
      Array.from({ length: workers }, async () => {
        const interval = (workers * 1000) / perSecond;
        while (running()) {
          const t0 = performance.now();
          await step();
          const rest = interval - (performance.now() - t0);
          if (rest > 0) await delay(rest);
        }
      });

    let n = 0;
    const write = () =>
      rpc
        .call('setVariable', { sessionId: pick(live), identifier: pick(names), value: floatValue(n++) }, ACTOR)
        .then(() => void counts.writes++, fail('write'));
    const read = () => {
      const sessionId = pick(live);
      const r = counts.reads % 3;
      const call =
        r === 0
          ? rpc.call('getVariable', { sessionId, identifier: pick(names) })
          : r === 1
            ? rpc.call('listVariables', { sessionId, pattern: 'v*' })
            : rpc.call('getHistory', { sessionId, identifier: pick(names), limit: 10 });
      return call.then(() => void counts.reads++, fail('read'));
    };
    /** A watch on a live session: its initial values, some live events, then the client goes away. */
    const watchCycle = async () => {
      const stream = rpc.watch({ sessionId: pick(live), includeInitial: true });
      counts.watchesOpened++;
      const holdMs = 500 + Math.random() * 2000;
      await new Promise<void>((resolve) => {
        stream.once('data', () => setTimeout(() => resolve(), holdMs));
        stream.on('error', (error: { code?: number }) => {
          if (error.code !== status.CANCELLED) fail('watch')(error);
          resolve();
        });
      });
      stream.cancel();
    };
    /** A session's whole life: created with variables, watched, written, closed (its watch ends with it). */
    let sessionSerial = 0;
    const sessionCycle = async () => {
      const sessionId = `churn-${sessionSerial++}`;
      try {
        const vars = await seedFloats(rpc, sessionId, 5, 'c');
        counts.sessionsOpened++;
        const stream = rpc.watch({ sessionId, includeInitial: true });
        let watching!: () => void;
        // Its first message (the initial values) says the server holds the watcher: only then is it written and closed.
        const subscribed = new Promise<void>((resolve) => (watching = resolve));
        const ended = new Promise<void>((resolve) => {
          stream.on('data', () => watching());
          stream.on('end', () => resolve());
          stream.on('error', (error) => {
            fail('session watch')(error);
            watching();
            resolve();
          });
        });
        await subscribed;
        for (const name of vars.slice(0, 3)) await rpc.call('setVariable', { sessionId, identifier: name, value: floatValue(1) }, ACTOR);
        await rpc.call('closeSession', { sessionId });
        counts.sessionsClosed++;
        await ended;
      } catch (error) {
        fail('session')(error);
      }
    };

    const samples: SoakSample[] = [];
    let compactionAt: number | undefined;
    let oldestRevisionAfter: number | undefined;
    const sample = async () => {
      const m: Scrape = await scrape(server.metricsPort);
      const t = round((performance.now() - started) / 1000, 1);
      const s: SoakSample = {
        t,
        rssMiB: round(m.value('process_resident_memory_bytes') / 2 ** 20, 2),
        eventLoopP99Ms: round(m.value('nodejs_eventloop_lag_p99_seconds') * 1000, 2),
        eventLoopMaxMs: round(m.value('nodejs_eventloop_lag_max_seconds') * 1000, 2),
        heapUsedMiB: round(m.value('nodejs_heap_size_used_bytes') / 2 ** 20, 2),
        heapTotalMiB: round(m.value('nodejs_heap_size_total_bytes') / 2 ** 20, 2),
        externalMiB: round(m.value('nodejs_external_memory_bytes') / 2 ** 20, 2),
        calls: m.value('varledger_rpc_calls_total'),
        watchers: m.value('varledger_watchers'),
        liveSessions: m.value('varledger_live_sessions'),
        databaseMiB: round(m.value('varledger_database_size_bytes') / 2 ** 20, 2),
        oldestRevision: m.value('varledger_log_oldest_revision'),
      };
      if (compactionAt === undefined && m.value('varledger_compactions_total') > 0) {
        compactionAt = t;
        oldestRevisionAfter = s.oldestRevision;
      }
      samples.push(s);
    };
    const sampler = (async () => {
      for (let second = 1; second <= SECONDS; second++) {
        const due = started + second * 1000 - performance.now();
        if (due > 0) await delay(due);
        await sample().catch(fail('scrape'));
      }
    })();

    await Promise.all([
      ...paced(WRITES_PER_SECOND, WORKERS, write),
      ...paced(READS_PER_SECOND, WORKERS, read),
      ...paced(SESSIONS_PER_SECOND, 2, sessionCycle),
      ...Array.from({ length: WATCHERS }, async () => {
        while (running()) await watchCycle();
      }),
      sampler,
    ]);
    const elapsed = (performance.now() - started) / 1000;

    const steady = samples.filter((s) => s.t > WARMUP_SECONDS);
    const rssSlope = slope(steady.map((s) => ({ x: s.t / 60, y: s.rssMiB })));
    const rssTroughs = slope(troughs(steady, 10, (s) => s.rssMiB));
    const heapTroughs = slope(troughs(steady, 10, (s) => s.heapUsedMiB));
    const firstSteady = steady[0];
    const last = samples[samples.length - 1];
    const callsMade = counts.writes + counts.reads;
    return {
      rssSlopeMiBPerMinute: round(rssSlope.slope, 2),
      rssSlopeStandardError: round(rssSlope.standardError, 2),
      rssTroughSlopeMiBPerMinute: round(rssTroughs.slope, 2),
      heapTroughSlopeMiBPerMinute: round(heapTroughs.slope, 2),
      rssAfterWarmupMiB: firstSteady?.rssMiB ?? Number.NaN,
      rssAtEndMiB: last?.rssMiB ?? Number.NaN,
      rssMaxMiB: Math.max(...samples.map((s) => s.rssMiB)),
      eventLoopP99Ms: {
        medianSecond: round(median(steady.map((s) => s.eventLoopP99Ms)), 2),
        worstSecond: Math.max(...steady.map((s) => s.eventLoopP99Ms)),
      },
      eventLoopMaxMs: Math.max(...steady.map((s) => s.eventLoopMaxMs)),
      idleProcessEventLoopP99Ms: round(await idle, 2),
      callsPerSecond: round(callsMade / elapsed, 0),
      counts,
      unexpectedErrors,
      firstErrors: errors,
      compaction: retention
        ? compactionAt !== undefined
          ? { ran: true, note: `serve --retain-ended 1s --retention-interval ${half}s`, atSecond: compactionAt, ...(oldestRevisionAfter !== undefined && { oldestRevisionAfter }) }
          : { ran: false, note: 'the retention sweep ran no compaction during the soak' }
        : { ran: false, note: 'not run: this build has no serve --retain-ended (retention not on main yet)' },
      samples,
      conditions: {
        seconds: SECONDS,
        warmupSeconds: WARMUP_SECONDS,
        writesPerSecond: WRITES_PER_SECOND,
        readsPerSecond: READS_PER_SECOND,
        sessionsPerSecond: SESSIONS_PER_SECOND,
        watchers: WATCHERS,
        loadAverageAtStart,
        loadAverageAtEnd: loadavg().map((x) => round(x, 2)),
        serverArgs: args.map((a) => (a.startsWith(tmp.dir) ? a.replace(tmp.dir, '<tmp>') : a)),
      },
    };
  } finally {
    rpc.close();
    await server.stop();
    tmp.remove();
  }
}
