/**
 * Metrics on the PostgreSQL store: the database size is PostgreSQL's own
 * account of it (pg_database_size), the oldest revision the log's lowest.
 */
import test from 'ava';
import pg from 'pg';
import { VariableType } from '../../src/gen/varledger/v1/ledger.js';
import { floatValue } from '../helpers/grpc-expect.js';
import { startLedger } from '../helpers/harness.js';
import { scrape } from '../helpers/metrics-scrape.js';
import { freshDatabase, usePostgres } from '../helpers/postgres-fixture.js';

usePostgres(test);

test('database size and log bounds come from PostgreSQL', async (t) => {
  const url = await freshDatabase();
  const ledger = await startLedger({ storeLocation: { kind: 'postgres', url }, metrics: { port: 0 } });
  t.teardown(() => ledger.stop());
  await ledger.rpc.call('registerVariable', { sessionId: 'pg', name: 'x', type: VariableType.VARIABLE_TYPE_FLOAT, initialValue: floatValue(1) });
  await ledger.rpc.call('setVariable', { sessionId: 'pg', identifier: 'x', value: floatValue(2) });

  const m = await scrape(ledger.server.metricsPort as number);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  t.teardown(() => client.end());
  const { rows } = await client.query<{ bytes: string }>('SELECT pg_database_size(current_database()) AS bytes');
  const bytes = Number(rows[0]?.bytes);
  // The same database, read a moment apart: equal unless PostgreSQL grew a file in between.
  t.true(Math.abs(m.value('varledger_database_size_bytes') - bytes) <= 64 * 1024, `${m.value('varledger_database_size_bytes')} vs ${bytes}`);
  t.is(m.value('varledger_log_oldest_revision'), 1);
  t.is(m.value('varledger_log_head_revision'), 3);
  t.is(m.value('varledger_events_appended_total'), 3);
});
