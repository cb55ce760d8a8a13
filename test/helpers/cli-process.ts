/**
 * Child processes of the built `varledger` CLI for process-level tests:
 * spawn, await the readiness line on stdout (never a sleep), watch stderr,
 * and stop with a signal while observing the exit.
 */
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { spawnReaped } from './reaper.js';

/** The compiled CLI next to this compiled helper, whatever the outDir. */
export const CLI_PATH = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

/** Only a failure guard: a healthy start takes well under a second. */
const GUARD_MS = 20_000;

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface CliProcess {
  readonly child: ChildProcess;
  /** Every stdout line so far. */
  readonly stdoutLines: string[];
  /** Everything written to stderr so far. */
  stderr(): string;
  readonly exited: Promise<Exit>;
  /** Resolves with the first stdout line matching, or rejects if the process exits first. */
  waitForStdout(pattern: RegExp): Promise<string>;
  /** Resolves once stderr matches, or rejects if the process exits first. */
  waitForStderr(pattern: RegExp): Promise<void>;
  /** Sends a signal (if still running) and resolves on exit. */
  stop(signal?: NodeJS.Signals): Promise<Exit>;
}

export interface ReadyCli extends CliProcess {
  readonly port: number;
  readonly address: string;
}

function withGuard<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), GUARD_MS);
  });
  return Promise.race([promise, guard]).finally(() => clearTimeout(timer));
}

/** Spawns `node main.js <args>` with a clean VARLEDGER_* environment plus `env`. */
export function spawnCli(args: readonly string[], env: Record<string, string> = {}): CliProcess {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VARLEDGER_') && !k.startsWith('GRPC_')));
  // Reaped: a test that times out must not leave a server running.
  const child = spawnReaped(process.execPath, [CLI_PATH, ...args], { env: { ...inherited, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const stdoutLines: string[] = [];
  let stderrText = '';
  const listeners = new Set<() => void>();
  const notify = () => listeners.forEach((l) => l());
  createInterface({ input: child.stdout! }).on('line', (line) => {
    stdoutLines.push(line);
    notify();
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderrText += chunk;
    notify();
  });
  let exit: Exit | undefined;
  const exited = new Promise<Exit>((resolve) => {
    child.once('close', (code, signal) => {
      exit = { code, signal };
      notify();
      resolve(exit);
    });
  });

  const waitFor = <T>(check: () => T | undefined, what: string): Promise<T> =>
    withGuard(
      new Promise<T>((resolve, reject) => {
        const listener = () => {
          const found = check();
          if (found !== undefined) {
            listeners.delete(listener);
            resolve(found);
          } else if (exit) {
            listeners.delete(listener);
            reject(new Error(`process exited (${exit.code ?? exit.signal}) before ${what}; stderr:\n${stderrText}`));
          }
        };
        listeners.add(listener);
        listener();
      }),
      what,
    );

  return {
    child,
    stdoutLines,
    stderr: () => stderrText,
    exited,
    waitForStdout: (pattern) => waitFor(() => stdoutLines.find((l) => pattern.test(l)), `stdout ${pattern}`),
    waitForStderr: (pattern) => waitFor(() => (pattern.test(stderrText) ? true : undefined), `stderr ${pattern}`).then(() => undefined),
    stop(signal = 'SIGKILL') {
      if (!exit) child.kill(signal);
      return withGuard(exited, `exit after ${signal}`);
    },
  };
}

/** Spawns `varledger serve <args>` and resolves once it printed GRPC_READY:<port>. */
export async function startCli(args: readonly string[], env: Record<string, string> = {}): Promise<ReadyCli> {
  const proc = spawnCli(['serve', ...args], env);
  try {
    const line = await proc.waitForStdout(/^GRPC_READY:\d+$/);
    const port = Number(line.slice('GRPC_READY:'.length));
    return Object.assign(proc, { port, address: `127.0.0.1:${port}` });
  } catch (error) {
    await proc.stop('SIGKILL');
    throw error;
  }
}
