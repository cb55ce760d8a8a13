/** A fresh temp directory per test, removed when the test ends. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { SqliteEventStore, type SqliteStoreOptions } from '../../src/store/sqlite-event-store.js';

export function tempDir(t: ExecutionContext, prefix = 'varledger-store-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Opens a store on `path`; it is closed at teardown (before the directory is removed). */
export function openStore(t: ExecutionContext, path: string, options?: SqliteStoreOptions): SqliteEventStore {
  const store = new SqliteEventStore(path, options);
  t.teardown(() => store.close());
  return store;
}
