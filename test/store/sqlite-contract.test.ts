/** The event-store contract and the audit source (event-store-contract.ts) on a SQLite file. */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import test from 'ava';
import { SqliteEventStore } from '../../src/store/sqlite-event-store.js';
import { SqliteLog } from '../../src/store/sqlite-log.js';
import { eventStoreContract } from './event-store-contract.js';
import { tempDir } from './temp-store.js';

eventStoreContract(test, 'sqlite', async (t) => {
  const path = join(tempDir(t), 'ledger.db');
  return {
    location: { kind: 'sqlite', path },
    async open() {
      // Each store its own connection, as another process on the file would have.
      const log = new SqliteLog(new SqliteEventStore(path));
      t.teardown(() => log.close());
      return log;
    },
    async exec(sql) {
      const db = new Database(path);
      try {
        db.exec(sql);
      } finally {
        db.close();
      }
    },
  };
});
