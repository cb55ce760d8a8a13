/**
 * "Verify now": runs `varledger verify` on the server's database in a child
 * process — the very check the CLI makes (chain from genesis, snapshots),
 * on its own read-only connection and its own core, so a long log cannot
 * stall the server's event loop. One run at a time: a request that arrives
 * while one runs gets that run's result.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { VerifyJson } from './api-types.js';

const CLI_PATH = fileURLToPath(new URL('../cli/main.js', import.meta.url));
/** Output kept from the child: the verdict is one line. */
const MAX_OUTPUT_CHARS = 4096;

export class VerifyJob {
  private running: Promise<VerifyJson> | undefined;
  private child: ReturnType<typeof spawn> | undefined;
  private last: VerifyJson | undefined;

  constructor(
    /** The SQLite file to verify; undefined when the log is not one (PostgreSQL: not yet). */
    private readonly dataPath: string | undefined,
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
    const dataPath = this.dataPath;
    if (dataPath === undefined) {
      const result: VerifyJson = { ok: false, output: 'verify runs on a SQLite log only; this server keeps its log in PostgreSQL', startedAt, durationMs: 0 };
      this.last = result;
      return Promise.resolve(result);
    }
    return new Promise<VerifyJson>((resolve) => {
      const child = spawn(process.execPath, [CLI_PATH, 'verify', '--data', dataPath], {
        env: { ...process.env, NO_COLOR: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
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
