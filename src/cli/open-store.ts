/**
 * Opening the log for the audit commands: the SQLite file of `--data`, or
 * whatever `--store` names (`sqlite:PATH`, `postgres://…`), as for `serve`.
 * Reading commands open it read-only: they apply no migration and take no
 * write lock, so they are safe beside running servers, and each reads one
 * consistent view of the log. Messages never show a password.
 */
import { existsSync } from 'node:fs';
import { Option } from 'commander';
import type { AuditView, ImportTarget } from '../store/audit-source.js';
import { openAuditSource, openImportTarget } from '../store/open-audit-source.js';
import { describeLocation, parseStoreLocation, redactMessage, type StoreLocation } from '../store/store-location.js';
import { CliError } from './exit.js';

/** The same `--data` as `serve`: flag, then VARLEDGER_DATA, then the default. */
export const dataOption = (): Option =>
  new Option('--data <path>', 'SQLite database file').env('VARLEDGER_DATA').default('data/ledger.db');

/** The same `--store` as `serve`; when given it wins over `--data`. */
export const storeOption = (): Option =>
  new Option('--store <location>', 'where the log lives instead: sqlite:PATH or postgres://user:pass@host:port/db').env('VARLEDGER_STORE');

/** What every command taking a log has among its options. */
export interface StoreOptions {
  readonly data: string;
  readonly store?: string;
}

const message = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** The log the options name; a CliError (exit 2) for a malformed `--store`. */
export function locationOf(opts: StoreOptions): StoreLocation {
  try {
    return parseStoreLocation(opts.store, opts.data);
  } catch (error) {
    throw new CliError(message(error));
  }
}

/**
 * Runs `fn` on one consistent view of an existing, fully migrated log,
 * closing it afterwards. A log that cannot be opened is a CliError (exit 2);
 * any error is reported without the password.
 */
export async function withReadView<T>(opts: StoreOptions, fn: (view: AuditView) => Promise<T>): Promise<T> {
  const location = locationOf(opts);
  if (location.kind === 'sqlite' && !existsSync(location.path)) {
    throw new CliError(`no database at ${location.path} (give --data or --store, or set VARLEDGER_DATA or VARLEDGER_STORE)`);
  }
  let source;
  try {
    source = await openAuditSource(location);
  } catch (error) {
    throw new CliError(`cannot read ${describeLocation(location)}: ${redactMessage(message(error), location)}`);
  }
  try {
    return await source.read(fn);
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(redactMessage(message(error), location));
  } finally {
    await source.close();
  }
}

/** Opens (creating and migrating if needed) a log to import into. */
export async function openForImport(location: StoreLocation): Promise<ImportTarget> {
  try {
    return await openImportTarget(location);
  } catch (error) {
    throw new CliError(`cannot open ${describeLocation(location)}: ${redactMessage(message(error), location)}`);
  }
}
