/**
 * Opening the database for the audit commands. Reading commands open it
 * read-only: they apply no migration and take no write lock, so they are safe
 * beside a running server (WAL lets both proceed).
 */
import { existsSync } from 'node:fs';
import { Option } from 'commander';
import { SqliteEventStore } from '../store/sqlite-event-store.js';
import { CliError } from './exit.js';

/** The same `--data` as `serve`: flag, then VARLEDGER_DATA, then the default. */
export const dataOption = (): Option =>
  new Option('--data <path>', 'SQLite database file').env('VARLEDGER_DATA').default('data/ledger.db');

/** Opens an existing, fully migrated database read-only; a CliError (exit 2) if it cannot. */
export function openForReading(path: string): SqliteEventStore {
  if (!existsSync(path)) throw new CliError(`no database at ${path} (give --data or set VARLEDGER_DATA)`);
  try {
    return new SqliteEventStore(path, { readonly: true });
  } catch (error) {
    throw new CliError(`cannot read ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** Opens (creating and migrating if needed) a database for writing. */
export function openForWriting(path: string): SqliteEventStore {
  try {
    return new SqliteEventStore(path);
  } catch (error) {
    throw new CliError(`cannot open ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** Runs `fn` with a read-only store, closing it afterwards. */
export async function withReadStore<T>(path: string, fn: (store: SqliteEventStore) => T | Promise<T>): Promise<T> {
  const store = openForReading(path);
  try {
    return await fn(store);
  } finally {
    store.close();
  }
}
