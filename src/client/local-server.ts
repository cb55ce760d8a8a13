/**
 * `connect({ spawn })`: runs `varledger serve` as a child process of this
 * one, waits for its `GRPC_READY:<port>` line, and stops it on close.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';

export interface SpawnOptions {
  /** SQLite file; default: a fresh temporary database, removed on close. */
  readonly data?: string;
  /** More `varledger serve` flags, e.g. `['--durability', 'full']`. */
  readonly args?: readonly string[];
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 0 (any free port). */
  readonly port?: number;
  /** The server's stderr log level. Default `warn`. */
  readonly logLevel?: string;
  /** Give up if the server is not ready in this long. Default 30 s. */
  readonly readyTimeoutMs?: number;
}

export interface LocalServer {
  readonly address: string;
  readonly port: number;
  readonly pid: number;
  /** The SQLite file it serves. */
  readonly data: string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process has exited (and its temp database is removed). */
  stop(graceMs?: number): Promise<void>;
  /** Sends `signal` (e.g. SIGKILL, to test crash recovery); resolves once the process has exited. */
  kill(signal: NodeJS.Signals): Promise<void>;
}

/** Recent stderr, for the error message of a server that failed to start. */
const STDERR_TAIL_CHARS = 4000;

export async function spawnLocalServer(options: SpawnOptions = {}): Promise<LocalServer> {
  const cli = fileURLToPath(new URL('../cli/main.js', import.meta.url));
  const tmp = options.data === undefined ? mkdtempSync(join(tmpdir(), 'varledger-')) : undefined;
  const data = options.data ?? join(tmp!, 'ledger.db');
  const host = options.host ?? '127.0.0.1';
  const args = [
    cli,
    'serve',
    '--host',
    host,
    '--port',
    String(options.port ?? 0),
    '--data',
    data,
    '--log-level',
    options.logLevel ?? 'warn',
    // The server's stdin is a pipe this process holds open and never writes:
    // it closes however this process ends (SIGKILL included), and the server then stops.
    '--stop-with-stdin',
    ...(options.args ?? []),
  ];
  const child: ChildProcessByStdio<Writable, Readable, Readable> = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-STDERR_TAIL_CHARS)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // If this process exits without closing the client, take the server along.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const cleanup = () => {
    process.off('exit', killOnExit);
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  };

  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`varledger server not ready after ${options.readyTimeoutMs ?? 30_000} ms: ${stderr}`)), options.readyTimeoutMs ?? 30_000);
      child.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`varledger server exited before it was ready (code ${code}, signal ${signal}): ${stderr}`));
      });
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        out += chunk;
        const match = /GRPC_READY:(\d+)/.exec(out);
        if (!match) return;
        out = '';
        clearTimeout(timer);
        resolve(Number(match[1]));
      });
    });
  } catch (error) {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
    cleanup();
    throw error;
  }

  const isRunning = () => child.exitCode === null && child.signalCode === null;
  let stopping: Promise<void> | undefined;
  return {
    address: `${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    pid: child.pid ?? -1,
    data,
    stop(graceMs = 10_000) {
      stopping ??= (async () => {
        if (isRunning()) {
          child.kill('SIGTERM');
          const force = setTimeout(() => child.kill('SIGKILL'), graceMs);
          await exited;
          clearTimeout(force);
        }
        cleanup();
      })();
      return stopping;
    },
    async kill(signal) {
      if (isRunning()) child.kill(signal);
      await exited;
    },
  };
}
