/**
 * Turns the measured figures into a table of figure-vs-target rows, prints
 * it, and writes the JSON results file(s) under bench/results/.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../src/package-root.js';
import type { AuthOverheadResult } from './auth-overhead.js';
import { auditTargets, type AuditCliResult } from './audit-cli.js';
import type { BridgeBatchResult } from './bridge-batch.js';
import type { ClientCacheResult } from './client-cache.js';
import type { CommitVsSingleResult } from './commit-vs-single.js';
import type { HistoryLatencyResult } from './history-latency.js';
import { bridgeRows, pythonRows } from './python-report.js';
import type { ScaleResults } from './scale.js';
import { scaleRows } from './scale-report.js';
import { fmt, type TargetRow } from './target-row.js';
import type { PostgresNodesResult } from './postgres-nodes.js';
import type { PythonTableResult } from './python-table.js';
import type { StartupFoldResult } from './startup-fold.js';
import type { ThroughputResult } from './throughput.js';
import type { ToolLatencyResult } from './tool-latency.js';
import type { UnaryLatencyResult } from './unary-latency.js';
import type { WatchDeliveryResult } from './watch-delivery.js';
import type { MetricsOverheadResult } from './metrics-overhead.js';
import { SOAK_RSS_SLOPE_TARGET, type SoakResult } from './soak.js';

export interface CoreResults {
  unary?: UnaryLatencyResult;
  throughput?: ThroughputResult;
  commitVsSingle?: CommitVsSingleResult;
  startupFold?: StartupFoldResult;
  watchDelivery?: WatchDeliveryResult;
  history?: HistoryLatencyResult;
  clientCache?: ClientCacheResult;
  tools?: ToolLatencyResult;
  auth?: AuthOverheadResult;
  auditCli?: AuditCliResult;
  bridgeBatch?: BridgeBatchResult;
  python?: PythonTableResult;
  metricsOverhead?: MetricsOverheadResult;
  soak?: SoakResult;
  postgres?: PostgresNodesResult;
  /** Issue 12's scale figures (bench/scale.ts), each with its baseline and target inside. */
  scale?: ScaleResults;
}

export type { TargetRow } from './target-row.js';

const FOLD_TARGET_EVENTS = 1_000_000;
const WATCH_ONE_P99_TARGET_MS = 2;
const WATCH_MANY_P99_TARGET_MS = 20;
const WATCH_FANOUT_RATIO_TARGET = 0.7;
const FOLD_TARGET_SECONDS = 5;
const REPLAY_TARGET_EVENTS_PER_SECOND = 300_000;
/** Start-up with a snapshot, stated for 1,000,000 events (not scaled: it is mostly the snapshot). */
const SNAPSHOT_STARTUP_TARGET_SECONDS = 1;


export function targetRows(results: CoreResults): TargetRow[] {
  const rows: TargetRow[] = [];
  const { unary, throughput, commitVsSingle, startupFold, watchDelivery, history, clientCache, tools, auth, auditCli } = results;
  if (unary) {
    const latency = (benchmark: string, figure: { p50Us: number; p99Us: number }, p50Target?: number) => {
      rows.push({
        benchmark: `${benchmark} p50`,
        measured: `${fmt(figure.p50Us)} µs`,
        target: p50Target === undefined ? '—' : `≤ ${p50Target} µs`,
        met: p50Target === undefined ? null : figure.p50Us <= p50Target,
      });
      rows.push({ benchmark: `${benchmark} p99`, measured: `${fmt(figure.p99Us)} µs`, target: '—', met: null });
    };
    latency('GetVariable', unary.getVariable, 150);
    latency('SetVariable', unary.setVariable, 250);
    latency('RegisterVariable', unary.registerVariable);
    latency('(gRPC floor: Health/Check)', unary.grpcFloor);
  }
  if (throughput) {
    rows.push({
      benchmark: `SetVariable, ${throughput.conditions.concurrency} in flight`,
      measured: `${fmt(throughput.callsPerSecond)} calls/s`,
      target: '≥ 8,000 calls/s',
      met: throughput.callsPerSecond >= 8000,
    });
    rows.push({ benchmark: `  (gRPC floor: Health/Check, ${throughput.conditions.concurrency} in flight)`, measured: `${fmt(throughput.floorCallsPerSecond)} calls/s`, target: '—', met: null });
  }
  if (commitVsSingle) {
    const n = commitVsSingle.conditions.operations;
    rows.push({
      benchmark: `${n} × SetVariable vs Commit of ${n}`,
      measured: `${fmt(commitVsSingle.ratio, 1)}× (${fmt(commitVsSingle.singlesMedianMs, 1)} ms vs ${fmt(commitVsSingle.commitMedianMs, 2)} ms)`,
      // Issue 12 raised the first target (≥ 10×) to ≥ 20×.
      target: '≥ 20×',
      met: commitVsSingle.ratio >= 20,
    });
  }
  if (startupFold) {
    // The target is stated for 1,000,000 events; a smaller run is scaled linearly.
    const allowed = (FOLD_TARGET_SECONDS * startupFold.events) / FOLD_TARGET_EVENTS;
    rows.push({
      benchmark: `Start-up fold of ${fmt(startupFold.events)} events`,
      measured: `${fmt(startupFold.foldSeconds, 2)} s (${fmt(startupFold.eventsPerSecond)} events/s)`,
      target:
        startupFold.events === FOLD_TARGET_EVENTS
          ? `≤ ${FOLD_TARGET_SECONDS} s`
          : `≤ ${fmt(allowed, 2)} s (5 s per 1M, scaled)`,
      met: startupFold.foldSeconds <= allowed,
    });
    rows.push({
      benchmark: '  Replay rate (that full fold, no snapshot)',
      measured: `${fmt(startupFold.replayEventsPerSecond)} events/s`,
      target: `≥ ${fmt(REPLAY_TARGET_EVENTS_PER_SECOND)} events/s`,
      met: startupFold.replayEventsPerSecond >= REPLAY_TARGET_EVENTS_PER_SECOND,
    });
    rows.push({
      benchmark: `  (writing them, batches of ${fmt(startupFold.conditions.writeBatch)})`,
      measured: `${fmt(startupFold.writeSeconds, 2)} s (${fmt(startupFold.writeEventsPerSecond)} events/s)`,
      target: '—',
      met: null,
    });
    const { snapshotWrite, startupWithSnapshot, startupWithSnapshotAndTail } = startupFold;
    rows.push({
      benchmark: `  (writing a snapshot at ${fmt(snapshotWrite.revision)}, ${fmt(snapshotWrite.rows)} sessions)`,
      measured: `${fmt(snapshotWrite.seconds * 1000)} ms, ${fmt(snapshotWrite.stateBytes / 1024)} KiB of state`,
      target: '—',
      met: null,
    });
    const snapshotRow = (benchmark: string, figure: typeof startupWithSnapshot) => {
      rows.push({
        benchmark,
        measured: `${fmt(figure.startupSeconds * 1000)} ms (store open ${fmt(figure.storeOpenMs, 1)} ms)`,
        target: `≤ ${fmt(SNAPSHOT_STARTUP_TARGET_SECONDS)} s`,
        met: figure.startupSeconds <= SNAPSHOT_STARTUP_TARGET_SECONDS,
      });
    };
    snapshotRow(`Start-up, ${fmt(startupWithSnapshot.events)} events, snapshot at head`, startupWithSnapshot);
    snapshotRow(
      `Start-up, snapshot + ${fmt(startupWithSnapshotAndTail.tailEvents)}-event tail`,
      startupWithSnapshotAndTail,
    );
  }
  if (watchDelivery) {
    const { oneWatcher, manyWatchers, streamRate, fanOut, conditions } = watchDelivery;
    const drain = fanOut.drainMs.length > 0 ? Math.max(...fanOut.drainMs) : 0;
    const n = conditions.manyWatchers;
    const delivery = (benchmark: string, figure: { p50Ms: number; p99Ms: number }, p99Target?: number) => {
      rows.push({ benchmark: `${benchmark} p50`, measured: `${fmt(figure.p50Ms, 2)} ms`, target: '—', met: null });
      rows.push({
        benchmark: `${benchmark} p99`,
        measured: `${fmt(figure.p99Ms, 2)} ms`,
        target: p99Target === undefined ? '—' : `≤ ${p99Target} ms`,
        met: p99Target === undefined ? null : figure.p99Ms <= p99Target,
      });
    };
    delivery('Set → event, 1 watcher', oneWatcher, WATCH_ONE_P99_TARGET_MS);
    delivery('  (the SetVariable call itself)', watchDelivery.oneWatcherSetCall);
    delivery(`Set → event, last of ${n} watchers`, manyWatchers.last, WATCH_MANY_P99_TARGET_MS);
    delivery(`  (first of ${n})`, manyWatchers.first);
    delivery(`  (median of ${n})`, manyWatchers.median);
    rows.push({
      benchmark: `Events/s to 1 watcher, ${conditions.concurrency} sets in flight`,
      measured: `${fmt(streamRate.eventsPerSecond)} events/s (writes ${fmt(streamRate.writesPerSecond)}/s)`,
      target: '—',
      met: null,
    });
    rows.push({
      benchmark: `SetVariable ${conditions.concurrency} in flight, ${n} watchers vs 0`,
      measured: `${fmt(fanOut.ratio * 100)} % (${fmt(fanOut.withWatchersCallsPerSecond)} vs ${fmt(fanOut.withoutWatchersCallsPerSecond)} calls/s)`,
      target: `≥ ${fmt(WATCH_FANOUT_RATIO_TARGET * 100)} %`,
      met: fanOut.ratio >= WATCH_FANOUT_RATIO_TARGET,
    });
    rows.push({
      benchmark: `  (all ${n} watchers caught up after the last write)`,
      measured: `≤ ${fmt(drain)} ms`,
      target: '—',
      met: null,
    });
  }
  if (history) {
    const n = history.conditions.versions;
    const latency = (benchmark: string, figure: { p50Us: number; p99Us: number }) => {
      rows.push({ benchmark: `${benchmark} p50`, measured: `${fmt(figure.p50Us)} µs`, target: '—', met: null });
      rows.push({ benchmark: `${benchmark} p99`, measured: `${fmt(figure.p99Us)} µs`, target: '—', met: null });
    };
    const limit = history.conditions.pageLimit;
    latency(`GetHistory newest ${limit} of ${fmt(n)}`, history.newestPage);
    latency(`GetHistory ${limit} before v${fmt(history.conditions.deepBeforeVersion)}`, history.deepPage);
    latency(`GetHistory all ${fmt(n)} (${fmt(history.wholeHistoryResponseBytes / 1024)} KiB)`, history.wholeHistory);
    latency('  (GetVariable, same variable)', history.getVariable);
  }
  if (clientCache) {
    const { cachedGet, uncachedGet, speedupP50, targets } = clientCache;
    rows.push({
      benchmark: 'Client get, cached (watch) vs uncached, p50',
      measured: `${fmt(cachedGet.p50Us, 2)} µs vs ${fmt(uncachedGet.p50Us)} µs (${fmt(speedupP50)}×)`,
      target: `≥ ${targets.speedupAtLeast}×, ≤ ${targets.cachedP50UsAtMost} µs`,
      met: targets.met,
    });
    for (const c of clientCache.concurrency) {
      rows.push({
        benchmark: `  client get+set, ${c.workers} workers, cache ${c.cache}`,
        measured: `${fmt(c.pairsPerSec)} pairs/s, p99 ${fmt(c.p99Us / 1000, 1)} ms`,
        target: '—',
        met: null,
      });
    }
    for (const h of clientCache.hotCold) {
      rows.push({
        benchmark: `  80/20 hot/cold over 20 variables, cache ${h.cache}`,
        measured: `hit rate ${fmt(h.hitRate * 100, 1)} %, stale reads ${fmt(h.staleReads)}`,
        target: '—',
        met: null,
      });
    }
  }
  if (tools) {
    const latency = (benchmark: string, figure: { p50Us: number; p99Us: number }) => {
      rows.push({ benchmark: `${benchmark} p50`, measured: `${fmt(figure.p50Us)} µs`, target: '—', met: null });
      rows.push({ benchmark: `${benchmark} p99`, measured: `${fmt(figure.p99Us)} µs`, target: '—', met: null });
    };
    latency('ExecuteTool echo, server-side', tools.serverEcho);
    latency('ExecuteTool echo, worker-hosted', tools.workerEcho);
    latency('  (gRPC floor: Health/Check)', tools.grpcFloor);
    const stream = (benchmark: string, figure: ToolLatencyResult['serverStream']) => {
      rows.push({
        benchmark,
        measured: `${fmt(figure.chunksPerSecond)} chunks/s (${fmt(figure.medianMs)} ms per call)`,
        target: '—',
        met: null,
      });
    };
    const n = fmt(tools.conditions.streamChunks);
    stream(`ExecuteStreamingTool ${n} chunks, server-side`, tools.serverStream);
    stream(`ExecuteStreamingTool ${n} chunks, worker-hosted`, tools.workerStream);
  }
  if (auth) {
    for (const [name, key, ratio] of [
      ['GetVariable', 'getVariable', auth.getP50Ratio],
      ['SetVariable', 'setVariable', auth.setP50Ratio],
    ] as const) {
      const on = auth.auth[key];
      const off = auth.plain[key];
      rows.push({
        benchmark: `${name} with auth (p50 / p99)`,
        measured: `${fmt(on.p50Us)} / ${fmt(on.p99Us)} µs vs ${fmt(off.p50Us)} / ${fmt(off.p99Us)} µs without: ×${fmt(ratio, 2)}`,
        target: '—',
        met: null,
      });
    }
    rows.push({
      benchmark: 'auth decision per call (in process, p50 / p99)',
      measured: `${fmt(auth.decision.p50Us, 1)} / ${fmt(auth.decision.p99Us, 1)} µs`,
      target: '—',
      met: null,
    });
  }
  if (auditCli) rows.push(...auditTargets(auditCli));
  if (results.bridgeBatch) rows.push(...bridgeRows(results.bridgeBatch));
  if (results.python) rows.push(...pythonRows(results.python));
  if (results.scale) rows.push(...scaleRows(results.scale));
  if (results.metricsOverhead) rows.push(...metricsRows(results.metricsOverhead));
  if (results.soak) rows.push(...soakRows(results.soak));
  if (results.postgres) rows.push(...postgresRows(results.postgres));
  return rows;
}

/** Our own bound for "small": metrics may cost at most 5 % of 16-in-flight throughput. */
const METRICS_RATIO_TARGET = 0.95;

function metricsRows(m: MetricsOverheadResult): TargetRow[] {
  const row = (name: string, f: MetricsOverheadResult['setVariable']): TargetRow => ({
    benchmark: `${name}, ${m.conditions.concurrency} in flight, with / without metrics`,
    measured: `${fmt(f.metricsCallsPerSecond)} vs ${fmt(f.plainCallsPerSecond)} calls/s: ×${fmt(f.ratio, 3)}`,
    target: `≥ ×${METRICS_RATIO_TARGET}`,
    met: f.ratio >= METRICS_RATIO_TARGET,
  });
  return [
    row('SetVariable', m.setVariable),
    row('GetVariable', m.getVariable),
    {
      benchmark: '  (what metrics add per SetVariable in process: interceptor, recording, pipeline hook; share of a GetVariable at the rate above)',
      measured: `${fmt(m.recordUs, 2)} µs, ${fmt((100 * m.recordUs * m.getVariable.plainCallsPerSecond) / 1e6, 2)} %`,
      target: '—',
      met: null,
    },
    {
      benchmark: '  (one scrape after the rounds: calls counted / made)',
      measured: `${fmt(m.scrapedCalls)} / ${fmt(m.madeCalls)}, ${fmt(m.scrapeMs, 1)} ms, ${fmt(m.scrapeBytes / 1024, 1)} KiB`,
      target: 'all counted',
      met: m.scrapedCalls >= m.madeCalls,
    },
  ];
}

function soakRows(s: SoakResult): TargetRow[] {
  const c = s.conditions;
  return [
    {
      benchmark: `Soak ${c.seconds} s: RSS slope after ${c.warmupSeconds} s warm-up`,
      measured: `${fmt(s.rssSlopeMiBPerMinute, 2)} ± ${fmt(s.rssSlopeStandardError, 2)} MiB/min (${fmt(s.rssAfterWarmupMiB, 1)} → ${fmt(s.rssAtEndMiB, 1)} MiB, max ${fmt(s.rssMaxMiB, 1)})`,
      target: `< ${SOAK_RSS_SLOPE_TARGET} MiB/min (slope + 2 SE)`,
      // Met only when the slope is below the target with its uncertainty: a falling GC sawtooth is no proof.
      met: s.rssSlopeMiBPerMinute + 2 * s.rssSlopeStandardError < SOAK_RSS_SLOPE_TARGET,
    },
    {
      benchmark: '  slope through the low point of each 10 s (after GC): RSS, heap used',
      measured: `${fmt(s.rssTroughSlopeMiBPerMinute, 2)}, ${fmt(s.heapTroughSlopeMiBPerMinute, 2)} MiB/min`,
      target: `< ${SOAK_RSS_SLOPE_TARGET} MiB/min`,
      met: s.rssTroughSlopeMiBPerMinute < SOAK_RSS_SLOPE_TARGET && s.heapTroughSlopeMiBPerMinute < SOAK_RSS_SLOPE_TARGET,
    },
    {
      benchmark: '  event-loop delay p99 per second (median / worst), max',
      measured: `${fmt(s.eventLoopP99Ms.medianSecond, 1)} / ${fmt(s.eventLoopP99Ms.worstSecond, 1)} ms, max ${fmt(s.eventLoopMaxMs, 1)} ms (an idle process: p99 ${fmt(s.idleProcessEventLoopP99Ms, 1)} ms)`,
      target: '—',
      met: null,
    },
    {
      benchmark: '  load: calls/s, watches, sessions opened/closed',
      measured: `${fmt(s.callsPerSecond)} of ${fmt(s.conditions.writesPerSecond + s.conditions.readsPerSecond)} paced calls/s, load ${s.conditions.loadAverageAtStart.join(' ')} → ${s.conditions.loadAverageAtEnd.join(' ')}, ${fmt(s.counts.watchesOpened)} watches, ${fmt(s.counts.sessionsOpened)}/${fmt(s.counts.sessionsClosed)} sessions`,
      target: '—',
      met: null,
    },
    {
      benchmark: '  compaction in the middle',
      measured: s.compaction.ran ? `at ${fmt(s.compaction.atSecond ?? 0, 1)} s (${s.compaction.note})` : s.compaction.note,
      target: 'ran',
      met: s.compaction.ran,
    },
    {
      benchmark: '  unexpected call errors',
      measured: s.unexpectedErrors === 0 ? '0' : `${fmt(s.unexpectedErrors)}: ${s.firstErrors.join('; ')}`,
      target: '0',
      met: s.unexpectedErrors === 0,
    },
  ];
}

export function printTable(rows: readonly TargetRow[]): void {
  console.table(
    rows.map((r) => ({
      benchmark: r.benchmark,
      measured: r.measured,
      target: r.target,
      met: r.met === null ? '' : r.met ? 'yes' : 'NO',
    })),
  );
}

/**
 * Writes the run to the untracked bench/results/local/ (<suite>-<timestamp>.json
 * and <suite>-latest.json); the committed bench/results/<suite>-baseline.json
 * only when `baseline` is asked for (BENCH_BASELINE=1). Returns the paths.
 */
export function writeResults(document: object, startedAt: Date, baseline = false, dir = join(PACKAGE_ROOT, 'bench', 'results'), suite = 'core'): string[] {
  const local = join(dir, 'local');
  mkdirSync(local, { recursive: true });
  // ISO 8601 basic-ish form without ':' so the name is valid on every file system.
  const stamp = startedAt.toISOString().replace(/\.\d+Z$/, 'Z').replaceAll(':', '-');
  const text = `${JSON.stringify(document, null, 2)}\n`;
  const paths = [join(local, `${suite}-${stamp}.json`), join(local, `${suite}-latest.json`)];
  if (baseline) paths.push(join(dir, `${suite}-baseline.json`));
  for (const path of paths) writeFileSync(path, text);
  return paths;
}

const POSTGRES_OVER_SQLITE_TARGET = 0.6;
const CROSS_NODE_WATCH_P99_TARGET_MS = 50;

/** Issue 13's figures: one PostgreSQL node against one SQLite node, two against one, watch delivery across nodes. */
function postgresRows(r: PostgresNodesResult): TargetRow[] {
  const load = (x: PostgresNodesResult['sqlite1']) => `load ${x.loadAverage.join(' ')}`;
  const config = (name: string, x: PostgresNodesResult['sqlite1']): TargetRow => ({
    benchmark: `  (${name}: 16 in flight / 64 writers, writes/s, p50/p99 ms)`,
    measured: `${fmt(x.inFlight16.writesPerSecond)} (${fmt(x.inFlight16.p50Ms, 2)}/${fmt(x.inFlight16.p99Ms, 2)}) / ${fmt(x.writers64.writesPerSecond)} (${fmt(x.writers64.p50Ms, 2)}/${fmt(x.writers64.p99Ms, 2)}); ${load(x)}`,
    target: '—',
    met: null,
  });
  return [
    {
      benchmark: 'PostgreSQL node vs SQLite node, SetVariable 16 in flight',
      measured: `${fmt(r.postgresOverSqlite16, 2)}× (${fmt(r.postgres1.inFlight16.writesPerSecond)} vs ${fmt(r.sqlite1.inFlight16.writesPerSecond)}/s)`,
      target: `≥ ${POSTGRES_OVER_SQLITE_TARGET}×`,
      met: r.postgresOverSqlite16 >= POSTGRES_OVER_SQLITE_TARGET,
    },
    {
      benchmark: 'Watch delivery across PostgreSQL nodes (set on A → event on B), p99',
      measured: `${fmt(r.postgres2.watch.p99Ms, 1)} ms (p50 ${fmt(r.postgres2.watch.p50Ms, 1)} ms)`,
      target: `≤ ${CROSS_NODE_WATCH_P99_TARGET_MS} ms`,
      met: r.postgres2.watch.p99Ms <= CROSS_NODE_WATCH_P99_TARGET_MS,
    },
    config('SQLite, 1 node', r.sqlite1),
    config('PostgreSQL, 1 node', r.postgres1),
    config('PostgreSQL, 2 nodes', r.postgres2),
    {
      benchmark: '  (2 PostgreSQL nodes vs 1: 16 in flight / 64 writers)',
      measured: `${fmt(r.twoOverOnePostgres16, 2)}× / ${fmt(r.twoOverOnePostgres64, 2)}×`,
      target: '—',
      met: null,
    },
    {
      benchmark: '  (watch, same node: SQLite / PostgreSQL, p50/p99 ms)',
      measured: `${fmt(r.sqlite1.watch.p50Ms, 2)}/${fmt(r.sqlite1.watch.p99Ms, 2)} / ${fmt(r.postgres1.watch.p50Ms, 2)}/${fmt(r.postgres1.watch.p99Ms, 2)}`,
      target: '—',
      met: null,
    },
  ];
}
