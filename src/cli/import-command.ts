/**
 * `varledger import FILE`: loads an export into an empty log (a SQLite file
 * or a PostgreSQL database),
 * recomputing the chain; any hash that differs from the exported one means
 * the export was altered (or is not from a sound log), and nothing is kept.
 */
import { createReadStream, existsSync, rmSync, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { Command } from 'commander';
import type { LogImporter } from '../store/audit-source.js';
import { formatDigest } from '../store/hash-chain.js';
import { describeLocation } from '../store/store-location.js';
import { CliError, EXIT_FAILED, runAction } from './exit.js';
import { fromExported } from './export-format.js';
import { dataOption, locationOf, openForImport, storeOption } from './open-store.js';
import { progressBar, type Progress } from './progress.js';

interface ImportOptions {
  data: string;
  store?: string;
}

/** Removes a database file this command created, with its WAL companions. */
function removeDatabase(path: string): void {
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true });
}

export function importCommand(): Command {
  return new Command('import')
    .description('load an export into an empty database, recomputing and checking the hash chain')
    .argument('<file>', "an export's JSON lines, or - for stdin")
    .addOption(dataOption())
    .addOption(storeOption())
    .addHelpText(
      'after',
      '\nExit status: 0 and the chain head on success; 1 if a recomputed hash differs from the exported one\n(nothing is written); 2 if the database is not empty or the input cannot be read.',
    )
    .action(
      runAction(async (file: string, opts: ImportOptions) => {
        if (file !== '-' && !existsSync(file)) throw new CliError(`no such file: ${file}`);
        const location = locationOf(opts);
        const created = location.kind === 'sqlite' && !existsSync(location.path);
        const target = await openForImport(location);
        let importer: LogImporter;
        try {
          importer = await target.startImport();
        } catch (error) {
          await target.close();
          if (created && location.kind === 'sqlite') removeDatabase(location.path);
          throw new CliError(`refusing to import into ${describeLocation(location)}: ${error instanceof Error ? error.message : String(error)}`);
        }
        let kept = false;
        let bar: Progress | undefined;
        try {
          const input = file === '-' ? process.stdin : createReadStream(file, { encoding: 'utf8' });
          // Progress in bytes of the file read (stdin has no known size).
          bar = file === '-' ? undefined : progressBar('import', statSync(file).size, 'bytes');
          let lineNumber = 0;
          for await (const line of createInterface({ input, crlfDelay: Infinity })) {
            lineNumber++;
            if (bar && 'bytesRead' in input) bar.update(input.bytesRead);
            if (line.trim() === '') continue;
            let parsed;
            try {
              parsed = fromExported(line);
            } catch (error) {
              throw new CliError(`line ${lineNumber}: ${error instanceof Error ? error.message : String(error)}`);
            }
            let hash: string;
            try {
              hash = await importer.add(parsed.row);
            } catch (error) {
              throw new CliError(`line ${lineNumber}: ${error instanceof Error ? error.message : String(error)}`);
            }
            if (hash !== parsed.hash) {
              throw new CliError(
                `revision ${parsed.row[0]}: the recomputed hash ${hash} differs from the exported ${parsed.hash}; nothing imported`,
                EXIT_FAILED,
              );
            }
          }
          const head = await importer.commit();
          kept = true;
          bar?.stop();
          process.stdout.write(`imported ${head.revision} events; head ${formatDigest(head)}\n`);
        } finally {
          bar?.stop();
          // After a failure the import's own error is the one to report.
          await importer.rollback().catch(() => undefined);
          await target.close();
          if (!kept && created && location.kind === 'sqlite') removeDatabase(location.path);
        }
      }),
    );
}
