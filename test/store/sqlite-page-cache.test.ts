/**
 * The page cache each SQLite connection may fill: SQLite's own 2 MiB unless
 * configured, not the 16 MiB better-sqlite3 builds in (which a server filled
 * as its file grew: memory that tracked the log's size, not live data).
 */
import { join } from 'node:path';
import test from 'ava';
import { VariableType } from '../../src/gen/varledger/v1/ledger.js';
import { floatValue } from '../helpers/grpc-expect.js';
import { startLedger } from '../helpers/harness.js';
import { openStore, tempDir } from './temp-store.js';

/** `PRAGMA cache_size` in KiB (SQLite reports a KiB size as a negative number). */
const cacheKiB = (db: { pragma(sql: string, options: { simple: true }): unknown }) => -Number(db.pragma('cache_size', { simple: true }));

test('a store connection caches 2 MiB of pages by default, or what it is given', (t) => {
  const dir = tempDir(t);
  t.is(cacheKiB(openStore(t, join(dir, 'default.db')).db), 2048);
  t.is(cacheKiB(openStore(t, join(dir, 'eight.db'), { cacheMiB: 8 }).db), 8192);
});

test('a read-only connection (the audit commands) gets the same bound', (t) => {
  const path = join(tempDir(t), 'ledger.db');
  openStore(t, path).close();
  t.is(cacheKiB(openStore(t, path, { readonly: true }).db), 2048);
});

test('the server passes sqliteCacheMiB to its connection, and serves with it', async (t) => {
  const ledger = await startLedger({ sqliteCacheMiB: 5 });
  t.teardown(() => ledger.stop());
  t.is(cacheKiB(ledger.server.file!.db), 5 * 1024);
  await ledger.rpc.call('registerVariable', { sessionId: 's1', name: 'x', type: VariableType.VARIABLE_TYPE_FLOAT, initialValue: floatValue(1) });
  t.deepEqual((await ledger.rpc.call('getVariable', { sessionId: 's1', identifier: 'x' })).value, floatValue(1));
});
