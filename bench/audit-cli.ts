/**
 * `varledger audit` on a real log, through the real CLI in a child process
 * (a scripted check, not a timed test): writes BENCH_AUDIT_EVENTS events
 * (default 200,000; the fold benchmark's log: sessions, float registrations,
 * then sets round-robin) and measures
 *
 *   default   `audit` (the newest 100 and the paging line): wall time to exit
 *   all       `audit --limit 0` into a pipe: time to the first row, wall time
 *             to exit, rows printed, peak RSS (VmHWM, polled)
 *   json      `audit --limit 0 --json`: the same
 *   flat      peak RSS of `audit --limit 0` on a log half the size: memory
 *             must not grow with the log (both are past the point where
 *             V8's young generation stops growing)
 *
 * Targets: default < 1 s; --limit 0 first row < 1 s, total < 10 s, memory flat.
 * Runnable alone: `node dist/bench/audit-cli.js` (after `npm run build`), or
 * as the `audit` section of `npm run bench`.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeTempDir } from './server-fixture.js';
import { writeLog } from './startup-fold.js';
import { round, since } from './stats.js';

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const SESSIONS = 100;

export interface AuditRun {
  /** Wall-clock seconds from spawn to exit (GNU time). */
  readonly seconds: number;
  /** User + system CPU seconds of the CLI process: steadier than wall time on a shared machine. */
  readonly cpuSeconds: number;
  /** Seconds from spawn to the first data row on stdout (table: after the header and rule). */
  readonly firstRowSeconds: number;
  readonly lines: number;
  readonly peakRssMiB: number;
  readonly exitCode: number | null;
}

export interface AuditCliResult {
  readonly conditions: { readonly events: number; readonly smallEvents: number; readonly writeSeconds: number };
  readonly defaultRun: AuditRun;
  readonly all: AuditRun;
  readonly allJson: AuditRun;
  /** `--limit 0` on the small log, for the memory comparison. */
  readonly allSmall: AuditRun;
}

/**
 * Runs the CLI under GNU time (wall, CPU and peak RSS of exactly that
 * process), counting stdout lines as they stream, never holding them.
 */
function runCli(args: readonly string[], headerLines: number): Promise<AuditRun> {
  const start = performance.now();
  const child = spawn('/usr/bin/time', ['-f', 'BENCH_TIME %e %U %S %M', process.execPath, CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let lines = 0;
  let firstRow = Number.NaN;
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) {
      lines++;
      if (lines === headerLines + 1) firstRow = since(start) / 1000;
    }
  });
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      const figures = /BENCH_TIME ([\d.]+) ([\d.]+) ([\d.]+) (\d+)/.exec(stderr);
      if (!figures) return reject(new Error(`no figures from /usr/bin/time: ${stderr}`));
      const [, wall, user, sys, rssKiB] = figures.map(Number) as [number, number, number, number, number];
      resolve({
        seconds: round(wall, 2),
        cpuSeconds: round(user + sys, 2),
        firstRowSeconds: round(firstRow, 3),
        lines,
        peakRssMiB: round(rssKiB / 1024, 1),
        exitCode: code,
      });
    });
  });
}

export async function runAuditCli(): Promise<AuditCliResult> {
  const events = Number(process.env.BENCH_AUDIT_EVENTS ?? 200_000);
  const smallEvents = Math.round(events / 2);
  const tmp = makeTempDir('varledger-bench-audit-');
  try {
    const big = join(tmp.dir, 'big.db');
    const small = join(tmp.dir, 'small.db');
    const writeStart = performance.now();
    writeLog(big, events, SESSIONS);
    const writeSeconds = round(since(writeStart) / 1000, 1);
    writeLog(small, smallEvents, SESSIONS);
    // Table: a title line and a rule before the first row.
    const defaultRun = await runCli(['audit', '--data', big], 2);
    const all = await runCli(['audit', '--data', big, '--limit', '0'], 2);
    const allJson = await runCli(['audit', '--data', big, '--limit', '0', '--json'], 0);
    const allSmall = await runCli(['audit', '--data', small, '--limit', '0'], 2);
    for (const [name, run, rows] of [
      ['default', defaultRun, 100 + 2],
      ['--limit 0', all, events + 2],
      ['--limit 0 --json', allJson, events],
      ['--limit 0 (small)', allSmall, smallEvents + 2],
    ] as const) {
      if (run.exitCode !== 0 || run.lines !== rows) throw new Error(`audit ${name}: exit ${run.exitCode}, ${run.lines} lines, expected ${rows}`);
    }
    return { conditions: { events, smallEvents, writeSeconds }, defaultRun, all, allJson, allSmall };
  } finally {
    tmp.remove();
  }
}

/** Figure-vs-target lines for the bench table. */
export function auditTargets(r: AuditCliResult): Array<{ benchmark: string; measured: string; target: string; met: boolean | null }> {
  const n = r.conditions.events.toLocaleString('en-US');
  const rssRatio = r.all.peakRssMiB / r.allSmall.peakRssMiB;
  return [
    {
      benchmark: `audit (newest 100 of ${n})`,
      measured: `${r.defaultRun.seconds} s (CPU ${r.defaultRun.cpuSeconds} s)`,
      target: '< 1 s',
      met: r.defaultRun.seconds < 1,
    },
    { benchmark: `audit --limit 0 (${n}): first row`, measured: `${r.all.firstRowSeconds} s`, target: '< 1 s', met: r.all.firstRowSeconds < 1 },
    {
      benchmark: `audit --limit 0 (${n}): total`,
      measured: `${r.all.seconds} s (CPU ${r.all.cpuSeconds} s)`,
      target: '< 10 s',
      met: r.all.seconds < 10,
    },
    {
      benchmark: `audit --limit 0 --json (${n}): total`,
      measured: `${r.allJson.seconds} s (CPU ${r.allJson.cpuSeconds} s, first row ${r.allJson.firstRowSeconds} s)`,
      target: '—',
      met: null,
    },
    {
      benchmark: `audit --limit 0 peak RSS, ${n} vs ${r.conditions.smallEvents.toLocaleString('en-US')} events`,
      measured: `${r.all.peakRssMiB} MiB vs ${r.allSmall.peakRssMiB} MiB (${round(rssRatio, 2)}×)`,
      target: 'flat (≤ 1.2×)',
      met: rssRatio <= 1.2,
    },
  ];
}

// Run alone: `node dist/bench/audit-cli.js`.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  runAuditCli().then(
    (result) => {
      for (const row of auditTargets(result)) console.log(`${row.met === null ? ' ' : row.met ? '✓' : '✗'} ${row.benchmark}: ${row.measured} (target ${row.target})`);
      console.log(JSON.stringify(result));
    },
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
