/**
 * Starts a varledger server for the benchmarks, on 127.0.0.1 with a free
 * port and a fresh temp database, and stops it again (removing the temp dir).
 *
 * Two placements, chosen with env BENCH_SERVER:
 *
 * - `inproc` (default): `startServer` in the bench process, as the brief and
 *   the test harness do. Client and server share one event loop, so a
 *   sequential call costs client + server CPU with no cross-process wake-up.
 * - `child`: the server runs in a forked Node process (bench/server-child.ts),
 *   so client and server have an event loop (and a core) each.
 *
 * Why in-process is the default: the worry was that sharing one thread would
 * understate 16-in-flight throughput. On this 2-core Firecracker VM it did
 * the opposite — back-to-back runs gave in-process GetVariable p50 254 µs vs
 * 422 µs in a child, SetVariable p50 377 vs 532 µs, 16-in-flight SetVariable
 * 3,595 vs 2,805 calls/s, p99 2.7 ms vs 4.0 ms. With a child each call pays
 * two cross-process wake-ups on loopback, and the in-process loop batches
 * more work per tick. So in-process does not flatter the server by hiding
 * client cost; it removes scheduler noise. The placement used is recorded in
 * the results' conditions; `BENCH_SERVER=child` gives the other view.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { startServer } from '../src/server/server.js';
import type { StoreLocation } from '../src/store/store-location.js';

export type ServerPlacement = 'child' | 'inproc';

export interface BenchServer {
  readonly address: string;
  readonly placement: ServerPlacement;
  readonly dataPath: string;
  /** Shuts the server down and removes its temp directory. */
  stop(): Promise<void>;
}

/** Options shared by both placements. */
export const BENCH_SERVER_OPTIONS = {
  host: '127.0.0.1',
  port: 0,
  durability: 'normal',
  maxMessageBytes: 16 * 1024 * 1024,
} as const;

export function serverPlacement(): ServerPlacement {
  const raw = process.env.BENCH_SERVER ?? 'inproc';
  if (raw !== 'child' && raw !== 'inproc') throw new Error(`BENCH_SERVER must be child or inproc, not ${raw}`);
  return raw;
}

export function makeTempDir(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Options the scale benchmarks vary: group commit off for the baseline, `full` durability (fsync per commit). */
export interface BenchServerExtra {
  readonly groupCommit?: boolean;
  readonly durability?: 'normal' | 'full';
  /** A PostgreSQL database instead of the temp SQLite file (in-process placement only). */
  readonly storeLocation?: StoreLocation;
}

export async function startBenchServer(placement: ServerPlacement = serverPlacement(), extra: BenchServerExtra = {}): Promise<BenchServer> {
  const tmp = makeTempDir('varledger-bench-');
  const dataPath = join(tmp.dir, 'ledger.db');
  try {
    return placement === 'inproc' ? await startInProcess(dataPath, tmp.remove, extra) : await startChild(dataPath, tmp.remove);
  } catch (error) {
    tmp.remove();
    throw error;
  }
}

async function startInProcess(dataPath: string, remove: () => void, extra: BenchServerExtra = {}): Promise<BenchServer> {
  const server = await startServer({ ...BENCH_SERVER_OPTIONS, ...extra, dataPath, logger: pino({ level: 'silent' }) });
  return {
    address: `127.0.0.1:${server.port}`,
    placement: 'inproc',
    dataPath,
    async stop() {
      await server.shutdown();
      remove();
    },
  };
}

interface ChildMessage {
  readonly port?: number;
  readonly error?: string;
}

async function startChild(dataPath: string, remove: () => void): Promise<BenchServer> {
  const entry = fileURLToPath(new URL('./server-child.js', import.meta.url));
  const child = fork(entry, [dataPath], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], execArgv: [] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (message: ChildMessage) =>
      message.port !== undefined ? resolve(message.port) : reject(new Error(`bench server failed: ${message.error}`)),
    );
    child.once('exit', (code) => reject(new Error(`bench server exited early with code ${code}`)));
    child.once('error', reject);
  }).catch(async (error: unknown) => {
    await killChild(child, exited);
    throw error;
  });
  return {
    address: `127.0.0.1:${port}`,
    placement: 'child',
    dataPath,
    async stop() {
      if (child.connected) child.send('shutdown');
      await killChild(child, exited, 10_000);
      remove();
    },
  };
}

/** Waits for the child to exit; kills it (by its own pid) if it takes too long. */
async function killChild(child: ChildProcess, exited: Promise<void>, graceMs = 0): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
