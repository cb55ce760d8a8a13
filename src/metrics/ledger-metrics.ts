/**
 * The server's Prometheus metrics, the only place that knows prom-client.
 *
 * Everything else reports through small interfaces it declares itself (the
 * pipeline's `onAppended`, the tool hub's `onCallEnded`, the auth
 * interceptor's `onDenied`, the RPC interceptor's RpcRecorder) or is read
 * when Prometheus scrapes (`MetricSources`): gauges are collected lazily, so
 * a write pays for a few counter increments and nothing else.
 *
 * One Registry per server, not prom-client's global one, so several servers
 * in one process (tests, embedders) keep their own figures. Names follow
 * Prometheus conventions: `varledger_` prefix, unit suffix, `_total` on
 * counters; label values come from closed sets (methods registered on the
 * port, status code names, event kinds, outcomes), never from request data.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { status } from '@grpc/grpc-js';
import type { StoredEvent } from '../domain/index.js';
import type { DenialReason } from '../server/auth-interceptor.js';
import type { CallType, RpcRecorder } from '../server/metrics-interceptor.js';
import type { AppendedRound } from '../service/command-pipeline.js';
import type { StorageStats } from '../store/event-store.js';
import type { ToolOutcome } from '../tools/tool-hub.js';
import type { WatchStats } from '../watch/watch-hub.js';

/** What gauges read at scrape time. */
export interface MetricSources {
  /** The newest revision applied. */
  head(): number;
  liveSessions(): number;
  /** The oldest revision reads can ask for: one above the retention horizon. */
  oldestRevision(): number;
  /** Watch hubs by API (`native`, `bridge`). */
  readonly watchers: Readonly<Record<string, () => WatchStats>>;
  storage(): Promise<StorageStats>;
}

/** Latency buckets (seconds): sub-millisecond unary calls up to long tool calls and streams. */
const RPC_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** Logical commits per transaction: 1 without concurrency, up to hundreds under load. */
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512];
const APPEND_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

/** `/package.Service/Method` → [service, method], remembered (paths are the few methods on the port). */
const pathParts = new Map<string, readonly [string, string]>();
function splitPath(path: string): readonly [string, string] {
  let parts = pathParts.get(path);
  if (!parts) {
    const slash = path.lastIndexOf('/');
    parts = [path.slice(1, slash), path.slice(slash + 1)];
    pathParts.set(path, parts);
  }
  return parts;
}

/** Status code names as grpc-js spells them (`OK`, `NOT_FOUND`, …). */
const codeName = (code: status): string => status[code] ?? String(code);

export class LedgerMetrics implements RpcRecorder {
  readonly registry = new Registry();
  private readonly rpcCalls: Counter<'service' | 'method' | 'type' | 'code'>;
  private readonly rpcSeconds: Histogram<'service' | 'method' | 'type' | 'code'>;
  private readonly eventsAppended: Counter<'kind'>;
  private readonly commits: Counter;
  private readonly conflicts: Counter;
  private readonly batchSize: Histogram;
  private readonly appendSeconds: Histogram;
  private readonly toolCalls: Counter<'outcome'>;
  private readonly authDenials: Counter<'reason'>;
  private readonly compactions: Counter;
  private readonly compactedSessions: Counter;
  private readonly compactedEvents: Counter;
  private sources: MetricSources | undefined;

  constructor() {
    const registers = [this.registry];
    // Resident memory, CPU, heap, GC and event-loop delay of this process, under their usual names.
    collectDefaultMetrics({ register: this.registry });
    this.rpcCalls = new Counter({
      name: 'varledger_rpc_calls_total',
      help: 'Calls that ended, by service, method, call type and final gRPC status code (streams count once, when they end).',
      labelNames: ['service', 'method', 'type', 'code'],
      registers,
    });
    this.rpcSeconds = new Histogram({
      name: 'varledger_rpc_duration_seconds',
      help: 'Time from a call arriving to its final status, by service, method, call type and status code.',
      labelNames: ['service', 'method', 'type', 'code'],
      buckets: RPC_BUCKETS,
      registers,
    });
    this.eventsAppended = new Counter({
      name: 'varledger_events_appended_total',
      help: 'Events this server appended to the log by commands, by event kind (a compaction\'s log_compacted is counted by varledger_compactions_total).',
      labelNames: ['kind'],
      registers,
    });
    this.commits = new Counter({ name: 'varledger_commits_total', help: 'Logical commits this server appended (each one atomic).', registers });
    this.conflicts = new Counter({
      name: 'varledger_commit_conflicts_total',
      help: 'Commits the store refused because the log moved under them (another node or process wrote the session); they are decided again.',
      registers,
    });
    this.batchSize = new Histogram({
      name: 'varledger_group_commit_batch_commits',
      help: 'Logical commits per store transaction (group commit).',
      buckets: BATCH_BUCKETS,
      registers,
    });
    this.appendSeconds = new Histogram({
      name: 'varledger_append_duration_seconds',
      help: 'Time the store took to append one group-commit batch, its transaction included.',
      buckets: APPEND_BUCKETS,
      registers,
    });
    this.toolCalls = new Counter({
      name: 'varledger_tool_calls_total',
      help: 'Tool calls on the record, by outcome: completed, failed, invalid_argument, cancelled, deadline_exceeded, unavailable.',
      labelNames: ['outcome'],
      registers,
    });
    this.authDenials = new Counter({
      name: 'varledger_auth_denials_total',
      help: 'Calls refused by authentication or authorization, by reason: unauthenticated, permission_denied, limit_exceeded.',
      labelNames: ['reason'],
      registers,
    });
    this.compactions = new Counter({
      name: 'varledger_compactions_total',
      help: 'Compactions (retention) folded into this server, whoever ran them: this server, the CLI or another node.',
      registers,
    });
    this.compactedSessions = new Counter({ name: 'varledger_compacted_sessions_total', help: 'Ended sessions compactions moved into archives.', registers });
    this.compactedEvents = new Counter({ name: 'varledger_compacted_events_total', help: 'Events compactions moved into archives.', registers });
    this.defineGauges();
  }

  /** A log_compacted event reached the projection. */
  compacted(sessions: number, events: number): void {
    this.compactions.inc();
    this.compactedSessions.inc(sessions);
    this.compactedEvents.inc(events);
  }

  /** Connects the gauges to what they read; until then they report nothing. */
  collectFrom(sources: MetricSources): void {
    this.sources = sources;
  }

  /** The exposition text of every metric. */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  callEnded(path: string, type: CallType, code: status, seconds: number): void {
    const [service, method] = splitPath(path);
    const labels = { service, method, type, code: codeName(code) };
    this.rpcCalls.inc(labels);
    this.rpcSeconds.observe(labels, seconds);
  }

  /** The pipeline's `onAppended`. */
  readonly appended = (round: AppendedRound): void => {
    this.batchSize.observe(round.committed + round.conflicts);
    this.appendSeconds.observe(round.seconds);
    if (round.committed > 0) this.commits.inc(round.committed);
    if (round.conflicts > 0) this.conflicts.inc(round.conflicts);
    countKinds(this.eventsAppended, round.events);
  };

  /** The tool hub's `onCallEnded`. */
  readonly toolCallEnded = (outcome: ToolOutcome): void => {
    this.toolCalls.inc({ outcome });
  };

  /** The auth interceptor's `onDenied`. */
  readonly authDenied = (reason: DenialReason): void => {
    this.authDenials.inc({ reason });
  };

  private defineGauges(): void {
    const registers = [this.registry];
    const metrics = this;
    new Gauge({
      name: 'varledger_log_head_revision',
      help: 'The newest revision this server has applied.',
      registers,
      collect() {
        if (metrics.sources) this.set(metrics.sources.head());
      },
    });
    new Gauge({
      name: 'varledger_live_sessions',
      help: 'Sessions neither closed nor expired.',
      registers,
      collect() {
        if (metrics.sources) this.set(metrics.sources.liveSessions());
      },
    });
    new Gauge({
      name: 'varledger_log_oldest_revision',
      help: 'The oldest revision reads can ask for: reads, history and watch resumes below it are OUT_OF_RANGE (retention removed what was there).',
      registers,
      collect() {
        if (metrics.sources) this.set(metrics.sources.oldestRevision());
      },
    });
    new Gauge({
      name: 'varledger_database_size_bytes',
      help: 'Bytes the log takes on disk: SQLite, the database file plus its WAL; PostgreSQL, pg_database_size.',
      registers,
      async collect() {
        // A store closing under a scrape (shutdown) leaves the gauge as it was.
        const stats = await metrics.sources?.storage().catch(() => undefined);
        if (stats) this.set(stats.bytes);
      },
    });
    const perHub = (name: string, help: string, pick: (stats: WatchStats) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['api'],
        registers,
        collect() {
          this.reset();
          for (const [api, stats] of Object.entries(metrics.sources?.watchers ?? {})) this.set({ api }, pick(stats()));
        },
      });
    perHub('varledger_watchers', 'Open watch streams, by API (native, bridge).', (s) => s.watchers);
    perHub('varledger_watchers_lagging', 'Watchers behind the head, being caught up from the log.', (s) => s.lagging);
    perHub('varledger_watch_max_lag_revisions', 'Revisions between the head and the furthest-behind watcher (0 when all are live).', (s) => s.maxLagRevisions);
    perHub('varledger_watch_buffered_bytes', 'Encoded watch messages queued on the server, not yet written to their streams.', (s) => s.bufferedBytes);
  }
}

/** Counts a round's events by kind with one increment per kind present. */
function countKinds(counter: Counter<'kind'>, events: readonly StoredEvent[]): void {
  if (events.length === 1) {
    counter.inc({ kind: (events[0] as StoredEvent).kind });
    return;
  }
  const byKind = new Map<string, number>();
  for (const event of events) byKind.set(event.kind, (byKind.get(event.kind) ?? 0) + 1);
  for (const [kind, n] of byKind) counter.inc({ kind }, n);
}
