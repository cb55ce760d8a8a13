/**
 * `varledger verify`: proves the log is the one the hash chain sealed (no
 * event changed, deleted or moved), optionally that it extends a digest
 * published earlier, and that every snapshot equals a fresh fold of the log.
 */
import { Command, Option } from 'commander';
import type { Digest } from '../store/hash-chain.js';
import { formatDigest } from '../store/hash-chain.js';
import type { AuditView, ChainedRow } from '../store/audit-source.js';
import { digest } from './arguments.js';
import { checkChain, type ChainProblem } from './chain-check.js';
import { existsSync } from 'node:fs';
import { checkArchive } from './archive-check.js';
import { CliError, EXIT_FAILED, EXIT_OK, runAction } from './exit.js';
import { colour, plural } from './format.js';
import { dataOption, storeOption, withReadView } from './open-store.js';
import { progressBar } from './progress.js';
import { LogDoesNotFold, logPages, replayLog, storedSnapshots } from './replay-log.js';

interface VerifyOptions {
  data: string;
  store?: string;
  digest?: Digest;
  archive?: string;
}

type Problem = Pick<ChainProblem, 'revision' | 'detail'> & { kind: ChainProblem['kind'] | 'snapshot mismatch' };

/** Snapshots are checked only over an intact chain: folding a tampered log proves nothing. */
async function checkSnapshots(view: AuditView, head: number): Promise<{ checked: number; problem?: Problem }> {
  const beyond = (await view.snapshots()).find((s) => s.revision > head);
  const bar = progressBar('snapshots', head);
  try {
    const result = await replayLog(logPages(view, head), storedSnapshots(view, head), (revision) => bar.update(revision));
    const first = result.mismatches[0];
    if (first) return { checked: result.snapshotsChecked, problem: { revision: first.revision, kind: 'snapshot mismatch', detail: first.problem } };
    if (beyond) {
      return { checked: result.snapshotsChecked, problem: { revision: beyond.revision, kind: 'snapshot mismatch', detail: `a snapshot exists beyond the log head ${head}` } };
    }
    return { checked: result.snapshotsChecked };
  } catch (error) {
    if (!(error instanceof LogDoesNotFold)) throw error;
    return { checked: 0, problem: { revision: head, kind: 'snapshot mismatch', detail: `the log does not fold: ${error.message}` } };
  } finally {
    bar.stop();
  }
}

/** `--archive`: one more line, OK or FAILED. */
async function verifyArchive(path: string, view: AuditView): Promise<number> {
  if (!existsSync(path)) throw new CliError(`no archive at ${path}`);
  const report = await checkArchive(path, view);
  if (report.problem) {
    const where = report.problem.revision > 0 ? ` at revision ${report.problem.revision}` : '';
    process.stdout.write(`${colour.red('FAILED')}: archive ${path}${where}: ${report.problem.detail}\n`);
    return EXIT_FAILED;
  }
  process.stdout.write(
    `${colour.green('OK')}: archive ${path}: ${plural(report.events, 'event')} of ${plural(report.sessions, 'session')} removed by the compaction at revision ${report.compaction} re-hash to the live chain (sha256 ${report.sha256.slice(0, 12)}…)\n`,
  );
  return EXIT_OK;
}

/** The rows as they are read, moving a progress bar. */
async function* counted(pages: AsyncIterable<readonly ChainedRow[]>, bar: { update(value: number): void }): AsyncGenerator<readonly ChainedRow[]> {
  for await (const page of pages) {
    yield page;
    const last = page[page.length - 1];
    if (last) bar.update(last[0]);
  }
}

export function verifyCommand(): Command {
  return new Command('verify')
    .description('recompute the hash chain from genesis and check every event, the snapshots and optionally a published digest')
    .addOption(dataOption())
    .addOption(storeOption())
    .addOption(new Option('--digest <rev:hash>', 'a digest published earlier (e.g. by a previous verify) the log must still extend').argParser(digest))
    .addOption(new Option('--archive <file>', 'also prove a retention archive (varledger compact) against the live chain'))
    .addHelpText(
      'after',
      '\nExit status: 0 and one OK line when all holds; 1 naming the first bad revision; 2 if the database cannot be read.\n\nExample:\n  varledger verify --digest 1200:3f5a…',
    )
    .action(
      runAction((opts: VerifyOptions) =>
        withReadView(opts, async (view) => {
          const bar = progressBar('chain', await view.head());
          let chain;
          try {
            chain = await checkChain(counted(view.chainedRows(), bar), await view.chainHead(), opts.digest, {
              runs: view.removedRuns(),
              chainHashAt: async (revision) => (await view.chainHashes([revision])).get(revision),
            });
          } finally {
            bar.stop();
          }
          const snapshots = chain.problem ? { checked: 0 } : await checkSnapshots(view, chain.head.revision);
          const problem: Problem | undefined = chain.problem ?? snapshots.problem;
          if (problem) {
            process.stdout.write(`${colour.red('FAILED')} at revision ${problem.revision}: ${problem.kind}: ${problem.detail}\n`);
            return EXIT_FAILED;
          }
          const vouched = opts.digest ? `, extends ${opts.digest.revision}:${opts.digest.hash.slice(0, 12)}…` : '';
          const removed = chain.removed > 0 ? ` (${chain.removed} removed by retention)` : '';
          process.stdout.write(
            `${colour.green('OK')}: ${plural(chain.events, 'event')}${removed}, ${plural(snapshots.checked, 'snapshot')} match the log${vouched}, head ${formatDigest(chain.head)}\n`,
          );
          return opts.archive === undefined ? EXIT_OK : verifyArchive(opts.archive, view);
        }),
      ),
    );
}
