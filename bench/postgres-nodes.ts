/**
 * Issue 13's bench: the same write workload on one SQLite node, one
 * PostgreSQL node and two PostgreSQL nodes on one log. Every node is a real
 * `varledger serve` child process; PostgreSQL is a real server started the
 * way the tests start it (test/helpers/postgres-server.ts), here with
 * `synchronous_commit=on` and `fsync=off`, so a PostgreSQL commit is as
 * durable as a SQLite one at the default `--durability normal`: in the
 * operating system's hands, safe from a process crash, not from power loss.
 *
 * Per configuration:
 *   16 in flight  SetVariable, 16 workers each on its own variable in its own
 *                 session (worker w on node w mod nodes), median calls/s of
 *                 ROUNDS rounds after a warm-up; p50/p99 per call.
 *   64 writers    each doing expected_version increments of its own variable
 *                 (4 writers per session, a session's writers on one node);
 *                 writes/s, p50/p99 per call.
 *   watch         set on node A → the event on a watcher on node B (the same
 *                 node when there is only one), one write at a time; p50/p99.
 *
 * Sessions are pinned to a node (as a session-affine load balancer would
 * do): two nodes writing the same session conflict on the shared log and
 * retry, which measures contention rather than capacity. The load generator
 * is this process; on this 2-core machine it shares the cores with
 * PostgreSQL and every node.
 */
import { loadavg } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { LedgerRpc } from '../src/client/ledger-rpc.js';
import type { WatchResponse } from '../src/gen/varledger/v1/ledger.js';
import { startCli, type ReadyCli } from '../test/helpers/cli-process.js';
import { createDatabase, startPostgres, type PostgresServer } from '../test/helpers/postgres-server.js';
import { ACTOR, floatValue, seedFloats } from './ledger-setup.js';
import { makeTempDir } from './server-fixture.js';
import { median, quantile, round, since } from './stats.js';

const IN_FLIGHT = 16;
const WRITERS = 64;
const WRITERS_PER_SESSION = 4;
const CALLS_PER_ROUND = Number(process.env.BENCH_PG_CALLS ?? 3_000);
const ROUNDS = 3;
const WARMUP_CALLS = 500;
const INCREMENTS_PER_WRITER = Number(process.env.BENCH_PG_INCREMENTS ?? 30);
const WATCH_SAMPLES = Number(process.env.BENCH_PG_WATCH_SAMPLES ?? 300);
const WATCH_WARMUP = 30;
/** Only a failure guard: the poll fallback alone delivers within 1 s. */
const DELIVERY_GUARD_MS = 10_000;

export interface LatencyFigures {
  readonly writesPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

export interface NodeSetResult {
  readonly nodes: number;
  readonly store: 'sqlite' | 'postgres';
  readonly inFlight16: LatencyFigures & { readonly roundsWritesPerSecond: readonly number[] };
  readonly writers64: LatencyFigures & { readonly conflictsRetried: number };
  /** Set on node A → event on node B (the same node for one node). */
  readonly watch: { readonly crossNode: boolean; readonly p50Ms: number; readonly p99Ms: number; readonly samples: number };
  readonly loadAverage: readonly number[];
}

export interface PostgresNodesResult {
  readonly sqlite1: NodeSetResult;
  readonly postgres1: NodeSetResult;
  readonly postgres2: NodeSetResult;
  /** One PostgreSQL node's 16-in-flight writes/s over one SQLite node's (target ≥ 0.6). */
  readonly postgresOverSqlite16: number;
  /** Two PostgreSQL nodes over one, 16 in flight and 64 writers. */
  readonly twoOverOnePostgres16: number;
  readonly twoOverOnePostgres64: number;
  readonly conditions: {
    readonly callsPerRound: number;
    readonly rounds: number;
    readonly incrementsPerWriter: number;
    readonly watchSamples: number;
    readonly postgres: string;
  };
}

/** PostgreSQL as durable as SQLite's default (see the header): commits wait for the WAL write, nothing fsyncs. */
const POSTGRES_SETTINGS = ['synchronous_commit=on', 'fsync=off'];

interface NodeSet {
  readonly rpcs: readonly LedgerRpc[];
  stop(): Promise<void>;
}

async function startNodes(args: readonly string[], count: number, cleanup: () => void = () => {}): Promise<NodeSet> {
  const nodes: ReadyCli[] = [];
  const rpcs: LedgerRpc[] = [];
  const stop = async () => {
    for (const rpc of rpcs) rpc.close();
    // SIGTERM: a clean shutdown, as in production.
    await Promise.all(nodes.map((n) => n.stop('SIGTERM')));
    cleanup();
  };
  try {
    for (let i = 0; i < count; i++) {
      const node = await startCli(['--port', '0', ...args]);
      nodes.push(node);
      rpcs.push(new LedgerRpc(node.address));
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { rpcs, stop };
}

/** The settings the server actually runs with (the overrides took). */
async function settingsInForce(server: PostgresServer): Promise<string> {
  const admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  try {
    const shown: string[] = [];
    for (const name of ['synchronous_commit', 'fsync', 'server_version']) {
      const { rows } = await admin.query<Record<string, string>>(`SHOW ${name}`);
      shown.push(`${name}=${rows[0]?.[name] ?? '?'}`);
    }
    return shown.join(', ');
  } finally {
    await admin.end();
  }
}

/** 16 workers, each setting its own variable in its own session, on node (worker mod nodes). */
async function inFlight16(rpcs: readonly LedgerRpc[]): Promise<NodeSetResult['inFlight16']> {
  const workers = Array.from({ length: IN_FLIGHT }, (_, w) => ({ rpc: rpcs[w % rpcs.length] as LedgerRpc, sessionId: `tp${w}` }));
  for (const { rpc, sessionId } of workers) await seedFloats(rpc, sessionId, 1);
  const latencies: number[] = [];
  const runRound = async (calls: number, record: boolean): Promise<number> => {
    let issued = 0;
    const start = performance.now();
    await Promise.all(
      workers.map(async ({ rpc, sessionId }) => {
        while (issued < calls) {
          const i = issued++;
          const t = performance.now();
          await rpc.call('setVariable', { sessionId, identifier: 'v0', value: floatValue(i) }, ACTOR);
          if (record) latencies.push(since(t));
        }
      }),
    );
    return calls / (since(start) / 1000);
  };
  await runRound(WARMUP_CALLS, false);
  const rounds: number[] = [];
  for (let r = 0; r < ROUNDS; r++) rounds.push(round(await runRound(CALLS_PER_ROUND, true), 0));
  return {
    writesPerSecond: round(median(rounds), 0),
    roundsWritesPerSecond: rounds,
    p50Ms: round(quantile(latencies, 0.5), 2),
    p99Ms: round(quantile(latencies, 0.99), 2),
  };
}

/** 64 writers doing expected_version increments of their own variable; a session's 4 writers on one node. */
async function writers64(rpcs: readonly LedgerRpc[]): Promise<NodeSetResult['writers64']> {
  const sessions = WRITERS / WRITERS_PER_SESSION;
  const writers: { rpc: LedgerRpc; sessionId: string; name: string }[] = [];
  for (let s = 0; s < sessions; s++) {
    const rpc = rpcs[s % rpcs.length] as LedgerRpc;
    const sessionId = `cx${s}`;
    for (const name of await seedFloats(rpc, sessionId, WRITERS_PER_SESSION)) writers.push({ rpc, sessionId, name });
  }
  const latencies: number[] = [];
  let retried = 0;
  const start = performance.now();
  await Promise.all(
    writers.map(async ({ rpc, sessionId, name }) => {
      let version = 0n;
      for (let n = 1; n <= INCREMENTS_PER_WRITER; n++) {
        const t = performance.now();
        try {
          const reply = await rpc.call('setVariable', { sessionId, identifier: name, value: floatValue(n), expectedVersion: version }, ACTOR);
          version = reply.version;
          latencies.push(since(t));
        } catch (error) {
          // Only this writer writes its variable: a conflict would be a bug, not contention. Count and carry on.
          retried++;
          version = (await rpc.call('getVariable', { sessionId, identifier: name })).version;
          n--;
          if (retried > WRITERS * INCREMENTS_PER_WRITER) throw error;
        }
      }
    }),
  );
  const seconds = since(start) / 1000;
  return {
    writesPerSecond: round((WRITERS * INCREMENTS_PER_WRITER) / seconds, 0),
    p50Ms: round(quantile(latencies, 0.5), 2),
    p99Ms: round(quantile(latencies, 0.99), 2),
    conflictsRetried: retried,
  };
}

/** Set on the first node, event on a watcher on the last: the time from issuing the set to the event's arrival. */
async function watchDelivery(rpcs: readonly LedgerRpc[]): Promise<NodeSetResult['watch']> {
  const writer = rpcs[0] as LedgerRpc;
  const watcher = rpcs[rpcs.length - 1] as LedgerRpc;
  const sessionId = 'w';
  await seedFloats(writer, sessionId, 1, 'x');
  const waiting = new Map<number, () => void>();
  // A stream that fails or ends, or an event that never comes, fails the bench instead of hanging it.
  let broken: Error | undefined;
  let fail: (error: Error) => void = () => {};
  const stream = watcher.watch({ sessionId, identifiers: ['x0'], includeInitial: true });
  let ready!: () => void;
  const initial = new Promise<void>((resolve) => (ready = resolve));
  stream.on('data', (message: WatchResponse) => {
    ready();
    for (const event of message.events) {
      const value = event.variable?.value?.kind;
      if (value?.$case === 'floatValue') waiting.get(value.floatValue)?.();
    }
  });
  const breakWith = (error: Error) => {
    broken ??= error;
    fail(broken);
  };
  stream.on('error', (error) => breakWith(error));
  stream.on('end', () => breakWith(new Error('the watch stream ended')));
  try {
    // The INITIAL message: the watch is registered on node B before the first timed write.
    await initial;
    const samples: number[] = [];
    for (let i = 1; i <= WATCH_WARMUP + WATCH_SAMPLES; i++) {
      let timer: NodeJS.Timeout | undefined;
      const delivered = new Promise<void>((resolve, reject) => {
        if (broken) return reject(broken);
        fail = reject;
        waiting.set(i, resolve);
        timer = setTimeout(() => reject(new Error(`set ${i} on node A never reached the watcher on node B (${DELIVERY_GUARD_MS} ms)`)), DELIVERY_GUARD_MS);
      });
      const start = performance.now();
      await writer.call('setVariable', { sessionId, identifier: 'x0', value: floatValue(i) }, ACTOR);
      await delivered.finally(() => clearTimeout(timer));
      waiting.delete(i);
      if (i > WATCH_WARMUP) samples.push(since(start));
    }
    return { crossNode: rpcs.length > 1, p50Ms: round(quantile(samples, 0.5), 2), p99Ms: round(quantile(samples, 0.99), 2), samples: samples.length };
  } finally {
    stream.cancel();
  }
}

async function measure(nodes: NodeSet, store: 'sqlite' | 'postgres'): Promise<NodeSetResult> {
  try {
    const tp = await inFlight16(nodes.rpcs);
    const cx = await writers64(nodes.rpcs);
    const watch = await watchDelivery(nodes.rpcs);
    return { nodes: nodes.rpcs.length, store, inFlight16: tp, writers64: cx, watch, loadAverage: loadavg().map((x) => round(x, 2)) };
  } finally {
    await nodes.stop();
  }
}

export async function runPostgresNodes(): Promise<PostgresNodesResult> {
  const tmp = makeTempDir('varledger-bench-pg-');
  const sqlite1 = await measure(await startNodes(['--data', join(tmp.dir, 'ledger.db')], 1, tmp.remove), 'sqlite');
  const postgres = await startPostgres(POSTGRES_SETTINGS);
  try {
    const settings = await settingsInForce(postgres);
    const postgres1 = await measure(await startNodes(['--store', await createDatabase(postgres, 'bench_one')], 1), 'postgres');
    const postgres2 = await measure(await startNodes(['--store', await createDatabase(postgres, 'bench_two')], 2), 'postgres');
    return {
      sqlite1,
      postgres1,
      postgres2,
      postgresOverSqlite16: round(postgres1.inFlight16.writesPerSecond / sqlite1.inFlight16.writesPerSecond, 2),
      twoOverOnePostgres16: round(postgres2.inFlight16.writesPerSecond / postgres1.inFlight16.writesPerSecond, 2),
      twoOverOnePostgres64: round(postgres2.writers64.writesPerSecond / postgres1.writers64.writesPerSecond, 2),
      conditions: {
        callsPerRound: CALLS_PER_ROUND,
        rounds: ROUNDS,
        incrementsPerWriter: INCREMENTS_PER_WRITER,
        watchSamples: WATCH_SAMPLES,
        postgres: settings,
      },
    };
  } finally {
    await postgres.stop();
  }
}
