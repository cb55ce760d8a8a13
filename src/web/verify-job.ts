/**
 * "Verify now": runs `varledger verify` on the server's log (its SQLite file
 * or its PostgreSQL database) in a child process — the very check the CLI
 * makes (chain from genesis, snapshots), on its own read-only connection and
 * its own core, so a long log cannot stall the server's event loop. One run
 * at a time: a request that arrives while one runs gets that run's result.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { storeArgument, type StoreLocation } from '../store/store-location.js';
import type { VerifyJson } from './api-types.js';

const CLI_PATH = fileURLToPath(new URL('../cli/main.js', import.meta.url));
/** Output kept from the child: the verdict is one line. */
const MAX_OUTPUT_CHARS = 4096;

/**
 * How the child is started. The log travels in VARLEDGER_STORE rather than
 * on the command line: a process's arguments are visible to every user of
 * the machine (ps), its environment only to its owner, and a PostgreSQL URL
 * may hold a password.
 */
export function verifyCommandLine(location: StoreLocation, env: NodeJS.ProcessEnv = process.env): { args: string[]; env: NodeJS.ProcessEnv } {
  return { args: [CLI_PATH, 'verify'], env: { ...env, NO_COLOR: '1', VARLEDGER_STORE: storeArgument(location) } };
}

export class VerifyJob {
  private running: Promise<VerifyJson> | undefined;
  private child: ReturnType<typeof spawn> | undefined;
  private last: VerifyJson | undefined;

  constructor(
    /** The log the server serves. */
    private readonly location: StoreLocation,
    private readonly now: () => number = Date.now,
  ) {}

  /** The newest finished result, if any. */
  get latest(): VerifyJson | undefined {
    return this.last;
  }

  run(): Promise<VerifyJson> {
    this.running ??= this.spawnVerify().finally(() => {
      this.running = undefined;
      this.child = undefined;
    });
    return this.running;
  }

  /** Stops a run in progress (shutdown). */
  stop(): void {
    this.child?.kill('SIGTERM');
  }

  private spawnVerify(): Promise<VerifyJson> {
    const startedAt = this.now();
    const started = performance.now();
    return new Promise<VerifyJson>((resolve) => {
      const { args, env } = verifyCommandLine(this.location);
      const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
      this.child = child;
      let output = '';
      const collect = (chunk: Buffer) => {
        if (output.length < MAX_OUTPUT_CHARS) output += chunk.toString('utf8');
      };
      child.stdout.on('data', collect);
      child.stderr.on('data', collect);
      let finished = false;
      const finish = (ok: boolean, text: string) => {
        if (finished) return;
        finished = true;
        const result: VerifyJson = { ok, output: text.trim().slice(0, MAX_OUTPUT_CHARS), startedAt, durationMs: Math.round(performance.now() - started) };
        this.last = result;
        resolve(result);
      };
      child.once('error', (error) => finish(false, `verify could not start: ${error.message}`));
      child.once('close', (code, signal) => finish(code === 0, output || `verify ended by ${signal ?? `exit status ${code}`}`));
    });
  }
}
