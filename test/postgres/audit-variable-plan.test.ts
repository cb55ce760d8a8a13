/**
 * `audit --variable NAME` on PostgreSQL finds the name's registrations
 * through their index (migrations/postgres/0006_registrations_by_name.sql)
 * and the variables' events through events_by_variable: on a log of 50,000
 * events the plan of the audit view's own query names both indexes and
 * filters out almost nothing. Before, it scanned every row twice (the
 * registrations sequentially, then the log in revision order).
 */
import test from 'ava';
import pg from 'pg';
import { PostgresAuditView } from '../../src/store/postgres-audit-view.js';
import { PostgresEventStore } from '../../src/store/postgres-event-store.js';
import { freshDatabase, usePostgres } from '../helpers/postgres-fixture.js';

usePostgres(test);

type Query = { text: string; values: unknown[] };

test('audit by variable name uses the registrations-by-name index and reads no more than the variables’ events', async (t) => {
  const url = await freshDatabase();
  await (await PostgresEventStore.open(url)).close(); // migrated
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  t.teardown(() => client.end());
  // 500 sessions of 100 events: a creation, 20 registrations (names n0_S … n19_S, unique per session but for
  // `shared`, registered in every 50th), then sets; enough rows that a scan costs more than the indexes.
  await client.query(`INSERT INTO events (revision, commit_id, session_id, variable_id, kind, version, time, actor, payload)
    SELECT g, g, 's' || (g / 100),
      CASE WHEN g % 100 = 0 THEN NULL ELSE 'v' || (g / 100) || '_' || (g % 20) END,
      CASE WHEN g % 100 = 0 THEN 'session_created' WHEN g % 100 <= 20 THEN 'variable_registered' ELSE 'variable_set' END,
      CASE WHEN g % 100 = 0 THEN NULL WHEN g % 100 <= 20 THEN 0 ELSE g % 100 END, g, 'a',
      CASE WHEN g % 100 = 1 AND (g / 100) % 50 = 0 THEN '{"name":"shared"}'
           WHEN g % 100 BETWEEN 1 AND 20 THEN '{"name":"n' || (g % 20) || '_' || (g / 100) || '"}'
           ELSE '{"value":1}' END
    FROM generate_series(1, 50000) g`);
  await client.query('ANALYZE events');

  // The view's own SQL, captured on its way to the server, then explained with the same parameters.
  const sent: Query[] = [];
  const capturing = { query: (q: Query & { rowMode?: string }) => (sent.push(q), client.query(q)) } as unknown as pg.ClientBase;
  const view = new PostgresAuditView(capturing);
  const revisions = async (variable: string) => {
    const found: number[] = [];
    for await (const page of view.events({ variable })) found.push(...page.map((row) => Number(row[0])));
    return found;
  };

  const shared = await revisions('shared');
  // v{S}_1 in sessions 0, 50, …, 450: registration plus sets at g % 100 = 21, 41, 61, 81.
  t.is(shared.length, 10 * 5);
  t.deepEqual(shared.slice(0, 5), [1, 21, 41, 61, 81]);
  t.deepEqual(await revisions('v3_7'), [307, 327, 347, 367, 387], 'a variable id still matches');

  const query = sent.find((q) => q.text.includes('variable_registered')) as Query;
  const { rows } = await client.query<{ 'QUERY PLAN': string }>({ text: `EXPLAIN (ANALYZE, COSTS OFF) ${query.text}`, values: query.values });
  const plan = rows.map((r) => r['QUERY PLAN']).join('\n');
  t.regex(plan, /events_registered_by_name/, plan);
  t.notRegex(plan, /Seq Scan on events/, plan);
  const filteredOut = [...plan.matchAll(/Rows Removed by Filter: (\d+)/g)].reduce((sum, m) => sum + Number(m[1]), 0);
  t.true(filteredOut < 1_000, `${filteredOut} rows read and thrown away:\n${plan}`);
});
