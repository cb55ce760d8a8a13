/**
 * `varledger replay`: rebuilds the projection from the log alone and checks
 * every snapshot on the way against it — the snapshots are a cache the server
 * trusts at start-up, so one that disagrees with the log must be found.
 */
import { Command, Option } from 'commander';
import { nonNegativeInteger } from './arguments.js';
import { CliError, EXIT_FAILED, EXIT_OK, runAction } from './exit.js';
import { colour, plural, writeJsonLine } from './format.js';
import { dataOption, storeOption, withReadView } from './open-store.js';
import { progressBar } from './progress.js';
import { LogDoesNotFold, logPages, replayLog, storedSnapshots, type ReplayResult } from './replay-log.js';

interface ReplayOptions {
  data: string;
  store?: string;
  toRevision?: number;
  json?: boolean;
}

function report(result: ReplayResult, seconds: number, json: boolean): void {
  const rate = seconds > 0 ? Math.round(result.events / seconds) : result.events;
  const variables = [...result.sessions.values()].reduce((n, s) => n + s.variables.size, 0);
  if (json) {
    writeJsonLine({
      ok: result.mismatches.length === 0,
      events: result.events,
      to_revision: result.lastRevision,
      seconds,
      events_per_second: rate,
      sessions: result.sessions.size,
      variables,
      snapshots_checked: result.snapshotsChecked,
      mismatches: result.mismatches,
    });
    return;
  }
  process.stdout.write(
    `replayed ${plural(result.events, 'event')} (to revision ${result.lastRevision}) in ${seconds.toFixed(3)} s, ${rate} events/s: ` +
      `${plural(result.sessions.size, 'session')}, ${plural(variables, 'live variable')}\n`,
  );
  for (const m of result.mismatches) process.stdout.write(`${colour.red('MISMATCH')} snapshot at revision ${m.revision}: ${m.problem}\n`);
  const verdict = result.mismatches.length === 0 ? colour.green('OK') : colour.red('FAILED');
  process.stdout.write(`${verdict}: ${plural(result.snapshotsChecked, 'snapshot')} checked, ${result.mismatches.length} mismatched\n`);
}

export function replayCommand(): Command {
  return new Command('replay')
    .description('rebuild the projection from the log alone and compare it with the stored snapshots')
    .addOption(dataOption())
    .addOption(storeOption())
    .addOption(new Option('--to-revision <n>', 'stop at this revision (default: the head)').argParser(nonNegativeInteger))
    .option('--json', 'the report as one JSON object')
    .addHelpText('after', '\nExit status: 0 when every snapshot matches, 1 on a mismatch, 2 if the database cannot be read.')
    .action(
      runAction((opts: ReplayOptions) =>
        withReadView(opts, async (view) => {
          const head = await view.head();
          const to = opts.toRevision ?? head;
          if (to > head) throw new CliError(`revision ${to} is beyond the head of the log (${head})`);
          const bar = progressBar('replay', to);
          const started = process.hrtime.bigint();
          let result: ReplayResult;
          try {
            result = await replayLog(logPages(view, to), storedSnapshots(view, to), (revision) => bar.update(revision));
          } catch (error) {
            if (!(error instanceof LogDoesNotFold)) throw error;
            throw new CliError(`the log does not fold: ${error.message}`, EXIT_FAILED);
          } finally {
            bar.stop();
          }
          const seconds = Number(process.hrtime.bigint() - started) / 1e9;
          report(result, seconds, opts.json === true);
          return result.mismatches.length === 0 ? EXIT_OK : EXIT_FAILED;
        }),
      ),
    );
}
