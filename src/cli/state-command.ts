/** `varledger state SESSION`: a session's variables now, or as they were at a revision or time. */
import { Command, Option } from 'commander';
import { foldSessions, type SessionId } from '../domain/index.js';
import { encodeSession } from '../store/snapshot-codec.js';
import { nonNegativeInteger, timestamp } from './arguments.js';
import { CliError, runAction } from './exit.js';
import { formatMetadata, iso, printTable, summarizeValue, writeJsonLine } from './format.js';
import { dataOption, storeOption, withReadView } from './open-store.js';

interface StateOptions {
  data: string;
  store?: string;
  atRevision?: number;
  atTime?: number;
  json?: boolean;
}

const HEAD = ['name', 'id', 'type', 'value', 'version', 'modified rev', 'updated', 'by', 'metadata'];

export function stateCommand(): Command {
  return new Command('state')
    .description("a session's variables as they are, or were at a revision or time (folded from the log alone)")
    .argument('<session>', 'session id')
    .addOption(dataOption())
    .addOption(storeOption())
    .addOption(new Option('--at-revision <n>', 'as of this revision').argParser(nonNegativeInteger).conflicts('atTime'))
    .addOption(new Option('--at-time <time>', 'as of the last revision at or before this time (ISO-8601 or epoch ms)').argParser(timestamp))
    .option('--json', 'the session as one JSON object, values encoded as in the log')
    .addHelpText('after', '\nExamples:\n  varledger state s1\n  varledger state s1 --at-revision 12\n  varledger state s1 --at-time 2026-01-31T12:00:00Z')
    .action(
      runAction((sessionId: string, opts: StateOptions) =>
        withReadView(opts, async (view) => {
          const head = await view.head();
          let revision: number = head;
          if (opts.atRevision !== undefined) {
            if (opts.atRevision > head) throw new CliError(`revision ${opts.atRevision} is beyond the head of the log (${head})`);
            revision = opts.atRevision;
          } else if (opts.atTime !== undefined) {
            revision = await view.lastRevisionAt(opts.atTime);
          }
          // Only this session's events up to the revision: a fold of the log, never a snapshot.
          const events = await view.readSession(sessionId as SessionId, revision);
          const session = foldSessions(events).get(sessionId);
          if (!session) throw new CliError(`no session ${JSON.stringify(sessionId)} at revision ${revision}`);

          if (opts.json) {
            writeJsonLine({ revision, session: JSON.parse(encodeSession(session)) as unknown });
            return;
          }
          const meta = formatMetadata(session.metadata);
          process.stdout.write(
            `session ${session.id} at revision ${revision}: ${session.status}, created ${iso(session.createdAt)} (rev ${session.createdRevision}), ` +
              `last change rev ${session.modifiedRevision}${meta ? `, ${meta}` : ''}\n`,
          );
          const rows = [...session.variables.values()]
            .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
            .map((v) => [
              v.name,
              v.id,
              v.type,
              summarizeValue(v.value),
              String(v.version),
              String(v.modifiedRevision),
              iso(v.updatedAt),
              v.modifiedBy,
              formatMetadata(v.metadata),
            ]);
          printTable(HEAD, rows, 'no variables');
        }),
      ),
    );
}
