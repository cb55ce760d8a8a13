/** `varledger audit`: who changed what, when and why — the log, filtered. */
import { Command, Option } from 'commander';
import type { EventKind } from '../domain/index.js';
import { fromRow } from '../store/event-codec.js';
import { eventKinds, positiveInteger, timestamp } from './arguments.js';
import { detailsCell, valueCell } from './event-summary.js';
import { runAction } from './exit.js';
import { eventJson, iso, printTable, writeJsonLine } from './format.js';
import { dataOption, withReadStore } from './open-store.js';

interface AuditOptions {
  data: string;
  session?: string;
  variable?: string;
  actor?: string;
  since?: number;
  until?: number;
  kind?: EventKind[];
  limit?: number;
  json?: boolean;
}

const HEAD = ['rev', 'time', 'session', 'variable', 'variable id', 'kind', 'ver', 'actor', 'value', 'details'];

export function auditCommand(): Command {
  return new Command('audit')
    .description('list events from the log, oldest first, optionally filtered')
    .addOption(dataOption())
    .option('--session <id>', 'only this session')
    .option('--variable <name-or-id>', 'only this variable (a name matches every variable ever registered with it)')
    .option('--actor <actor>', 'only events by this actor')
    .addOption(new Option('--since <time>', 'only events at or after this time (ISO-8601 or epoch ms)').argParser(timestamp))
    .addOption(new Option('--until <time>', 'only events at or before this time (ISO-8601 or epoch ms)').argParser(timestamp))
    .addOption(
      new Option('--kind <kind>', 'only events of this kind, e.g. variable_set or set (repeatable, or comma-separated)').argParser(eventKinds),
    )
    .addOption(new Option('--limit <n>', 'only the newest n matching events').argParser(positiveInteger))
    .option('--json', 'one JSON object per line, values encoded as in the log')
    .addHelpText(
      'after',
      '\nExamples:\n  varledger audit --session s1 --variable temperature\n  varledger audit --actor optimizer --since 2026-01-31T00:00:00Z --kind set --json',
    )
    .action(
      runAction((opts: AuditOptions) =>
        withReadStore(opts.data, (store) => {
          const queries = store.auditQueries();
          const rows = queries.events({
            sessionId: opts.session,
            variable: opts.variable,
            actor: opts.actor,
            since: opts.since,
            until: opts.until,
            kinds: opts.kind,
            limit: opts.limit,
          });
          const nameOf = (id: string | null) => (id === null ? undefined : queries.variableName(id));
          if (opts.json) {
            for (const row of rows) writeJsonLine(eventJson(row, nameOf(row[3])));
            return;
          }
          const cells = [...rows].map((row) => {
            const event = fromRow(row);
            return [
              String(event.revision),
              iso(event.time),
              event.sessionId,
              row[3] === null ? '' : (nameOf(row[3]) ?? '?'),
              row[3] ?? '',
              event.kind,
              row[5] === null ? '' : String(row[5]),
              event.actor,
              valueCell(event),
              detailsCell(event),
            ];
          });
          printTable(HEAD, cells, 'no matching events');
        }),
      ),
    );
}
