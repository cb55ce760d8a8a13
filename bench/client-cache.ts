/**
 * The TypeScript client's read cache, over real gRPC:
 *
 * - cached vs uncached `session.get` (tinybench): the watch cache answers
 *   from memory, the uncached session asks the server every time.
 *   Targets: cached ≥ 20× faster than uncached, cached p50 ≤ 5 µs.
 * - 1, 5, 10, 20 concurrent workers each doing get + set on its own
 *   variable, with the watch cache and without: pairs/s and p50/p99 of a pair.
 * - an 80/20 hot/cold pattern (80 % of reads on 4 of 20 variables, the
 *   loop yielding to I/O between reads) while another client writes one
 *   variable every 50 reads: hit rates and stale reads of the watch cache vs
 *   TTL caches. A read is stale if it returns an older version than a write
 *   acknowledged before the read began.
 *
 * `runClientCache(server)` returns a plain result object; bench/run.ts wires it in.
 */
import { Bench } from 'tinybench';
import { connect, type Session, type VarledgerClient } from '../src/client/index.js';
import type { BenchServer } from './server-fixture.js';
import { quantile, round, since } from './stats.js';
import { latencyFigure, type LatencyFigure } from './latency-figure.js';

export interface ConcurrencyFigure {
  readonly workers: number;
  readonly cache: 'watch' | 'none';
  /** get + set pairs completed. */
  readonly pairs: number;
  readonly pairsPerSec: number;
  readonly p50Us: number;
  readonly p99Us: number;
}

export interface HotColdFigure {
  readonly cache: string;
  readonly reads: number;
  readonly hitRate: number;
  /** Reads of the 4 hot variables (80 % of reads) and of the 16 cold ones. */
  readonly hotHitRate: number;
  readonly coldHitRate: number;
  /** Reads that returned an older version than the last write acknowledged before the read began. */
  readonly staleReads: number;
  readonly meanReadUs: number;
}

export interface ClientCacheResult {
  readonly cachedGet: LatencyFigure;
  readonly uncachedGet: LatencyFigure;
  /** uncached p50 / cached p50. */
  readonly speedupP50: number;
  readonly targets: {
    readonly speedupAtLeast: number;
    readonly cachedP50UsAtMost: number;
    readonly met: boolean;
  };
  readonly concurrency: readonly ConcurrencyFigure[];
  readonly hotCold: readonly HotColdFigure[];
  readonly conditions: {
    readonly timeMsPerTask: number;
    readonly concurrencyMsPerRound: number;
    readonly hotColdReads: number;
    readonly hotColdWriteEvery: number;
    readonly hotColdTtlsMs: readonly number[];
    readonly variables: number;
  };
}

const TIME_MS = Number(process.env.BENCH_CLIENT_MS ?? 2000);
const ROUND_MS = Number(process.env.BENCH_CLIENT_ROUND_MS ?? 1500);
const WORKER_COUNTS = [1, 5, 10, 20] as const;
const VARIABLES = 20;
const HOT = 4;
const HOT_SHARE = 0.8;
const HOT_COLD_READS = Number(process.env.BENCH_CLIENT_READS ?? 20_000);
/** Another client writes one random variable every this many reads. */
const WRITE_EVERY = 50;
const TTLS_MS = [5, 50] as const;

const SPEEDUP_TARGET = 20;
const CACHED_P50_TARGET_US = 5;

const us = (ms: number) => round(ms * 1000);

export async function runClientCache(server: BenchServer): Promise<ClientCacheResult> {
  const clients: VarledgerClient[] = [];
  const open = async () => {
    const client = await connect(server.address, { actor: 'bench' });
    clients.push(client);
    return client;
  };
  try {
    const setup = (await open()).session('client-cache');
    await setup.batch((b) => {
      for (let i = 0; i < VARIABLES; i++) b.register(`v${i}`, 'float', 0);
    });
    const cached = (await open()).session('client-cache', { cache: 'watch' });
    await cached.enableWatchCache();
    const uncached = (await open()).session('client-cache');

    const { cachedGet, uncachedGet } = await getLatency(cached, uncached);
    const concurrency: ConcurrencyFigure[] = [];
    for (const workers of WORKER_COUNTS) {
      for (const mode of ['watch', 'none'] as const) concurrency.push(await concurrentGetSet(await open(), workers, mode));
    }
    const writer = (await open()).session('client-cache');
    const hotCold = [await hotColdReads((await open()).session('client-cache', { cache: 'watch' }), writer, 'watch')];
    for (const ttlMs of TTLS_MS) {
      hotCold.push(await hotColdReads((await open()).session('client-cache', { cache: { ttlMs } }), writer, `ttl ${ttlMs} ms`));
    }
    const speedupP50 = round(uncachedGet.p50Us / cachedGet.p50Us);
    return {
      cachedGet,
      uncachedGet,
      speedupP50,
      targets: {
        speedupAtLeast: SPEEDUP_TARGET,
        cachedP50UsAtMost: CACHED_P50_TARGET_US,
        met: speedupP50 >= SPEEDUP_TARGET && cachedGet.p50Us <= CACHED_P50_TARGET_US,
      },
      concurrency,
      hotCold,
      conditions: {
        timeMsPerTask: TIME_MS,
        concurrencyMsPerRound: ROUND_MS,
        hotColdReads: HOT_COLD_READS,
        hotColdWriteEvery: WRITE_EVERY,
        hotColdTtlsMs: TTLS_MS,
        variables: VARIABLES,
      },
    };
  } finally {
    for (const client of clients) await client.close();
  }
}

async function getLatency(cached: Session, uncached: Session): Promise<{ cachedGet: LatencyFigure; uncachedGet: LatencyFigure }> {
  let i = 0;
  const name = () => `v${i++ % VARIABLES}`;
  const bench = new Bench({ name: 'client get', time: TIME_MS, warmupTime: 300, iterations: 500, throws: true });
  bench.add('get (watch cache)', async () => void (await cached.get(name()))).add('get (no cache)', async () => void (await uncached.get(name())));
  await bench.run();
  const figure = (taskName: string): LatencyFigure => latencyFigure(bench.getTask(taskName), taskName);
  const stats = cached.stats();
  if (stats.misses > 0) throw new Error(`the watch cache missed ${stats.misses} times during the benchmark`);
  return { cachedGet: figure('get (watch cache)'), uncachedGet: figure('get (no cache)') };
}

/** `workers` loops, each get + set on its own variable, for ROUND_MS. */
async function concurrentGetSet(client: VarledgerClient, workers: number, cache: 'watch' | 'none'): Promise<ConcurrencyFigure> {
  const session = client.session(`conc-${cache}-${workers}`, { cache });
  await session.batch((b) => {
    for (let w = 0; w < workers; w++) b.register(`w${w}`, 'integer', 0);
  });
  if (cache === 'watch') await session.enableWatchCache();
  const samples: number[] = [];
  const started = performance.now();
  const deadline = started + ROUND_MS;
  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      const name = `w${w}`;
      while (performance.now() < deadline) {
        const t0 = performance.now();
        const n = await session.get<number>(name);
        await session.set(name, n + 1);
        samples.push(since(t0));
      }
    }),
  );
  const elapsed = since(started);
  return {
    workers,
    cache,
    pairs: samples.length,
    pairsPerSec: Math.round((samples.length / elapsed) * 1000),
    p50Us: us(quantile(samples, 0.5)),
    p99Us: us(quantile(samples, 0.99)),
  };
}

/** A small deterministic PRNG so both cache modes see the same access sequence. */
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Lets I/O (such as watch deliveries) in, as a worker doing other work between reads would. */
const yieldToIo = () => new Promise<void>((resolve) => setImmediate(resolve));

async function hotColdReads(reader: Session, writer: Session, label: string): Promise<HotColdFigure> {
  if (label === 'watch') await reader.enableWatchCache();
  const random = mulberry32(42);
  const pick = () => (random() < HOT_SHARE ? Math.floor(random() * HOT) : HOT + Math.floor(random() * (VARIABLES - HOT)));
  const latestVersion = new Map<string, number>();
  const counts = { hot: { hits: 0, reads: 0 }, cold: { hits: 0, reads: 0 } };
  let stale = 0;
  let readMs = 0;
  for (let i = 0; i < HOT_COLD_READS; i++) {
    if (i % WRITE_EVERY === WRITE_EVERY - 1) {
      const name = `v${pick()}`;
      const written = await writer.set(name, random());
      latestVersion.set(name, written.version);
    }
    await yieldToIo();
    const index = pick();
    const name = `v${index}`;
    const expected = latestVersion.get(name) ?? 0;
    const hitsBefore = reader.stats().hits;
    const t0 = performance.now();
    const variable = await reader.getVariable(name);
    readMs += since(t0);
    const bucket = index < HOT ? counts.hot : counts.cold;
    bucket.reads++;
    if (reader.stats().hits > hitsBefore) bucket.hits++;
    if (variable.version < expected) stale++;
  }
  const rate = (b: { hits: number; reads: number }) => round(b.reads === 0 ? 0 : b.hits / b.reads, 3);
  return {
    cache: label,
    reads: HOT_COLD_READS,
    hitRate: rate({ hits: counts.hot.hits + counts.cold.hits, reads: HOT_COLD_READS }),
    hotHitRate: rate(counts.hot),
    coldHitRate: rate(counts.cold),
    staleReads: stale,
    meanReadUs: us(readMs / HOT_COLD_READS),
  };
}
