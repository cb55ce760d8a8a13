/**
 * The seeds' performance table (issue 17) from Python, beside the same
 * operations through the native API with the TypeScript client:
 *
 *   register, get uncached, get cached (averages of 100), update (100),
 *   100 single updates vs one batch of 100 (medians of several rounds),
 *   get + set pairs/s from 1 and from 10 concurrent workers.
 *
 * The Python side is bench/python/seeds_table.py: Snakepit's own
 * SessionContext when VARLEDGER_SNAKEPIT_DIR names a checkout (commit
 * 40d87b1), else our test worker (which has no read cache). Its update is
 * Snakepit's: a GetVariable (type lookup, from the cache when fresh) then a
 * SetVariable; its batch a GetVariables then a SetVariables.
 * Needs the Debian Python packages test/python/python-env.ts names.
 */
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../src/package-root.js';
import { connect, type Session } from '../src/client/index.js';
import { preparePython, runPython } from '../test/python/python-env.js';
import type { BenchServer } from './server-fixture.js';
import { median, round, since } from './stats.js';

export interface SeedsTable {
  readonly client: string;
  readonly registerMs: number;
  readonly getUncachedMs: number;
  /** null when the client has no read cache. */
  readonly getCachedMs: number | null;
  readonly updateMs: number;
  readonly batch: { readonly singlesMs: number; readonly batchMs: number; readonly ratio: number; readonly rounds: number };
  readonly threads: { readonly pairsPerSec1: number; readonly pairsPerSec10: number; readonly scaling: number };
}

export interface PythonTableResult {
  readonly python: SeedsTable;
  readonly native: SeedsTable;
}

const N = 100;
const ROUNDS = Number(process.env.BENCH_PYTHON_ROUNDS ?? 9);
const THREAD_PAIRS = 200;

interface PythonOut {
  client: string;
  register_ms: number;
  get_uncached_ms: number;
  get_cached_ms: number | null;
  update_ms: number;
  batch: { singles_ms: number; batch_ms: number; ratio: number; rounds: number };
  threads: { pairs_per_s_1: number; pairs_per_s_10: number; scaling: number };
}

async function pythonTable(server: BenchServer): Promise<SeedsTable> {
  const env = await preparePython();
  try {
    const script = join(PACKAGE_ROOT, 'bench', 'python', 'seeds_table.py');
    const extra: Record<string, string> = {
      VARLEDGER_STUBS_DIR: env.stubsDir,
      PYTHONPATH: join(PACKAGE_ROOT, 'test', 'python'),
    };
    const { stdout } = await runPython(env.python, [script, server.address, String(ROUNDS)], extra, 600_000);
    const o = JSON.parse(stdout) as PythonOut;
    return {
      client: o.client,
      registerMs: round(o.register_ms, 3),
      getUncachedMs: round(o.get_uncached_ms, 3),
      getCachedMs: o.get_cached_ms === null ? null : round(o.get_cached_ms, 4),
      updateMs: round(o.update_ms, 3),
      batch: { singlesMs: round(o.batch.singles_ms, 1), batchMs: round(o.batch.batch_ms, 2), ratio: round(o.batch.ratio, 1), rounds: o.batch.rounds },
      threads: { pairsPerSec1: round(o.threads.pairs_per_s_1, 0), pairsPerSec10: round(o.threads.pairs_per_s_10, 0), scaling: round(o.threads.scaling, 2) },
    };
  } finally {
    env.remove();
  }
}

async function averageMs(names: readonly string[], fn: (name: string, i: number) => Promise<unknown>): Promise<number> {
  const start = performance.now();
  for (const [i, name] of names.entries()) await fn(name, i);
  return since(start) / names.length;
}

async function nativeTable(server: BenchServer): Promise<SeedsTable> {
  const client = await connect(server.address, { actor: 'bench' });
  try {
    const plain: Session = client.session('seeds-native');
    const names = Array.from({ length: N }, (_, i) => `bench_reg_${i}`);
    const registerMs = await averageMs(names, (n, i) => plain.register(n, 'integer', i));
    const getUncachedMs = await averageMs(names, (n) => plain.get(n));
    const cached = client.session('seeds-native', { cache: 'watch' });
    await cached.enableWatchCache();
    await cached.getMany(names); // fill
    const getCachedMs = await averageMs(names, (n) => cached.get(n));
    cached.stopWatching();
    const updateMs = await averageMs(names, (n, i) => plain.set(n, i * 2));

    const batchNames = Array.from({ length: N }, (_, i) => `batch_${i}`);
    await plain.batch((b) => batchNames.forEach((n) => b.register(n, 'integer', 0)));
    const singles: number[] = [];
    const batches: number[] = [];
    for (let r = 0; r <= ROUNDS; r++) {
      let start = performance.now();
      for (const [i, n] of batchNames.entries()) await plain.set(n, r * 1000 + i);
      const s = since(start);
      start = performance.now();
      await plain.batch((b) => batchNames.forEach((n, i) => b.set(n, r * 1000 + i + 1)));
      const b = since(start);
      if (r === 0) continue; // warm-up
      singles.push(s);
      batches.push(b);
    }

    const shared = Array.from({ length: 10 }, (_, i) => `concurrent_${i}`);
    await plain.batch((b) => shared.forEach((n) => b.register(n, 'integer', 0)));
    const pairsPerSec = async (workers: number): Promise<number> => {
      const perWorker = THREAD_PAIRS / workers;
      const start = performance.now();
      await Promise.all(
        Array.from({ length: workers }, async (_, k) => {
          for (let i = 0; i < perWorker; i++) {
            const name = shared[(k + i) % shared.length] as string;
            const value = await plain.get<bigint | number>(name);
            await plain.set(name, Number(value) + 1);
          }
        }),
      );
      return (perWorker * workers) / (since(start) / 1000);
    };
    const one = await pairsPerSec(1);
    const ten = await pairsPerSec(10);
    return {
      client: 'varledger TypeScript client (native API)',
      registerMs: round(registerMs, 3),
      getUncachedMs: round(getUncachedMs, 3),
      getCachedMs: round(getCachedMs, 4),
      updateMs: round(updateMs, 3),
      batch: { singlesMs: round(median(singles), 1), batchMs: round(median(batches), 2), ratio: round(median(singles) / median(batches), 1), rounds: ROUNDS },
      threads: { pairsPerSec1: round(one, 0), pairsPerSec10: round(ten, 0), scaling: round(ten / one, 2) },
    };
  } finally {
    await client.close();
  }
}

export async function runPythonTable(server: BenchServer): Promise<PythonTableResult> {
  return { python: await pythonTable(server), native: await nativeTable(server) };
}
