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
