/** `varledger history SESSION VARIABLE`: one variable's versions, newest first. */
import { Command } from 'commander';
import { fromRow } from '../store/event-codec.js';
import { detailsCell, valueCell } from './event-summary.js';
import { CliError, runAction } from './exit.js';
import { eventJson, iso, printTable, writeJsonLine } from './format.js';
import { dataOption, withReadStore } from './open-store.js';

interface HistoryOptions {
  data: string;
  json?: boolean;
}

const HEAD = ['version', 'rev', 'time', 'kind', 'actor', 'value', 'details'];

export function historyCommand(): Command {
  return new Command('history')
    .description("one variable's versions, newest first, including its deletion")
    .argument('<session>', 'session id')
    .argument('<variable>', 'variable name or id; a name re-registered after a deletion means its newest variable')
    .addOption(dataOption())
    .option('--json', 'one JSON object per line, values encoded as in the log')
    .addHelpText('after', '\nExample:\n  varledger history s1 temperature')
    .action(
      runAction((sessionId: string, identifier: string, opts: HistoryOptions) =>
        withReadStore(opts.data, (store) => {
          const queries = store.auditQueries();
          const [newest, ...older] = queries.findVariable(sessionId, identifier);
          if (!newest) throw new CliError(`no variable ${JSON.stringify(identifier)} was ever registered in session ${JSON.stringify(sessionId)}`);
          if (older.length > 0) {
            // Names are reusable once deleted; say which one we show and how to reach the others.
            const ids = older.map((r) => r.variableId).join(', ');
            process.stderr.write(`note: showing ${newest.variableId}; ${JSON.stringify(identifier)} also named ${ids} (pass an id to see those)\n`);
          }
          const rows = queries.eventsOfVariable(sessionId, newest.variableId);
          if (opts.json) {
            for (const row of rows) writeJsonLine(eventJson(row, newest.name));
            return;
          }
          const cells = rows.map((row) => {
            const event = fromRow(row);
            return [String(row[5] ?? ''), String(event.revision), iso(event.time), event.kind, event.actor, valueCell(event), detailsCell(event)];
          });
          process.stdout.write(`${newest.name} (${newest.variableId}) in session ${sessionId}\n`);
          printTable(HEAD, cells, 'no events');
        }),
      ),
    );
}
