/**
 * `varledger compact`: retention by hand. Moves the events of sessions that
 * ended (closed or expired) before a time into an archive file in the export
 * format, removes them from the log and gives the space back, recording a
 * log_compacted event (EventStore.compact). Safe beside a running server on
 * the same log: the store's write lock orders it with the server's appends,
 * and the server folds the event in like any other.
 */
import { Command, Option } from 'commander';
import { ArchiveExistsError, ArchiveFile } from '../store/archive-file.js';
import { DEFAULT_MAX_SESSIONS } from '../store/compaction.js';
import { openStore } from '../store/open-event-store.js';
import { describeLocation, redactMessage } from '../store/store-location.js';
import { positiveInteger, timeOrAge, type TimeOrAge } from './arguments.js';
import { CliError, EXIT_OK, runAction } from './exit.js';
import { plural } from './format.js';
import { dataOption, locationOf, storeOption } from './open-store.js';

interface CompactOptions {
  data: string;
  store?: string;
  endedBefore: TimeOrAge;
  archive: string;
  maxSessions: number;
}

/** The actor recorded on the log_compacted event. */
const ACTOR = 'varledger compact';

export function compactCommand(): Command {
  return new Command('compact')
    .description('move the events of sessions that ended before a time into an archive file and remove them from the log')
    .addOption(dataOption())
    .addOption(storeOption())
    .addOption(
      new Option('--ended-before <time|age>', 'sessions closed or expired before this: ISO-8601, epoch ms, or an age such as 30d')
        .argParser(timeOrAge)
        .makeOptionMandatory(),
    )
    .addOption(new Option('--archive <file>', 'the archive to write (JSON lines, as export); must not exist').makeOptionMandatory())
    .addOption(
      new Option('--max-sessions <n>', 'at most this many sessions per run (the oldest ended first)').argParser(positiveInteger).default(DEFAULT_MAX_SESSIONS),
    )
    .addHelpText(
      'after',
      '\nThe archive proves itself against the live chain: varledger verify --archive FILE.\n\nExample:\n  varledger compact --ended-before 30d --archive archive/2026-01.jsonl',
    )
    .action(
      runAction(async (opts: CompactOptions) => {
        const location = locationOf(opts);
        const now = Date.now();
        const endedBefore = 'at' in opts.endedBefore ? opts.endedBefore.at : now - opts.endedBefore.ago;
        let archive: ArchiveFile;
        try {
          archive = new ArchiveFile(opts.archive);
        } catch (error) {
          if (error instanceof ArchiveExistsError) throw new CliError(error.message);
          throw error;
        }
        let opened;
        try {
          opened = await openStore(location, { durability: 'normal', pollMs: 0 });
        } catch (error) {
          throw new CliError(`cannot open ${describeLocation(location)}: ${redactMessage(error instanceof Error ? error.message : String(error), location)}`);
        }
        try {
          const result = await opened.store.compact({ endedBefore, archive, maxSessions: opts.maxSessions, time: now, actor: ACTOR });
          const before = new Date(endedBefore).toISOString();
          if (!result) {
            process.stdout.write(`nothing to compact: no session ended before ${before}\n`);
            return EXIT_OK;
          }
          process.stdout.write(
            `archived ${plural(result.sessions.length, 'session')} (${plural(result.events, 'event')}) that ended before ${before} to ${opts.archive} (sha256 ${result.archiveSha256})\n` +
              `log_compacted at revision ${result.revision}; the oldest revision available is ${result.horizon + 1}\n`,
          );
          return EXIT_OK;
        } finally {
          await opened.store.close();
        }
      }),
    );
}
