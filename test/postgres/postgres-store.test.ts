/**
 * The PostgreSQL event store against a real server: the contract every
 * store meets (test/store/event-store-contract.ts, also run on SQLite), where
 * "two stores on one log" are two nodes on one database, and what only
 * PostgreSQL does: an import's commit wakes running nodes. (The append-only
 * triggers are tested with the migrations.)
 */
import test from 'ava';
import pg from 'pg';
import type { Revision, StoredEvent } from '../../src/domain/index.js';
import { openImportTarget } from '../../src/store/open-audit-source.js';
import { toRow } from '../../src/store/event-codec.js';
import { PostgresEventStore } from '../../src/store/postgres-event-store.js';
import { freshDatabase, usePostgres } from '../helpers/postgres-fixture.js';
import { eventStoreContract } from '../store/event-store-contract.js';
import { created, registered } from '../store/event-samples.js';

usePostgres(test);

async function openStore(t: { teardown(fn: () => unknown): void }, url: string): Promise<PostgresEventStore> {
  const store = await PostgresEventStore.open(url, { pollMs: 200 });
  t.teardown(() => store.close());
  return store;
}

eventStoreContract(test, 'postgres', async (t) => {
  const url = await freshDatabase();
  const exec = async (sql: string) => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  return { location: { kind: 'postgres', url }, open: () => openStore(t, url), exec };
});

test('postgres: a node following the log sees an import as soon as it commits', async (t) => {
  const url = await freshDatabase();
  const node = await openStore(t, url);
  const controller = new AbortController();
  t.teardown(() => controller.abort());
  const seen: StoredEvent[] = [];
  let caughtUp: () => void = () => {};
  const ready = new Promise<void>((resolve) => (caughtUp = resolve));
  const follower = (async () => {
    for await (const batch of node.read({ after: 0 as Revision, follow: true, signal: controller.signal })) {
      if (batch.kind === 'caught_up') caughtUp();
      else seen.push(...batch.events);
      if (seen.length >= 2) return;
    }
  })();
  await ready;

  const events = [created(), registered('x', { kind: 'float', value: 1 })].map(
    (e, i) => ({ ...e, revision: (i + 1) as Revision, commitId: 1 as Revision }) as StoredEvent,
  );
  const target = await openImportTarget({ kind: 'postgres', url });
  try {
    const importer = await target.startImport();
    for (const e of events) await importer.add(toRow(e, e.revision, e.commitId));
    await importer.commit();
  } finally {
    await target.close();
  }
  await follower;
  t.deepEqual(seen, events);
  t.is(Number(await node.head()), 2);
});

test('postgres: ListSessions pages session ids in byte order through the session_ids index, not the log', async (t) => {
  const url = await freshDatabase();
  const store = await openStore(t, url);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  t.teardown(() => client.end());
  // 500 sessions of 100 events (ids s0 … s499, and upper-case S… ones whose place differs between
  // byte order and most locales): enough rows that a scan of the log costs more than the index.
  await client.query(`INSERT INTO events (revision, commit_id, session_id, variable_id, kind, version, time, actor, payload)
    SELECT g, g, CASE WHEN (g / 100) % 2 = 0 THEN 's' ELSE 'S' END || (g / 100), NULL,
      CASE WHEN g % 100 = 0 THEN 'session_created' ELSE 'session_touched' END, NULL, g, 'a', '{}'
    FROM generate_series(0, 49999) g`);
  await client.query('ANALYZE events');

  const sent: { text: string; values: unknown[] }[] = [];
  const pool = (store as unknown as { pool: pg.Pool }).pool;
  const query = pool.query.bind(pool) as (text: string, values: unknown[]) => Promise<unknown>;
  (pool as unknown as { query: typeof query }).query = (text, values) => (sent.push({ text, values }), query(text, values));
  const page = await store.sessionIds('', 100, 50_000 as Revision);
  const all = Array.from({ length: 500 }, (_, i) => `${i % 2 === 0 ? 's' : 'S'}${i}`).sort();
  t.deepEqual(page, all.slice(0, 100), 'byte order, as JavaScript sorts');
  t.deepEqual(await store.sessionIds(all[99] as string, 100, 50_000 as Revision), all.slice(100, 200));

  const listing = sent.find((q) => q.text.includes("'session_created'")) as { text: string; values: unknown[] };
  const { rows } = await client.query<{ 'QUERY PLAN': string }>({ text: `EXPLAIN (ANALYZE, COSTS OFF) ${listing.text}`, values: listing.values });
  const plan = rows.map((r) => r['QUERY PLAN']).join('\n');
  t.regex(plan, /session_ids/, plan);
  t.notRegex(plan, /Seq Scan on events/, plan);
});
