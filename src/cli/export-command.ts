/** `varledger export`: the log and its chain as JSON lines, for archiving or moving to another log. */
import { closeSync, openSync, writeSync } from 'node:fs';
import { Command } from 'commander';
import { runAction } from './exit.js';
import { toExported } from './export-format.js';
import { dataOption, storeOption, withReadView } from './open-store.js';
import { OutputBuffer } from './output-buffer.js';
import { progressBar } from './progress.js';

interface ExportOptions {
  data: string;
  store?: string;
  out?: string;
}

export function exportCommand(): Command {
  return new Command('export')
    .description('write the log as JSON lines: every column of each event and its chain hash, oldest first')
    .addOption(dataOption())
    .addOption(storeOption())
    .option('--out <file>', 'write to this file instead of stdout')
    .addHelpText(
      'after',
      '\nExamples:\n  varledger export --out ledger.jsonl && varledger import ledger.jsonl --data copy.db\n  varledger export --out ledger.jsonl && varledger import ledger.jsonl --store postgres://varledger:secret@db:5432/varledger',
    )
    .action(
      runAction((opts: ExportOptions) =>
        withReadView(opts, async (view) => {
          // One page of lines per write; stdout waits for a slow pipe to drain, a file is written at once.
          const fd = opts.out === undefined ? undefined : openSync(opts.out, 'w');
          const stdout = new OutputBuffer(process.stdout);
          let count = 0;
          const bar = progressBar('export', await view.head());
          try {
            for await (const page of view.chainedRows()) {
              let chunk = '';
              for (const row of page) chunk += `${JSON.stringify(toExported(row))}\n`;
              if (fd === undefined) await stdout.write(chunk);
              else writeSync(fd, chunk);
              count += page.length;
              const last = page[page.length - 1];
              if (last) bar.update(last[0]);
            }
            await stdout.flush();
          } finally {
            bar.stop();
            if (fd !== undefined) closeSync(fd);
          }
          if (opts.out !== undefined) process.stderr.write(`exported ${count} events to ${opts.out}\n`);
        }),
      ),
    );
}
