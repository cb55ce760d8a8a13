/**
 * Opens the log a StoreLocation names. The PostgreSQL driver is loaded only
 * when one is asked for, so the embedded default never loads it.
 */
import type { Durability, EventStore } from './event-store.js';
import { SqliteEventStore } from './sqlite-event-store.js';
import { SqliteLog } from './sqlite-log.js';
import type { StoreLocation } from './store-location.js';

export interface OpenedStore {
  readonly store: EventStore;
  /** The SQLite file under the store, when it is one (tests and embedders inspect it). */
  readonly file: SqliteEventStore | undefined;
}

export interface OpenStoreOptions {
  readonly durability: Durability;
  /** SQLite: data_version poll; PostgreSQL: head poll fallback (≤ 1 s). */
  readonly pollMs?: number;
  /** SQLite: the connection's page cache, MiB (default DEFAULT_CACHE_MIB). */
  readonly sqliteCacheMiB?: number;
  /** Connection failures being retried (PostgreSQL). */
  readonly onError?: (error: Error) => void;
}

export async function openStore(location: StoreLocation, options: OpenStoreOptions): Promise<OpenedStore> {
  if (location.kind === 'postgres') {
    const { PostgresEventStore } = await import('./postgres-event-store.js');
    const store = await PostgresEventStore.open(location.url, {
      ...(options.pollMs !== undefined && options.pollMs > 0 && { pollMs: Math.max(options.pollMs, 100) }),
      ...(options.onError && { onError: options.onError }),
    });
    return { store, file: undefined };
  }
  const file = new SqliteEventStore(location.path, {
    durability: options.durability,
    ...(options.sqliteCacheMiB !== undefined && { cacheMiB: options.sqliteCacheMiB }),
  });
  return { store: new SqliteLog(file, { ...(options.pollMs !== undefined && { pollMs: options.pollMs }) }), file };
}
