/** `varledger export`: the log and its chain as JSON lines, for archiving or moving to another file. */
import { closeSync, openSync, writeSync } from 'node:fs';
import { Command } from 'commander';
import { runAction } from './exit.js';
import { toExported } from './export-format.js';
import { dataOption, withReadStore } from './open-store.js';
import { progressBar } from './progress.js';

interface ExportOptions {
  data: string;
  out?: string;
}

/** Lines are written in chunks of about this many characters. */
const CHUNK = 1 << 20;

export function exportCommand(): Command {
  return new Command('export')
    .description('write the log as JSON lines: every column of each event and its chain hash, oldest first')
    .addOption(dataOption())
    .option('--out <file>', 'write to this file instead of stdout')
    .addHelpText('after', '\nExample:\n  varledger export --out ledger.jsonl && varledger import ledger.jsonl --data copy.db')
    .action(
      runAction((opts: ExportOptions) =>
        withReadStore(opts.data, (store) => {
          // Write to the file synchronously: the rows come from one SQLite
          // statement (one consistent read) that must not wait on a stream.
          const fd = opts.out === undefined ? 1 : openSync(opts.out, 'w');
          const write = (text: string) => (fd === 1 ? process.stdout.write(text) : writeSync(fd, text));
          let chunk = '';
          let count = 0;
          const bar = progressBar('export', store.head());
          try {
            for (const row of store.rowsWithHashes()) {
              chunk += `${JSON.stringify(toExported(row))}\n`;
              count++;
              bar.update(row[0]);
              if (chunk.length >= CHUNK) {
                write(chunk);
                chunk = '';
              }
            }
            if (chunk) write(chunk);
          } finally {
            bar.stop();
            if (fd !== 1) closeSync(fd);
          }
          if (opts.out !== undefined) process.stderr.write(`exported ${count} events to ${opts.out}\n`);
        }),
      ),
    );
}
