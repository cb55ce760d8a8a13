/** `varledger history SESSION VARIABLE`: one variable's versions, newest first. */
import { Command } from 'commander';
import type { Metadata, StoredEvent } from '../domain/index.js';
import { fromRow } from '../store/event-codec.js';
import { detailsCell, valueCell } from './event-summary.js';
import { CliError, runAction } from './exit.js';
import { eventJson, formatMetadata, iso, printTable, writeJsonLine } from './format.js';
import { metadataAfter } from './merged-metadata.js';
import { dataOption, storeOption, withReadView } from './open-store.js';

interface HistoryOptions {
  data: string;
  store?: string;
  json?: boolean;
}

const HEAD = ['version', 'rev', 'time', 'kind', 'actor', 'value', 'details', 'merged metadata'];

export function historyCommand(): Command {
  return new Command('history')
    .description("one variable's versions, newest first, including its deletion")
    .argument('<session>', 'session id')
    .argument('<variable>', 'variable name or id; a name re-registered after a deletion means its newest variable')
    .addOption(dataOption())
    .addOption(storeOption())
    .option('--json', 'one JSON object per line, values encoded as in the log')
    .addHelpText('after', '\nExample:\n  varledger history s1 temperature')
    .action(
      runAction((sessionId: string, identifier: string, opts: HistoryOptions) =>
        withReadView(opts, async (view) => {
          const [newest, ...older] = await view.findVariable(sessionId, identifier);
          if (!newest) throw new CliError(`no variable ${JSON.stringify(identifier)} was ever registered in session ${JSON.stringify(sessionId)}`);
          if (older.length > 0) {
            // Names are reusable once deleted; say which one we show and how to reach the others.
            const ids = older.map((r) => r.variableId).join(', ');
            process.stderr.write(`note: showing ${newest.variableId}; ${JSON.stringify(identifier)} also named ${ids} (pass an id to see those)\n`);
          }
          const rows = await view.eventsOfVariable(sessionId, newest.variableId);
          // Newest first; the merged view is folded oldest first.
          const events = rows.map(fromRow);
          const merged: Array<Metadata | undefined> = [];
          let current: Metadata | undefined;
          for (let i = events.length - 1; i >= 0; i--) merged[i] = current = metadataAfter(current, events[i] as StoredEvent);
          if (opts.json) {
            rows.forEach((row, i) => {
              const after = merged[i];
              writeJsonLine({ ...eventJson(row, newest.name), ...(after && { merged_metadata: after }) });
            });
            return;
          }
          const cells = events.map((event, i) => {
            const after = merged[i];
            return [
              String(rows[i]?.[5] ?? ''),
              String(event.revision),
              iso(event.time),
              event.kind,
              event.actor,
              valueCell(event),
              detailsCell(event),
              after ? formatMetadata(after) : '',
            ];
          });
          process.stdout.write(`${newest.name} (${newest.variableId}) in session ${sessionId}\n`);
          printTable(HEAD, cells, 'no events');
        }),
      ),
    );
}
