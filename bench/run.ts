/**
 * `npm run bench`: varledger's core benchmarks over real gRPC on loopback.
 *
 *   unary       sequential p50/p99 latency of GetVariable, SetVariable,
 *               RegisterVariable (tinybench)                 unary-latency.ts
 *   throughput  SetVariable calls/s with 16 calls in flight  throughput.ts
 *   commit      100 single SetVariable calls vs one Commit of 100 sets
 *                                                            commit-vs-single.ts
 *   fold        start-up on one 1,000,000-event log: the full fold with no
 *               snapshot (also reported as the replay rate), writing one
 *               snapshot at the head (time, size), start-up from it, and
 *               start-up from it plus a 5,000-event tail   startup-fold.ts
 *   watch       WatchVariables: set → event p50/p99 with 1 and 100 watchers,
 *               events/s to one watcher under 16-in-flight writes, and
 *               16-in-flight SetVariable calls/s with 100 watchers vs none
 *                                                            watch-delivery.ts
 *   history     GetHistory p50/p99 on one variable with 10,000 versions:
 *               newest page (100), a page before v5000 (100), all 10,000;
 *               GetVariable on the same variable for comparison
 *                                                            history-latency.ts
 *   client      the TypeScript client: cached (watch) vs uncached get, get+set
 *               with 1/5/10/20 workers, an 80/20 hot/cold pattern's hit rate
 *                                                            client-cache.ts
 *   zero, contention, bigsession, closed
 *               issue 12's scale figures against their baselines  scale.ts
 *   tools       ExecuteTool p50/p99 (tinybench, sequential) of a trivial
 *               `echo` tool, server-side and hosted by a ServeTools worker
 *               in this process; chunks/s of one ExecuteStreamingTool call
 *               streaming 10,000 small chunks, server-side and worker-hosted
 *               (always in-process: BENCH_SERVER does not apply)
 *                                                            tool-latency.ts
 *   auth        GetVariable / SetVariable p50/p99 with auth off and on (an
 *               auth file of 100 principals, a bearer token), and the ratio
 *               (always in-process)                          auth-overhead.ts
 *   audit       `varledger audit` through the CLI on a 200,000-event log:
 *               the default (newest 100), `--limit 0` first row, total,
 *               peak RSS against a log half the size    audit-cli.ts
 *   bridge      Snakepit bridge: SetVariables / GetVariables of 100 vs one
 *               SetVariable / GetVariable (medians; target ≤ 3× each)
 *                                                            bridge-batch.ts
 *   metrics     16-in-flight SetVariable / GetVariable calls/s on two
 *               in-process servers, without and with --metrics-port, rounds
 *               alternating, and the ratio; a scrape checks every call was
 *               counted (always in-process)             metrics-overhead.ts
 *   soak        60 s of mixed load on a `varledger serve` child process
 *               (writes, reads, watches and sessions opening and closing, a
 *               compaction in the middle): RSS slope after warm-up (target
 *               < 1 MiB/min) and event-loop delay p99, sampled each second
 *               from the server's /metrics                   soak.ts
 *   postgres    issue 13: one SQLite node, one PostgreSQL node, two
 *               PostgreSQL nodes (server child processes; PostgreSQL started
 *               as the tests do): writes/s at 16 in flight and with 64
 *               writers, p50/p99, set → watch event across nodes
 *                                                            postgres-nodes.ts
 *   python      the seeds' table from Python (Snakepit's SessionContext when
 *               VARLEDGER_SNAKEPIT_DIR names a checkout, else our test
 *               worker) beside the native API: register, get uncached /
 *               cached, update, 100 singles vs a batch of 100, get+set from
 *               1 and 10 threads; needs Debian's python3-grpcio & co.
 *                                                            python-table.ts
 *
 * Select a subset by name, as arguments or a comma-separated env var:
 *   npm run bench -- fold            npm run bench -- unary commit
 *   BENCH_ONLY=unary,throughput npm run bench
 * No selection runs them all (about 3½ minutes on a 2-core machine: fold
 * ≈ 28 s, most of it writing the log; history ≈ 16 s; client ≈ 21 s;
 * tools ≈ 15 s).
 *
 * Other knobs (env):
 *   BENCH_FOLD_EVENTS=200000   events in the fold log (default 1,000,000)
 *   BENCH_SERVER=child         server in a forked child process instead of
 *                              in this one (default `inproc`; see server-fixture.ts)
 *   BENCH_LATENCY_MS, BENCH_THROUGHPUT_CALLS, BENCH_COMMIT_ROUNDS
 *                              time per latency task (3000; unary and
 *                              history), calls per throughput round (20000),
 *                              commit rounds (40)
 *   BENCH_TOOLS_LATENCY_MS, BENCH_TOOLS_STREAM_CHUNKS
 *                              tools: time per latency task (2500), chunks
 *                              per streaming call (10000)
 *   BENCH_WATCH_SAMPLES, BENCH_WATCH_WRITES, BENCH_WATCH_FANOUT_CALLS
 *                              watch: sequential latency samples per case
 *                              (2000), writes for events/s (10000), calls per
 *                              watched/unwatched round (3000)
 *   BENCH_SCALE_CONTENTION_ROUNDS, BENCH_SCALE_INCREMENTS
 *                              contention: measured rounds of its five
 *                              configurations after a warm-up round (3),
 *                              increments per writer per run (100)
 *   BENCH_SCALE_CLOSED         closed: sessions created and closed (20000)
 *   BENCH_SCALE_CLOSED_RUNS, BENCH_SCALE_CLOSED_SERVED_RUNS
 *                              closed: fresh child processes, in process
 *                              and `varledger serve`; medians taken (3, 3)
 *   BENCH_BRIDGE_ROUNDS, BENCH_PYTHON_ROUNDS
 *                              bridge: rounds of the four calls (200);
 *                              python: rounds of singles vs batch (9)
 *   BENCH_METRICS_CALLS, BENCH_METRICS_ROUNDS
 *                              metrics: calls per round (5000), rounds per
 *                              server (5)
 *   BENCH_SOAK_SECONDS, BENCH_SOAK_WARMUP_SECONDS, BENCH_SOAK_WRITES,
 *   BENCH_SOAK_READS, BENCH_SOAK_SESSIONS, BENCH_SOAK_WATCHERS
 *                              soak: duration (60), warm-up excluded from the
 *                              slope (a third), writes/s (300), reads/s (300),
 *                              sessions opened and closed /s (4), watch
 *                              streams cycling (8)
 *   VARLEDGER_SNAKEPIT_DIR     a Snakepit checkout at 40d87b1: the python
 *                              section then uses Snakepit's own client
 *
 * Prints a table of each figure against its target and writes the results,
 * with the conditions they were measured under, to the untracked
 * bench/results/local/core-<ISO time>.json and …/local/core-latest.json.
 * The committed baseline, bench/results/core-baseline.json, is rewritten
 * only when asked: BENCH_BASELINE=1 npm run bench.
 * When unary or throughput ran, an SVG chart of them beside the zero-work
 * server goes beside the JSON (core-<ISO time>.svg, core-latest.svg, and
 * core-baseline.svg with the baseline; chart.ts).
 * Each gRPC section gets its own server and temp database; all are shut down
 * and removed before the process exits.
 */
import { cpus, loadavg, totalmem } from 'node:os';
import { runAuthOverhead } from './auth-overhead.js';
import { runAuditCli } from './audit-cli.js';
import { runClientCache } from './client-cache.js';
import { runBridgeBatch } from './bridge-batch.js';
import { benchChartSvg, writeChart } from './chart.js';
import { runCommitVsSingle } from './commit-vs-single.js';
import { runHistoryLatency } from './history-latency.js';
import { runPostgresNodes } from './postgres-nodes.js';
import { runPythonTable } from './python-table.js';
import { printTable, targetRows, writeResults, type CoreResults } from './report.js';
import { serverPlacement, startBenchServer, type BenchServer } from './server-fixture.js';
import { runStartupFold } from './startup-fold.js';
import { round, since } from './stats.js';
import { runThroughput } from './throughput.js';
import { runToolLatency } from './tool-latency.js';
import { runUnaryLatency } from './unary-latency.js';
import { runWatchDelivery } from './watch-delivery.js';
import { runScale } from './scale.js';
import { runMetricsOverhead } from './metrics-overhead.js';
import { runSoak } from './soak.js';

const SECTIONS = ['unary', 'throughput', 'commit', 'fold', 'watch', 'history', 'client', 'tools', 'auth', 'audit', 'bridge', 'python', 'postgres', 'zero', 'contention', 'bigsession', 'closed', 'metrics', 'soak'] as const;

class UsageError extends Error {}
type Section = (typeof SECTIONS)[number];

function selectedSections(): Section[] {
  const requested = [...process.argv.slice(2), ...(process.env.BENCH_ONLY ?? '').split(',')]
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '');
  const unknown = requested.filter((s) => !(SECTIONS as readonly string[]).includes(s));
  if (unknown.length > 0) {
    throw new UsageError(`unknown benchmark(s): ${unknown.join(', ')}; choose from ${SECTIONS.join(', ')}`);
  }
  return requested.length === 0 ? [...SECTIONS] : SECTIONS.filter((s) => requested.includes(s));
}

async function withServer<T>(fn: (server: BenchServer) => Promise<T>): Promise<T> {
  const server = await startBenchServer();
  try {
    return await fn(server);
  } finally {
    await server.stop();
  }
}

function conditions() {
  const cpuList = cpus();
  return {
    node: process.version,
    v8: process.versions.v8,
    platform: `${process.platform}-${process.arch}`,
    cpuCount: cpuList.length,
    cpuModel: cpuList[0]?.model ?? 'unknown',
    cpuMHz: cpuList[0]?.speed ?? 0,
    totalMemGiB: round(totalmem() / 2 ** 30, 1),
    loadAverage: loadavg().map((x) => round(x, 2)),
    serverPlacement: serverPlacement(),
    durability: 'normal',
  };
}

async function main(): Promise<void> {
  const sections = selectedSections();
  const startedAt = new Date();
  const start = performance.now();
  const before = conditions();
  console.log(`varledger core bench: ${sections.join(', ')} — node ${before.node}, ${before.cpuCount} × ${before.cpuModel}, server ${before.serverPlacement}`);

  const results: CoreResults = {};
  const step = async <T>(name: Section, fn: () => Promise<T>): Promise<T> => {
    const t = performance.now();
    process.stdout.write(`  ${name} … `);
    const value = await fn();
    console.log(`${round(since(t) / 1000, 1)} s`);
    return value;
  };
  for (const section of sections) {
    switch (section) {
      case 'unary':
        results.unary = await step(section, () => withServer(runUnaryLatency));
        break;
      case 'throughput':
        results.throughput = await step(section, () => withServer(runThroughput));
        break;
      case 'commit':
        results.commitVsSingle = await step(section, () => withServer(runCommitVsSingle));
        break;
      case 'fold':
        results.startupFold = await step(section, runStartupFold);
        break;
      case 'watch':
        results.watchDelivery = await step(section, () => withServer(runWatchDelivery));
        break;
      case 'history':
        results.history = await step(section, () => withServer(runHistoryLatency));
        break;
      case 'client':
        results.clientCache = await step(section, () => withServer(runClientCache));
        break;
      case 'tools':
        // Its own server: the bench fixture's has no tools.
        results.tools = await step(section, runToolLatency);
        break;
      case 'auth':
        results.auth = await step(section, runAuthOverhead);
        break;
      case 'audit':
        results.auditCli = await step(section, runAuditCli);
        break;
      case 'bridge':
        results.bridgeBatch = await step(section, () => withServer((server) => runBridgeBatch(server)));
        break;
      case 'python':
        results.python = await step(section, () => withServer(runPythonTable));
        break;
      case 'metrics':
        results.metricsOverhead = await step(section, runMetricsOverhead);
        break;
      case 'soak':
        results.soak = await step(section, runSoak);
        break;
      case 'postgres':
        // Its own servers: child processes on SQLite and on PostgreSQL.
        results.postgres = await step(section, runPostgresNodes);
        break;
      case 'zero':
      case 'contention':
      case 'bigsession':
      case 'closed':
        results.scale = { ...results.scale, ...(await step(section, () => runScale([section]))) };
        break;
    }
  }

  const rows = targetRows(results);
  printTable(rows);
  const document = {
    suite: 'core',
    timestamp: startedAt.toISOString(),
    durationSeconds: round(since(start) / 1000, 1),
    sections,
    conditions: { ...before, loadAverageAtEnd: loadavg().map((x) => round(x, 2)) },
    targets: rows,
    results,
  };
  const baseline = process.env.BENCH_BASELINE === '1';
  const paths = writeResults(document, startedAt, baseline);
  // The chart of latency and throughput beside the zero-work server (when those ran).
  const svg = benchChartSvg(document);
  if (svg) paths.push(...writeChart(svg, startedAt, baseline));
  console.log(`results: ${paths.join(', ')}`);
}

main().catch((error: unknown) => {
  console.error(error instanceof UsageError ? error.message : error);
  process.exitCode = 1;
});
