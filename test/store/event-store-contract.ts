/**
 * The event-store contract (src/store/event-store.ts) and the audit source
 * (src/store/audit-source.ts) as one suite, run against every store: the
 * SQLite file (test/store/sqlite-contract.test.ts) and PostgreSQL
 * (test/postgres/postgres-store.test.ts). What a store must do is stated
 * once; store-specific behaviour (SQLite's synchronous API and WAL file,
 * PostgreSQL's triggers and notifications) is tested beside it.
 *
 * "Two stores on one log" are two processes on one SQLite file, or two nodes
 * on one PostgreSQL database.
 */
import type { ExecutionContext, TestFn } from 'ava';
import type { Constraints, NewEvent, SessionId, SessionState, StoredEvent, VariableRegistered } from '../../src/domain/index.js';
import { evolve } from '../../src/domain/evolve.js';
import { AppendConflict, type EventStore, type LogBatch } from '../../src/store/event-store.js';
import { toRow, type EventRow } from '../../src/store/event-codec.js';
import { chainHash, GENESIS_HASH } from '../../src/store/hash-chain.js';
import { openAuditSource, openImportTarget } from '../../src/store/open-audit-source.js';
import type { StoreLocation } from '../../src/store/store-location.js';
import { created, EVERY_EVENT, registered, rev, S1, S2, set, withRevisions } from './event-samples.js';

/** A fresh, empty log for one test. */
export interface FreshLog {
  readonly location: StoreLocation;
  /** Opens one more store on the log (another process or node); closed at teardown. */
  open(): Promise<EventStore>;
  /** Runs SQL on the log behind the stores' backs (damage a cache, as a disk or an operator might). */
  exec(sql: string): Promise<void>;
}

export type LogFactory = (t: ExecutionContext) => Promise<FreshLog>;

const sid = (s: string) => s as SessionId;

async function collect(iterator: AsyncGenerator<LogBatch>): Promise<StoredEvent[]> {
  const events: StoredEvent[] = [];
  for await (const batch of iterator) if (batch.kind === 'events') events.push(...batch.events);
  return events;
}

/** The chain recomputed from the events alone. */
function chainOf(events: readonly StoredEvent[]): string {
  let hash = GENESIS_HASH;
  for (const e of events) hash = chainHash(hash, toRow(e, e.revision, e.commitId));
  return hash;
}

async function flatten<T>(pages: AsyncIterable<readonly T[]>): Promise<T[]> {
  const all: T[] = [];
  for await (const page of pages) all.push(...page);
  return all;
}

export function eventStoreContract(test: TestFn, name: string, freshLog: LogFactory): void {
  const open = async (t: ExecutionContext) => (await freshLog(t)).open();

  test(`${name}: a call commits in one transaction with gapless revisions, one commit id per commit, and the chain`, async (t) => {
    const store = await open(t);
    t.is(Number(await store.head()), 0);
    t.deepEqual(await store.digest(), { revision: 0, hash: GENESIS_HASH });
    const outcomes = await store.append([
      { events: [created(sid('a'))], decidedAt: rev(0) },
      { events: [created(sid('b')), registered('temperature', { kind: 'float', value: 0.7 }, sid('b'))], decidedAt: rev(0) },
    ]);
    t.true(outcomes.every((o) => o.ok));
    t.is(Number(await store.head()), 3);
    const events = await collect(store.read({ after: rev(0) }));
    t.deepEqual(
      events.map((e) => [e.revision, e.commitId, e.kind]),
      [
        [1, 1, 'session_created'],
        [2, 2, 'session_created'],
        [3, 2, 'variable_registered'],
      ],
    );
    t.deepEqual(await store.digest(), { revision: 3, hash: chainOf(events) });
    t.deepEqual(await store.append([]), []);
  });

  test(`${name}: a commit decided before its session moved conflicts, changes nothing, and takes later commits on that session with it`, async (t) => {
    const store = await open(t);
    await store.append([{ events: [created(S1), created(S2)], decidedAt: rev(0) }]);
    const outcomes = await store.append([
      { events: [registered('a', { kind: 'float', value: 1 })], decidedAt: rev(0) }, // s1 moved at revision 1: stale
      { events: [registered('b', { kind: 'float', value: 2 })], decidedAt: rev(2) }, // decided after the stale one: fails with it
      { events: [registered('c', { kind: 'float', value: 3 }, S2)], decidedAt: rev(2) }, // s2 is up to date
    ]);
    t.true(!outcomes[0]!.ok && outcomes[0]!.error instanceof AppendConflict);
    t.true(!outcomes[1]!.ok && outcomes[1]!.error instanceof AppendConflict);
    t.true(outcomes[2]!.ok);
    t.deepEqual(
      (await collect(store.read({ after: rev(2) }))).map((e) => [e.revision, e.sessionId]),
      [[3, 's2']],
    );
  });

  test(`${name}: every event kind and every value kind round-trips exactly, by read and by readSession`, async (t) => {
    const store = await open(t);
    await store.append([{ events: EVERY_EVENT.slice(0, 6), decidedAt: rev(0) }]);
    await store.append([{ events: EVERY_EVENT.slice(6), decidedAt: rev(6) }]);
    const expected = [...withRevisions(EVERY_EVENT.slice(0, 6), 1), ...withRevisions(EVERY_EVENT.slice(6), 7)];
    const head = await store.head();
    t.deepEqual(await collect(store.read({ after: rev(0) })), expected);
    t.deepEqual(await store.readSession(S1, head), expected.filter((e) => e.sessionId === S1));
    t.deepEqual(await store.readSession(S2, head), expected.filter((e) => e.sessionId === S2));
    t.deepEqual(await store.readSession(S1, rev(8), rev(3)), expected.filter((e) => e.sessionId === S1 && e.revision > 3 && e.revision <= 8));
    // Exactness where deepEqual alone might be lenient:
    const read = (await collect(store.read({ after: rev(0) }))).flatMap((e) => ('value' in e ? [e.value] : []));
    const seed = read.find((v) => v.kind === 'integer');
    t.is(seed?.kind === 'integer' ? seed.value : undefined, 2n ** 63n - 1n);
    const floats = read.flatMap((v) => (v.kind === 'float' ? [v.value] : []));
    t.true(floats.some(Number.isNaN));
    t.true(floats.includes(-Infinity) && floats.includes(Infinity) && floats.includes(5e-324));
  });

  test(`${name}: constraints of every kind, infinite bounds and negative zero round-trip`, async (t) => {
    const store = await open(t);
    const withConstraints = (n: string, constraints: Constraints): NewEvent => ({ ...(registered(n, { kind: 'float', value: 0 }) as VariableRegistered), constraints });
    const events = [
      created(),
      withConstraints('f', { min: -Infinity, max: Infinity }),
      withConstraints('g', { min: -1.5, max: 2 ** 53 }),
      withConstraints('s', { minLength: 1, maxLength: 3, pattern: '[a-z]+' }),
      withConstraints('c', { choices: ['a', 'b'] }),
      withConstraints('e', { dimensions: 3 }),
      withConstraints('t', { shape: [2, 3] }),
      withConstraints('none', {}),
      set('x', 1, { kind: 'float', value: -0 }),
    ];
    await store.append([{ events, decidedAt: rev(0) }]);
    const read = await collect(store.read({ after: rev(0) }));
    t.deepEqual(
      read.map((e) => (e.kind === 'variable_registered' ? e.constraints : undefined)),
      events.map((e) => (e.kind === 'variable_registered' ? e.constraints : undefined)),
    );
    const last = read[read.length - 1];
    t.true(last?.kind === 'variable_set' && last.value.kind === 'float' && Object.is(last.value.value, -0));
  });

  test(`${name}: history and single versions come from value-giving events only, newest first; events by revision`, async (t) => {
    const store = await open(t);
    const x = (v: number) => ({ kind: 'float', value: v }) as const;
    await store.append([
      {
        events: [created(), registered('x', x(0)), set('x', 1, x(1)), set('x', 2, x(2)), set('x', 3, x(3))],
        decidedAt: rev(0),
      },
    ]);
    const variableId = (registered('x', x(0)) as VariableRegistered).variableId;
    t.deepEqual(
      (await store.readHistory(variableId, 4, 10)).map((e) => e.revision),
      [5, 4, 3, 2],
    );
    t.deepEqual(
      (await store.readHistory(variableId, 3, 2)).map((e) => e.revision),
      [4, 3],
    );
    t.is((await store.readVersion(variableId, 2))?.revision, rev(4));
    t.is(await store.readVersion(variableId, 9), undefined);
    // Events by revision: any order asked, oldest first back, revisions not in the log left out.
    const [first, , , fourth] = await collect(store.read({ after: rev(0) }));
    t.deepEqual(await store.readAt([rev(4), rev(99), rev(1)]), [first, fourth]);
    t.deepEqual(await store.readAt([]), []);
  });

  test(`${name}: catch-up reads come in batches that never split a commit, then a caught-up marker`, async (t) => {
    const store = await open(t);
    await store.append([{ events: [created()], decidedAt: rev(0) }]);
    await store.append([
      {
        events: [registered('a', { kind: 'float', value: 1 }), registered('b', { kind: 'float', value: 2 }), registered('c', { kind: 'float', value: 3 })],
        decidedAt: rev(1),
      },
    ]);
    const batches: LogBatch[] = [];
    for await (const batch of store.read({ after: rev(0), batchSize: 2 })) batches.push(batch);
    t.deepEqual(
      batches.map((b) => (b.kind === 'events' ? b.events.map((e) => e.revision) : `caught_up@${b.head}`)),
      [[1], [2, 3, 4], 'caught_up@4'],
    );
    t.is((await collect(store.read({ after: rev(0), sessionId: S1 }))).length, 4);
    t.is((await collect(store.read({ after: rev(0), sessionId: S2 }))).length, 0);
  });

  test(`${name}: two stores on one log — a follower on B sees A's commits in order, and conflicts are checked against the shared log`, async (t) => {
    const log = await freshLog(t);
    const a = await log.open();
    const b = await log.open();
    await a.append([{ events: [created()], decidedAt: rev(0) }]);

    const controller = new AbortController();
    t.teardown(() => controller.abort());
    const seen: number[] = [];
    const follower = (async () => {
      for await (const batch of b.read({ after: rev(0), follow: true, signal: controller.signal })) {
        if (batch.kind === 'events') seen.push(...batch.events.map((e) => e.revision));
        if (seen.length >= 3) return seen;
      }
      return seen;
    })();

    // B decides at revision 1, A writes meanwhile: B's append conflicts.
    await a.append([{ events: [registered('x', { kind: 'float', value: 1 })], decidedAt: rev(1) }]);
    const stale = await b.append([{ events: [registered('y', { kind: 'float', value: 2 })], decidedAt: rev(1) }]);
    t.true(!stale[0]!.ok && stale[0]!.error instanceof AppendConflict);
    const fresh = await b.append([{ events: [registered('y', { kind: 'float', value: 2 })], decidedAt: rev(2) }]);
    t.true(fresh[0]!.ok);

    t.deepEqual(await follower, [1, 2, 3]);
    t.deepEqual(await a.digest(), await b.digest());
  });

  test(`${name}: concurrent appends from two stores interleave without gaps or a broken chain`, async (t) => {
    const log = await freshLog(t);
    const stores = [await log.open(), await log.open()];
    await Promise.all(Array.from({ length: 40 }, (_, i) => stores[i % 2]!.append([{ events: [created(sid(`s${i}`))], decidedAt: rev(0) }])));
    const events = await collect(stores[0]!.read({ after: rev(0) }));
    t.deepEqual(
      events.map((e) => e.revision),
      Array.from({ length: 40 }, (_, i) => i + 1),
    );
    t.is((await stores[1]!.digest()).hash, chainOf(events));
  });

  test(`${name}: snapshots per session: written once per revision across stores, loaded back, pruned to the newest N, damage skipped`, async (t) => {
    const log = await freshLog(t);
    const a = await log.open();
    const b = await log.open();
    // A session as of revision `at`: created at `at`, or created at 1 and changed (a variable registered) at `at`.
    const session = (id: string, at: number, changed = false): SessionState =>
      changed
        ? evolve(undefined, [
            { ...created(sid(id)), revision: rev(1), commitId: rev(1) } as StoredEvent,
            { ...registered('x', { kind: 'float', value: at }, sid(id)), revision: rev(at), commitId: rev(at) } as StoredEvent,
          ])
        : evolve(undefined, [{ ...created(sid(id)), revision: rev(at), commitId: rev(at) } as StoredEvent]);
    const write = (store: EventStore, revision: number, basis: number, changed: SessionState[]) =>
      store.snapshots.write({ revision: rev(revision), basis: rev(basis), changed, now: revision * 10, keep: 2 });
    const states = async (store: EventStore, atOrBelow?: number) => {
      const loaded = await store.snapshots.loadLatest(atOrBelow);
      return loaded && { revision: Number(loaded.revision), sessions: Object.fromEntries([...loaded.sessions].map(([id, s]) => [id, Number(s.modifiedRevision)])) };
    };

    t.is(await write(a, 5, 0, [session('s1', 1), session('s2', 2)]), 'written');
    t.is(await write(b, 5, 0, [session('s1', 1)]), 'skipped');
    // Only s1 changed: s2 comes from its row of revision 2.
    t.is(await write(a, 7, 5, [session('s1', 6, true)]), 'written');
    t.deepEqual(await states(b), { revision: 7, sessions: { s1: 6, s2: 2 } });
    t.deepEqual(await states(b, 6), { revision: 5, sessions: { s1: 1, s2: 2 } });
    t.is((await b.snapshots.loadLatest())?.sessions.get('s1')?.variables.size, 1);
    t.is(await write(a, 9, 7, [session('s3', 8)]), 'written');
    t.is(await states(b, 6), undefined); // revision 5 was pruned
    t.deepEqual(await states(b), { revision: 9, sessions: { s1: 6, s2: 2, s3: 8 } });
    // Past reads: the newest row at or below; s1's row of revision 1 went with the snapshot at 5.
    t.is(Number((await b.snapshots.loadSession(sid('s1'), rev(8)))?.revision), 6);
    t.is(await b.snapshots.loadSession(sid('s1'), rev(5)), undefined);
    // A writer whose basis was pruned is told so.
    t.is(await write(b, 11, 5, [session('s2', 10, true)]), 'basis_missing');

    // Damage: a changed row, then a missing one. The snapshot holding it is skipped (9); an older one is not (7 does not hold s3).
    await log.exec(`UPDATE snapshot_states SET state = replace(state, '"ttl_seconds":3600', '"ttl_seconds":61') WHERE session_id = 's3'`);
    t.deepEqual(await states(b), { revision: 7, sessions: { s1: 6, s2: 2 } });
    t.is(await b.snapshots.loadSession(sid('s3'), rev(9)), undefined);
    // A full write (basis 0) repairs the row.
    t.is(await write(a, 12, 0, [session('s1', 6, true), session('s2', 2), session('s3', 8)]), 'written');
    t.deepEqual(await states(b), { revision: 12, sessions: { s1: 6, s2: 2, s3: 8 } });
    await log.exec(`DELETE FROM snapshot_states WHERE session_id = 's2'`);
    t.is(await states(b), undefined);
  });

  test(`${name}: recorded use is shared by stores, and an expiry claim fails once a store recorded use after it`, async (t) => {
    const log = await freshLog(t);
    const a = await log.open();
    const b = await log.open();
    await a.append([{ events: [created()], decidedAt: rev(0) }]);
    await a.touch(S1, 1_000);
    await b.touch(S1, 900); // an older record never moves it back
    t.deepEqual([...(await b.activity([S1, sid('nobody')]))], [['s1', 1_000]]);
    const expired: NewEvent = { kind: 'session_expired', sessionId: S1, time: 5_000, actor: 'varledger' };
    const stale = await b.append([{ events: [expired], decidedAt: rev(1), activeNoLaterThan: 999 }]);
    t.true(!stale[0]!.ok && stale[0]!.error instanceof AppendConflict);
    const claimed = await b.append([{ events: [expired], decidedAt: rev(1), activeNoLaterThan: 1_000 }]);
    t.true(claimed[0]!.ok);
    const again = await a.append([{ events: [expired], decidedAt: rev(1), activeNoLaterThan: 1_000 }]);
    t.false(again[0]!.ok, 'the second claim conflicts: the session moved');
  });

  test(`${name}: the audit source pages a long log, filters it, and reads one state while a store appends`, async (t) => {
    const log = await freshLog(t);
    const store = await log.open();
    // More events than one page (AUDIT_PAGE_ROWS), in one commit, then a second session.
    const many = Array.from({ length: 2_500 }, (_, i) => set('x', i + 1, { kind: 'float', value: i }));
    await store.append([{ events: [created(), registered('x', { kind: 'float', value: 0 }), ...many], decidedAt: rev(0) }]);
    await store.append([{ events: [created(S2), registered('x', { kind: 'float', value: 0 }, S2)], decidedAt: rev(0) }]);
    const digest = await store.digest();

    const source = await openAuditSource(log.location);
    t.teardown(() => source.close());
    await source.read(async (view) => {
      t.is(await view.head(), 2_504);
      const all = await flatten(view.events({}));
      t.deepEqual(
        all.map((row) => row[0]),
        Array.from({ length: 2_504 }, (_, i) => i + 1),
      );
      // Appended now, after the view's first read: the view keeps seeing the log as it was.
      await store.append([{ events: [set('x', 1, { kind: 'float', value: 9 }, S2)], decidedAt: rev(2_504) }]);
      t.is(await view.head(), 2_504);
      const chained = await flatten(view.chainedRows());
      t.is(chained.length, 2_504);
      t.is(chained[chained.length - 1]![9], digest.hash);
      t.deepEqual(await view.chainHead(), digest);

      const filtered = await flatten(view.events({ sessionId: 's2' }));
      t.deepEqual(
        filtered.map((row) => row[0]),
        [2_503, 2_504],
      );
      t.is((await flatten(view.events({ variable: 'x', kinds: ['variable_registered'] }))).length, 2);
      t.is((await flatten(view.events({ actor: 'alice' }))).length, 2);
      t.is(await view.nthNewestRevision({ sessionId: 's1' }, 3), 2_500);
      t.deepEqual([...(await view.variableNames(['var_x_1', 'var_nobody']))], [['var_x_1', 'x']]);
      t.deepEqual(
        (await view.findVariable('s2', 'x')).map((r) => [r.variableId, r.name, r.revision]),
        [['var_x_1', 'x', 2_504]],
      );
      t.is((await flatten(view.variableEventsBetween('var_x_1', 10, 2_200))).length, 2_189);
      t.is((await view.eventsOfVariable('s1', 'var_x_1')).length, 2_501);
      t.is(await view.lastRevisionAt(2_000), 2_504);
      t.is((await view.readSession(S2, 2_504)).length, 2);
    });
    await source.read(async (view) => t.is(await view.head(), 2_505, 'a new view sees the append'));
  });

  test(`${name}: an import fills an empty log with the same chain, and refuses a log that is not empty`, async (t) => {
    const source = await freshLog(t);
    const store = await source.open();
    await store.append([{ events: EVERY_EVENT, decidedAt: rev(0) }]);
    const reader = await openAuditSource(source.location);
    t.teardown(() => reader.close());
    const rows = await reader.read(async (view) => flatten(view.chainedRows()));

    const target = await freshLog(t);
    const importing = await openImportTarget(target.location);
    t.teardown(() => importing.close());
    const importer = await importing.startImport();
    for (const row of rows) t.is(await importer.add(row.slice(0, 9) as unknown as EventRow), row[9] ?? '');
    t.deepEqual(await importer.commit(), await store.digest());
    const copy = await target.open();
    t.deepEqual(await collect(copy.read({ after: rev(0) })), await collect(store.read({ after: rev(0) })));
    t.deepEqual(await copy.digest(), await store.digest());
    // The imported log goes on as any other: appends continue the chain.
    t.true((await copy.append([{ events: [created(sid('s3'))], decidedAt: await copy.head() }]))[0]!.ok);

    await t.throwsAsync(importing.startImport(), { message: /already holds \d+ events/ });
  });
}
