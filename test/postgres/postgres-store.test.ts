/**
 * The PostgreSQL event store against a real server: the append contract
 * (group commit, conflicts against the shared log, gapless revisions, the
 * same hash chain as SQLite), catch-up reads with a caught-up marker, and two
 * store instances ("nodes") on one database seeing each other's commits.
 */
import test from 'ava';
import type { NewEvent, Revision, SessionId, StoredEvent, VariableId, Version } from '../../src/domain/index.js';
import { evolve } from '../../src/domain/evolve.js';
import { AppendConflict, type LogBatch } from '../../src/store/event-store.js';
import { toRow } from '../../src/store/event-codec.js';
import { chainHash, GENESIS_HASH } from '../../src/store/hash-chain.js';
import { PostgresEventStore } from '../../src/store/postgres-event-store.js';
import { freshDatabase, usePostgres } from '../helpers/postgres-fixture.js';

usePostgres(test);

const sid = (s: string) => s as SessionId;
const created = (session: string, time = 1): NewEvent => ({
  kind: 'session_created',
  sessionId: sid(session),
  time,
  actor: 'alice',
  metadata: { team: 'a' },
  ttlSeconds: 60,
});
const registered = (session: string, name: string, value: number): NewEvent => ({
  kind: 'variable_registered',
  sessionId: sid(session),
  time: 2,
  actor: 'alice',
  variableId: `var_${name}_x` as VariableId,
  version: 0 as Version,
  name,
  type: 'float',
  value: { kind: 'float', value },
  constraints: {},
  metadata: { reason: 'start' },
  description: '',
});

async function open(t: { teardown(fn: () => unknown): void }, url?: string) {
  const store = await PostgresEventStore.open(url ?? (await freshDatabase()), { pollMs: 200 });
  t.teardown(() => store.close());
  return store;
}

async function collect(iterator: AsyncGenerator<LogBatch>): Promise<StoredEvent[]> {
  const events: StoredEvent[] = [];
  for await (const batch of iterator) if (batch.kind === 'events') events.push(...batch.events);
  return events;
}

test('a call commits in one transaction with gapless revisions and the chain SQLite would compute', async (t) => {
  const store = await open(t);
  t.is(Number(await store.head()), 0);
  const outcomes = await store.append([
    { events: [created('s1')], decidedAt: 0 as Revision },
    { events: [created('s2'), registered('s2', 'temperature', 0.7)], decidedAt: 0 as Revision },
  ]);
  t.true(outcomes.every((o) => o.ok));
  t.is(Number(await store.head()), 3);
  const events = await collect(store.read({ after: 0 as Revision }));
  t.deepEqual(
    events.map((e) => [e.revision, e.commitId, e.kind]),
    [
      [1, 1, 'session_created'],
      [2, 2, 'session_created'],
      [3, 2, 'variable_registered'],
    ],
  );
  let hash = GENESIS_HASH;
  for (const e of events) hash = chainHash(hash, toRow(e, e.revision, e.commitId));
  t.deepEqual(await store.digest(), { revision: 3, hash });
});

test('a commit decided before its session moved conflicts, changes nothing, and takes later commits on that session with it', async (t) => {
  const store = await open(t);
  await store.append([{ events: [created('s1'), created('s2')], decidedAt: 0 as Revision }]);
  const outcomes = await store.append([
    { events: [registered('s1', 'a', 1)], decidedAt: 0 as Revision }, // s1 moved at revision 1: stale
    { events: [registered('s1', 'b', 2)], decidedAt: 2 as Revision }, // decided after the stale one: fails with it
    { events: [registered('s2', 'c', 3)], decidedAt: 2 as Revision }, // s2 is up to date
  ]);
  t.true(!outcomes[0]!.ok && outcomes[0]!.error instanceof AppendConflict);
  t.true(!outcomes[1]!.ok && outcomes[1]!.error instanceof AppendConflict);
  t.true(outcomes[2]!.ok);
  const events = await collect(store.read({ after: 2 as Revision }));
  t.deepEqual(
    events.map((e) => [e.revision, e.sessionId]),
    [[3, 's2']],
  );
});

test('catch-up reads come in batches that never split a commit, then a caught-up marker', async (t) => {
  const store = await open(t);
  await store.append([{ events: [created('s1')], decidedAt: 0 as Revision }]);
  await store.append([
    { events: [registered('s1', 'a', 1), registered('s1', 'b', 2), registered('s1', 'c', 3)], decidedAt: 1 as Revision },
  ]);
  const batches: LogBatch[] = [];
  for await (const batch of store.read({ after: 0 as Revision, batchSize: 2 })) batches.push(batch);
  t.deepEqual(
    batches.map((b) => (b.kind === 'events' ? b.events.map((e) => e.revision) : `caught_up@${b.head}`)),
    [[1], [2, 3, 4], 'caught_up@4'],
  );
  const own = await collect(store.read({ after: 0 as Revision, sessionId: sid('s1') }));
  t.is(own.length, 4);
});

test('two nodes on one database: a follower on B sees A\'s commits in order, and conflicts are checked against the shared log', async (t) => {
  const url = await freshDatabase();
  const a = await open(t, url);
  const b = await open(t, url);
  await a.append([{ events: [created('s1')], decidedAt: 0 as Revision }]);

  const controller = new AbortController();
  t.teardown(() => controller.abort());
  const seen: number[] = [];
  const follower = (async () => {
    for await (const batch of b.read({ after: 0 as Revision, follow: true, signal: controller.signal })) {
      if (batch.kind === 'events') seen.push(...batch.events.map((e) => e.revision));
      if (seen.length >= 3) return seen;
    }
    return seen;
  })();

  // B decides at revision 1, A writes meanwhile: B's append conflicts.
  await a.append([{ events: [registered('s1', 'x', 1)], decidedAt: 1 as Revision }]);
  const stale = await b.append([{ events: [registered('s1', 'y', 2)], decidedAt: 1 as Revision }]);
  t.false(stale[0]!.ok);
  const fresh = await b.append([{ events: [registered('s1', 'y', 2)], decidedAt: 2 as Revision }]);
  t.true(fresh[0]!.ok);

  t.deepEqual(await follower, [1, 2, 3]);
  t.deepEqual(await a.digest(), await b.digest());
});

test('concurrent appends from two nodes interleave without gaps or a broken chain', async (t) => {
  const url = await freshDatabase();
  const nodes = [await open(t, url), await open(t, url)];
  await Promise.all(
    Array.from({ length: 40 }, (_, i) => nodes[i % 2]!.append([{ events: [created(`s${i}`)], decidedAt: 0 as Revision }])),
  );
  const events = await collect(nodes[0]!.read({ after: 0 as Revision }));
  t.deepEqual(
    events.map((e) => e.revision),
    Array.from({ length: 40 }, (_, i) => i + 1),
  );
  let hash = GENESIS_HASH;
  for (const e of events) hash = chainHash(hash, toRow(e, e.revision, e.commitId));
  t.is((await nodes[1]!.digest()).hash, hash);
});

test('snapshots: written once per revision across nodes, loaded back, pruned to the newest N', async (t) => {
  const url = await freshDatabase();
  const a = await open(t, url);
  const b = await open(t, url);
  const session = (id: string) => evolve(undefined, [{ ...created(id), revision: 1 as Revision, commitId: 1 as Revision } as StoredEvent]);
  t.true(await a.snapshots.write(5 as Revision, [session('s1'), session('s2')], 10, 2));
  t.false(await b.snapshots.write(5 as Revision, [session('s1')], 11, 2));
  t.true(await a.snapshots.write(7 as Revision, [session('s1')], 12, 2));
  t.true(await a.snapshots.write(9 as Revision, [session('s3')], 13, 2));
  t.is(await b.snapshots.loadLatest(6), undefined); // revision 5 was pruned
  const latest = await b.snapshots.loadLatest();
  t.is(Number(latest?.revision), 9);
  t.deepEqual([...(latest?.sessions.keys() ?? [])], ['s3']);
  t.is(Number((await b.snapshots.loadSession(sid("s1"), 8 as Revision))?.revision), 7);
});

test('recorded use is shared by nodes, and an expiry claim fails once a node recorded use after it', async (t) => {
  const url = await freshDatabase();
  const a = await open(t, url);
  const b = await open(t, url);
  await a.append([{ events: [created('s1')], decidedAt: 0 as Revision }]);
  await a.touch(sid('s1'), 1_000);
  await b.touch(sid('s1'), 900); // an older record never moves it back
  t.deepEqual([...(await b.activity([sid('s1'), sid('nobody')]))], [['s1', 1_000]]);
  const expired: NewEvent = { kind: 'session_expired', sessionId: sid('s1'), time: 5_000, actor: 'varledger' };
  const stale = await b.append([{ events: [expired], decidedAt: 1 as Revision, activeNoLaterThan: 999 }]);
  t.true(!stale[0]!.ok && stale[0]!.error instanceof AppendConflict);
  const claimed = await b.append([{ events: [expired], decidedAt: 1 as Revision, activeNoLaterThan: 1_000 }]);
  t.true(claimed[0]!.ok);
  const again = await a.append([{ events: [expired], decidedAt: 1 as Revision, activeNoLaterThan: 1_000 }]);
  t.false(again[0]!.ok, 'the second claim conflicts: the session moved');
});
