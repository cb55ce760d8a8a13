/**
 * GetHistory latency: one float variable with HISTORY_VERSIONS versions
 * (its registration, version 0, then sets written as Commits of
 * SETS_PER_COMMIT set operations), then sequential (one in flight) p50/p99 of
 *
 *   - the newest page        (limit PAGE, from the newest version)
 *   - a deep page            (limit PAGE, beforeVersion DEEP_BEFORE)
 *   - the whole history      (limit HISTORY_VERSIONS, every version)
 *   - GetVariable on the same variable, same server, for comparison.
 *
 * GetHistory is served from the per-variable index (SQLite: the
 * `variable_versions` side table plus the short unindexed tail, migration
 * 0006), so the two pages should cost about the same, and the whole history is that plus
 * 10,000 entries' worth of decoding, encoding and transfer.
 *
 * tinybench as in unary-latency.ts: the pages and GetVariable share one
 * Bench (BENCH_LATENCY_MS per task); the whole-history task gets its own
 * with a smaller minimum iteration count, as each call takes milliseconds.
 */
import { Bench } from 'tinybench';
import { LedgerRpc } from '../src/client/ledger-rpc.js';
import { GetHistoryResponse } from '../src/gen/varledger/v1/ledger.js';
import { ACTOR, floatValue, seedFloats } from './ledger-setup.js';
import type { BenchServer } from './server-fixture.js';
import { round, since } from './stats.js';
import { latencyFigure, type LatencyFigure } from './latency-figure.js';

export interface HistoryLatencyResult {
  readonly newestPage: LatencyFigure;
  readonly deepPage: LatencyFigure;
  readonly wholeHistory: LatencyFigure;
  readonly getVariable: LatencyFigure;
  /** Bytes of one whole-history response on the wire (protobuf). */
  readonly wholeHistoryResponseBytes: number;
  readonly conditions: {
    readonly versions: number;
    readonly setsPerCommit: number;
    readonly pageLimit: number;
    readonly deepBeforeVersion: number;
    readonly timeMsPerTask: number;
    readonly warmupMsPerTask: number;
    readonly minIterationsPerTask: number;
    readonly minIterationsWholeHistory: number;
    /** Time to write the history (register + Commits), seconds. */
    readonly setupSeconds: number;
  };
}

const SESSION = 'hist';
/** seedFloats registers `${prefix}0`: the one variable is `h0`. */
const PREFIX = 'h';
const NAME = `${PREFIX}0`;
/** Versions 0 … HISTORY_VERSIONS-1: the registration plus HISTORY_VERSIONS-1 sets. */
const HISTORY_VERSIONS = 10_000;
const SETS_PER_COMMIT = 1_000;
const PAGE = 100;
const DEEP_BEFORE = 5_000;
const TIME_MS = Number(process.env.BENCH_LATENCY_MS ?? 3000);
const WARMUP_MS = 500;
const MIN_ITERATIONS = 500;
const MIN_ITERATIONS_WHOLE = 50;

const TASKS = {
  newest: `GetHistory newest ${PAGE}`,
  deep: `GetHistory ${PAGE} before v${DEEP_BEFORE}`,
  whole: `GetHistory all ${HISTORY_VERSIONS}`,
  get: 'GetVariable',
} as const;

/** Writes versions 1 … HISTORY_VERSIONS-1 of the (already registered) variable. */
async function writeHistory(rpc: LedgerRpc): Promise<void> {
  for (let version = 1; version < HISTORY_VERSIONS; version += SETS_PER_COMMIT) {
    const count = Math.min(SETS_PER_COMMIT, HISTORY_VERSIONS - version);
    const reply = await rpc.call(
      'commit',
      {
        sessionId: SESSION,
        atomic: true,
        operations: Array.from({ length: count }, (_, i) => ({
          op: { $case: 'set', set: { identifier: NAME, value: floatValue((version + i) * 0.25) } },
        })),
      },
      // A deadline, so a failing setup errors out rather than waiting forever
      // (a rejected Commit of 1,000 operations gets no reply at all: its
      // status message lists every failure and grows too large).
      { ...ACTOR, deadline: new Date(Date.now() + 60_000) },
    );
    if (reply.results.length !== count) throw new Error(`history commit: ${reply.results.length} results, expected ${count}`);
  }
}

export async function runHistoryLatency(server: BenchServer): Promise<HistoryLatencyResult> {
  const rpc = new LedgerRpc(server.address, { 'grpc.max_receive_message_length': 64 * 1024 * 1024 });
  try {
    const setupStart = performance.now();
    await seedFloats(rpc, SESSION, 1, PREFIX);
    await writeHistory(rpc);
    const setupSeconds = since(setupStart) / 1000;

    const history = (limit: number, beforeVersion = 0n) => rpc.call('getHistory', { sessionId: SESSION, identifier: NAME, limit, beforeVersion });

    // Check once, untimed, that each request returns what it is meant to.
    const expectVersions = async (label: string, limit: number, beforeVersion: bigint, newest: number, count: number) => {
      const { entries } = await history(limit, beforeVersion);
      const versions = entries.map((e) => Number(e.version));
      const first = versions[0];
      const last = versions.at(-1);
      const [lo, hi] = [Math.min(first ?? 0, last ?? 0), Math.max(first ?? 0, last ?? 0)];
      if (entries.length !== count || hi !== newest || lo !== newest - count + 1) {
        throw new Error(`${label}: got ${entries.length} entries, versions ${first}…${last}; expected ${count} ending at ${newest}`);
      }
    };
    await expectVersions(TASKS.newest, PAGE, 0n, HISTORY_VERSIONS - 1, PAGE);
    await expectVersions(TASKS.deep, PAGE, BigInt(DEEP_BEFORE), DEEP_BEFORE - 1, PAGE);
    await expectVersions(TASKS.whole, HISTORY_VERSIONS, 0n, HISTORY_VERSIONS - 1, HISTORY_VERSIONS);
    const got = await rpc.call('getVariable', { sessionId: SESSION, identifier: NAME });
    if (Number(got.version) !== HISTORY_VERSIONS - 1) {
      throw new Error(`GetVariable: version ${got.version}, expected ${HISTORY_VERSIONS - 1}`);
    }
    const wholeHistoryResponseBytes = GetHistoryResponse.encode(await history(HISTORY_VERSIONS)).finish().length;

    const options = { time: TIME_MS, warmupTime: WARMUP_MS, warmupIterations: 200, throws: true } as const;
    const pages = new Bench({ name: 'history pages', iterations: MIN_ITERATIONS, ...options });
    pages
      .add(TASKS.newest, async () => {
        await history(PAGE);
      })
      .add(TASKS.deep, async () => {
        await history(PAGE, BigInt(DEEP_BEFORE));
      })
      .add(TASKS.get, async () => {
        await rpc.call('getVariable', { sessionId: SESSION, identifier: NAME });
      });
    await pages.run();
    const whole = new Bench({ name: 'whole history', iterations: MIN_ITERATIONS_WHOLE, ...options, warmupIterations: 10 });
    whole.add(TASKS.whole, async () => {
      await history(HISTORY_VERSIONS);
    });
    await whole.run();

    return {
      newestPage: latencyFigure(pages.getTask(TASKS.newest), TASKS.newest),
      deepPage: latencyFigure(pages.getTask(TASKS.deep), TASKS.deep),
      wholeHistory: latencyFigure(whole.getTask(TASKS.whole), TASKS.whole),
      getVariable: latencyFigure(pages.getTask(TASKS.get), TASKS.get),
      wholeHistoryResponseBytes,
      conditions: {
        versions: HISTORY_VERSIONS,
        setsPerCommit: SETS_PER_COMMIT,
        pageLimit: PAGE,
        deepBeforeVersion: DEEP_BEFORE,
        timeMsPerTask: TIME_MS,
        warmupMsPerTask: WARMUP_MS,
        minIterationsPerTask: MIN_ITERATIONS,
        minIterationsWholeHistory: MIN_ITERATIONS_WHOLE,
        setupSeconds: round(setupSeconds, 2),
      },
    };
  } finally {
    rpc.close();
  }
}
