/** `varledger audit`: who changed what, when and why — the log, filtered. */
import { Command, Option } from 'commander';
import type { EventKind } from '../domain/index.js';
import { fromRow, type EventRow } from '../store/event-codec.js';
import type { EventFilter } from '../store/sqlite-audit-queries.js';
import type { SqliteEventStore } from '../store/sqlite-event-store.js';
import { eventKinds, nonNegativeInteger, positiveInteger, timestamp } from './arguments.js';
import { detailsCell, valueCell } from './event-summary.js';
import { runAction } from './exit.js';
import { eventJson, formatMetadata, iso, plural, table } from './format.js';
import { MergedMetadata } from './merged-metadata.js';
import { dataOption, withReadStore } from './open-store.js';
import { OutputBuffer } from './output-buffer.js';
import { progressBar } from './progress.js';

interface AuditOptions {
  data: string;
  session?: string;
  variable?: string;
  actor?: string;
  since?: number;
  until?: number;
  kind?: EventKind[];
  before?: number;
  limit: number;
  json?: boolean;
}

export const DEFAULT_AUDIT_LIMIT = 100;

/** Rows read before the column widths are fixed; the rest stream through those widths. */
const WIDTH_SAMPLE = 200;

const COLUMNS = [
  { title: 'rev' },
  { title: 'time' },
  { title: 'session', max: 24 },
  { title: 'variable', max: 24 },
  { title: 'variable id', max: 28 },
  { title: 'kind' },
  { title: 'ver' },
  { title: 'actor', max: 20 },
  { title: 'value', max: 32 },
  { title: 'details', max: 60 },
  { title: 'merged metadata' },
];

export function auditCommand(): Command {
  return new Command('audit')
    .description('list events from the log, oldest first, optionally filtered; the newest 100 unless --limit says otherwise')
    .addOption(dataOption())
    .option('--session <id>', 'only this session')
    .option('--variable <name-or-id>', 'only this variable (a name matches every variable ever registered with it)')
    .option('--actor <actor>', 'only events by this actor')
    .addOption(new Option('--since <time>', 'only events at or after this time (ISO-8601 or epoch ms)').argParser(timestamp))
    .addOption(new Option('--until <time>', 'only events at or before this time (ISO-8601 or epoch ms)').argParser(timestamp))
    .addOption(
      new Option('--kind <kind>', 'only events of this kind, e.g. variable_set or set (repeatable, or comma-separated)').argParser(eventKinds),
    )
    .addOption(new Option('--before <revision>', 'only events before this revision (the previous page)').argParser(positiveInteger))
    .addOption(
      new Option('--limit <n>', 'only the newest n matching events; 0: all of them, streamed').argParser(nonNegativeInteger).default(DEFAULT_AUDIT_LIMIT),
    )
    .option('--json', 'one JSON object per line, values encoded as in the log')
    .addHelpText(
      'after',
      '\nExamples:\n  varledger audit --session s1 --variable temperature\n  varledger audit --actor optimizer --since 2026-01-31T00:00:00Z --kind set --json\n  varledger audit --limit 0 > all-events.txt',
    )
    .action(runAction((opts: AuditOptions) => withReadStore(opts.data, (store) => audit(store, opts))));
}

async function audit(store: SqliteEventStore, opts: AuditOptions): Promise<void> {
  const queries = store.auditQueries();
  // Everything below reads up to the head as it is now, while a server may append.
  const head = store.head();
  const filter: EventFilter = {
    sessionId: opts.session,
    variable: opts.variable,
    actor: opts.actor,
    since: opts.since,
    until: opts.until,
    kinds: opts.kind,
    beforeRevision: Math.min(opts.before ?? Infinity, head + 1),
  };
  // With a limit, the (limit+1)-th newest match marks where the shown events start
  // and that older ones exist; then the rows stream forward from there.
  const cut = opts.limit > 0 ? queries.nthNewestRevision(filter, opts.limit + 1) : undefined;
  const rows = queries.events({ ...filter, afterRevision: cut });
  const nameOf = (id: string | null) => (id === null ? undefined : queries.variableName(id));
  // Without kind, actor or time filters the rows hold every event of each variable they show.
  const contiguous = opts.kind === undefined && opts.actor === undefined && opts.since === undefined && opts.until === undefined;
  const merged = new MergedMetadata((id, after, before) => queries.variableEventsBetween(id, after, before), contiguous);
  const out = new OutputBuffer(process.stdout);
  // Progress only when the rows go to a file or pipe: on a terminal the rows themselves show it.
  const bar = opts.limit === 0 && !process.stdout.isTTY ? progressBar('audit', head) : undefined;

  let shown = 0;
  let first: number | undefined;
  try {
    if (opts.json) {
      for (const row of rows) {
        first ??= row[0];
        const after = merged.after(row);
        await out.write(`${JSON.stringify({ ...eventJson(row, nameOf(row[3])), ...(after && { merged_metadata: after }) })}\n`);
        shown++;
        bar?.update(row[0]);
      }
    } else {
      const cells = (row: EventRow): string[] => {
        const event = fromRow(row);
        const after = merged.after(row, event);
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
          after ? formatMetadata(after) : '',
        ];
      };
      // Widths come from the first rows; the rest stream through them.
      // (Iterated by hand: leaving a for-of would close the statement.)
      const sample: string[][] = [];
      let next = rows.next();
      for (; !next.done && sample.length < WIDTH_SAMPLE; next = rows.next()) {
        first ??= next.value[0];
        sample.push(cells(next.value));
      }
      if (sample.length > 0) {
        const text = table(COLUMNS, sample);
        await out.write(text.header());
        for (const row of sample) await out.write(text.row(row));
        shown = sample.length;
        for (; !next.done; next = rows.next()) {
          await out.write(text.row(cells(next.value)));
          shown++;
          bar?.update(next.value[0]);
        }
      }
    }
    await out.flush();
  } finally {
    bar?.stop();
  }
  if (shown === 0) process.stderr.write('no matching events\n');
  else if (cut !== undefined && first !== undefined) {
    process.stderr.write(
      `showing the newest ${plural(shown, 'matching event')}; older ones: --before ${first} (the next page), all: --limit 0\n`,
    );
  }
}
