/** `varledger audit`: who changed what, when and why — the log, filtered. */
import { Command, Option } from 'commander';
import type { EventKind } from '../domain/index.js';
import type { AuditView, EventFilter } from '../store/audit-source.js';
import { fromRow, type EventRow } from '../store/event-codec.js';
import { eventKinds, nonNegativeInteger, positiveInteger, timestamp } from './arguments.js';
import { detailsCell, valueCell } from './event-summary.js';
import { runAction } from './exit.js';
import { eventJson, formatMetadata, iso, plural, table } from './format.js';
import { MergedMetadata } from './merged-metadata.js';
import { dataOption, storeOption, withReadView } from './open-store.js';
import { OutputBuffer } from './output-buffer.js';
import { progressBar } from './progress.js';
import type { TextTable } from './text-table.js';

interface AuditOptions {
  data: string;
  store?: string;
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
    .addOption(storeOption())
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
    .action(runAction((opts: AuditOptions) => withReadView(opts, (view) => audit(view, opts))));
}

async function audit(view: AuditView, opts: AuditOptions): Promise<void> {
  // Everything below reads one state of the log, while servers may append.
  const head = await view.head();
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
  const cut = opts.limit > 0 ? await view.nthNewestRevision(filter, opts.limit + 1) : undefined;
  const pages = view.events({ ...filter, afterRevision: cut });
  // Names of the variables met so far, looked up once per page for the page's new ones.
  const names = new Map<string, string | undefined>();
  const nameOf = (id: string | null) => (id === null ? undefined : names.get(id));
  const learnNames = async (page: readonly EventRow[]) => {
    const unknown = [...new Set(page.flatMap((row) => (row[3] !== null && !names.has(row[3]) ? [row[3]] : [])))];
    if (unknown.length === 0) return;
    const found = await view.variableNames(unknown);
    for (const id of unknown) names.set(id, found.get(id));
  };
  // Without kind, actor or time filters the rows hold every event of each variable they show.
  const contiguous = opts.kind === undefined && opts.actor === undefined && opts.since === undefined && opts.until === undefined;
  const merged = new MergedMetadata((id, after, before) => view.variableEventsBetween(id, after, before), contiguous);
  const out = new OutputBuffer(process.stdout);
  // Progress only when the rows go to a file or pipe: on a terminal the rows themselves show it.
  const bar = opts.limit === 0 && !process.stdout.isTTY ? progressBar('audit', head) : undefined;

  let shown = 0;
  let first: number | undefined;
  const cells = async (row: EventRow): Promise<string[]> => {
    const event = fromRow(row);
    const after = await merged.after(row, event);
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
  // Table widths come from the first rows; the rest stream through them.
  const sample: string[][] = [];
  let text: TextTable | undefined;
  const startTable = async () => {
    text = table(COLUMNS, sample);
    await out.write(text.header());
    for (const row of sample) await out.write(text.row(row));
  };
  try {
    for await (const page of pages) {
      await learnNames(page);
      for (const row of page) {
        first ??= row[0];
        if (opts.json) {
          const after = await merged.after(row);
          await out.write(`${JSON.stringify({ ...eventJson(row, nameOf(row[3])), ...(after && { merged_metadata: after }) })}\n`);
        } else if (text) {
          await out.write(text.row(await cells(row)));
        } else {
          sample.push(await cells(row));
          if (sample.length === WIDTH_SAMPLE) await startTable();
        }
        shown++;
        bar?.update(row[0]);
      }
    }
    if (!text && sample.length > 0) await startTable();
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
