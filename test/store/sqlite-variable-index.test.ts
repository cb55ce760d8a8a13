/**
 * The per-variable index off the commit path (migration 0006,
 * src/store/sqlite-variable-index.ts): reads by variable must equal a scan of
 * the whole log whether a version is indexed or still in the tail, after
 * every append, after re-opening, with two stores on one file, after
 * compaction and after an import. The tail limit is injected small so a few
 * dozen events cross the watermark many times.
 */
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import Database from 'better-sqlite3';
import type { NewEvent, SessionId, StoredEvent, Value, VariableId } from '../../src/domain/index.js';
import { ArchiveFile } from '../../src/store/archive-file.js';
import { EVENT_COLUMNS, toRow, type EventRow } from '../../src/store/event-codec.js';
import { loadMigrations } from '../../src/store/migrations.js';
import { migrate } from '../../src/store/sqlite-migrations.js';
import type { SqliteEventStore } from '../../src/store/sqlite-event-store.js';
import { created, rev, S1, S2, vid, ver } from './event-samples.js';
import { openStore, tempDir } from './temp-store.js';

const TAIL = 4;
const VALUE_KINDS = new Set(['variable_registered', 'variable_set', 'variable_rolled_back']);
const float = (value: number): Value => ({ kind: 'float', value });

type VariableEvent = StoredEvent & { variableId: VariableId; version: number };
const hasVariable = (e: StoredEvent): e is VariableEvent => 'variableId' in e;

/** Events of a few variables in two sessions: sets, rollbacks and a deletion, as a service would decide them. */
class Workload {
  private readonly versions = new Map<string, number>();
  private step = 0;

  register(name: string, sessionId = S1): NewEvent {
    this.versions.set(name, 0);
    return {
      kind: 'variable_registered',
      sessionId,
      time: 2000,
      actor: 'alice',
      variableId: vid(`var_${name}`),
      version: ver(0),
      name,
      type: 'float',
      value: float(0),
      constraints: {},
      metadata: {},
      description: '',
    };
  }

  set(name: string, sessionId = S1): NewEvent {
    const version = this.bump(name);
    return { ...this.envelope(name, sessionId), kind: 'variable_set', version: ver(version), value: float(version), metadata: {} };
  }

  rollback(name: string, sessionId = S1): NewEvent {
    const version = this.bump(name);
    const value = float(0);
    return { ...this.envelope(name, sessionId), kind: 'variable_rolled_back', version: ver(version), value, metadata: {}, targetVersion: ver(0) };
  }

  /** A deletion keeps the variable's version: (variable, version) is not unique in the log. */
  delete(name: string, sessionId = S1): NewEvent {
    return { ...this.envelope(name, sessionId), kind: 'variable_deleted', version: ver(this.versions.get(name) ?? 0), metadata: {} };
  }

  private envelope(name: string, sessionId: SessionId) {
    return { sessionId, time: 3000 + this.step, actor: 'bob', variableId: vid(`var_${name}`) };
  }

  private bump(name: string): number {
    this.step++;
    const version = (this.versions.get(name) ?? 0) + 1;
    this.versions.set(name, version);
    return version;
  }
}

const watermark = (store: SqliteEventStore) => store.db.prepare('SELECT indexed_through FROM variable_index_state').pluck().get() as number;
const indexedRevisions = (store: SqliteEventStore) =>
  store.db.prepare('SELECT revision FROM variable_versions ORDER BY revision').pluck().all() as number[];

/** The index holds exactly the variable events at or below the watermark, and the tail is within its limit. */
function checkIndex(t: ExecutionContext, store: SqliteEventStore, limit = TAIL): void {
  const through = watermark(store);
  const head = Number(store.head());
  t.true(through <= head && head - through <= limit, `watermark ${through}, head ${head}, limit ${limit}`);
  const expected = [...store.readAll()].filter((e) => hasVariable(e) && e.revision <= through).map((e) => e.revision);
  t.deepEqual(indexedRevisions(store), expected);
}

/** History and single versions by the store, against a scan of every event. */
function checkReads(t: ExecutionContext, store: SqliteEventStore, variables: readonly string[]): void {
  const events = [...store.readAll()].filter(hasVariable);
  for (const name of variables) {
    const id = vid(`var_${name}`);
    const values = events.filter((e) => e.variableId === id && VALUE_KINDS.has(e.kind)).sort((a, b) => b.version - a.version);
    const top = (values[0]?.version ?? -1) + 2;
    for (let before = 0; before <= top; before++) {
      for (const limit of [1, 3, 1_000]) {
        t.deepEqual(
          store.readHistory(id, before, limit).map((e) => e.revision),
          values.filter((e) => e.version < before).slice(0, limit).map((e) => e.revision),
          `history of ${name} before ${before}, limit ${limit}`,
        );
      }
      t.is(store.readVersion(id, before)?.revision, values.find((e) => e.version === before)?.revision, `version ${before} of ${name}`);
    }
  }
}

/** Appends `count` events one commit at a time, alternating variables, checking the index after each. */
function appendSingles(
  t: ExecutionContext,
  stores: readonly SqliteEventStore[],
  work: Workload,
  names: readonly string[],
  count: number,
  limit = TAIL,
): void {
  for (let i = 0; i < count; i++) {
    const store = stores[i % stores.length] as SqliteEventStore;
    const name = names[i % names.length] as string;
    const event = i % 7 === 3 ? work.rollback(name) : work.set(name);
    const [outcome] = store.appendCommits([{ events: [event], decidedAt: store.head() }]);
    t.true(outcome?.ok);
    checkIndex(t, store, limit);
  }
}

test('reads by variable equal a scan of the log while versions cross from the tail into the index', (t) => {
  const store = openStore(t, join(tempDir(t), 'ledger.db'), { variableIndexTail: TAIL });
  const work = new Workload();
  store.write((tx) => tx.append([created(), work.register('a'), work.register('b'), work.register('c')]));
  checkIndex(t, store);
  let crossings = 0;
  for (let i = 0; i < 30; i++) {
    const before = watermark(store);
    // Singles, group commits of two, and a commit of several events, as the service sends them.
    if (i % 3 === 0) store.appendCommits([{ events: [work.set('a')], decidedAt: store.head() }]);
    else if (i % 3 === 1) {
      store.appendCommits([
        { events: [work.set('b')], decidedAt: store.head() },
        { events: [work.rollback('a')], decidedAt: store.head() },
      ]);
    }
    else store.write((tx) => tx.append([work.set('a'), work.set('b'), work.set('c')]));
    if (watermark(store) > before) crossings++;
    checkIndex(t, store);
    checkReads(t, store, ['a', 'b', 'c']);
  }
  store.write((tx) => tx.append([work.delete('c')]));
  checkReads(t, store, ['a', 'b', 'c']);
  t.true(crossings >= 10, `the watermark moved ${crossings} times`);
});

test('the newest versions are read from the tail before any indexing, and from the index after it', (t) => {
  const store = openStore(t, join(tempDir(t), 'ledger.db'), { variableIndexTail: 1_000 });
  const work = new Workload();
  store.write((tx) => tx.append([created(), work.register('a')]));
  for (let i = 0; i < 5; i++) store.appendCommits([{ events: [work.set('a')], decidedAt: store.head() }]);
  t.is(watermark(store), 0, 'nothing indexed yet: every read comes from the tail');
  t.deepEqual(indexedRevisions(store), []);
  t.deepEqual(store.readHistory(vid('var_a'), 99, 3).map((e) => e.revision), [7, 6, 5]);
  t.is(store.readVersion(vid('var_a'), 0)?.revision, rev(2));
  store.close();

  // Opening with a smaller limit indexes the tail at once; the reads do not change.
  const reopened = openStore(t, store.db.name, { variableIndexTail: 2 });
  t.is(watermark(reopened), 7);
  t.deepEqual(indexedRevisions(reopened), [2, 3, 4, 5, 6, 7]);
  t.deepEqual(reopened.readHistory(vid('var_a'), 99, 3).map((e) => e.revision), [7, 6, 5]);
  t.is(reopened.readVersion(vid('var_a'), 0)?.revision, rev(2));
});

test('re-opening keeps the watermark and the tail, and appends go on indexing', (t) => {
  const path = join(tempDir(t), 'ledger.db');
  const work = new Workload();
  const first = openStore(t, path, { variableIndexTail: TAIL });
  first.write((tx) => tx.append([created(), work.register('a'), work.register('b')]));
  appendSingles(t, [first], work, ['a', 'b'], 11);
  const through = watermark(first);
  t.true(through > 0 && through < Number(first.head()), 'some versions indexed, some in the tail');
  first.close();

  const second = openStore(t, path, { variableIndexTail: TAIL });
  t.is(watermark(second), through);
  checkReads(t, second, ['a', 'b']);
  appendSingles(t, [second], work, ['a', 'b'], 9);
  checkReads(t, second, ['a', 'b']);
});

test('two stores on one file: whoever appends indexes, once, and both read the same', (t) => {
  const path = join(tempDir(t), 'ledger.db');
  const a = openStore(t, path, { variableIndexTail: TAIL });
  const b = openStore(t, path, { variableIndexTail: TAIL });
  const work = new Workload();
  a.write((tx) => tx.append([created(), work.register('x'), work.register('y')]));
  // Alternating: each store's remembered watermark falls behind the other's indexing; a store that
  // indexed from its own stale idea of the watermark would insert rows twice (the key refuses that).
  appendSingles(t, [a, b], work, ['x', 'y'], 25);
  // Runs of one store, then the other.
  appendSingles(t, [b], work, ['x', 'y'], 7);
  appendSingles(t, [a], work, ['x', 'y'], 7);
  checkReads(t, a, ['x', 'y']);
  checkReads(t, b, ['x', 'y']);
});

test('a failing commit in a single-commit call writes nothing, alone or in a group, and the index is untouched', (t) => {
  const store = openStore(t, join(tempDir(t), 'ledger.db'), { variableIndexTail: TAIL });
  const work = new Workload();
  store.write((tx) => tx.append([created(), work.register('a')]));
  appendSingles(t, [store], work, ['a'], 3);
  const head = Number(store.head());
  const digest = store.digest();
  // NOT NULL refuses the actor: the insert fails part-way through the commit (after two good events).
  const broken = { ...work.set('a'), actor: null } as unknown as NewEvent;
  const [alone] = store.appendCommits([{ events: [work.set('a'), work.set('a'), broken], decidedAt: rev(head) }]);
  t.true(alone !== undefined && !alone.ok && /NOT NULL/.test(alone.error.message), 'the commit fails with its own error');
  t.is(Number(store.head()), head);
  t.deepEqual(store.digest(), digest);
  // The same when the broken event is written by a multi-row insert (sqlite-row-inserter.ts) or after one.
  for (const at of [10, 17]) {
    const long = Array.from({ length: 20 }, (_, i) => (i === at ? broken : work.set('a')));
    const [failed] = store.appendCommits([{ events: long, decidedAt: rev(head) }]);
    t.true(failed !== undefined && !failed.ok && /NOT NULL/.test(failed.error.message), `broken event at ${at}`);
    t.is(Number(store.head()), head);
    t.deepEqual(store.digest(), digest);
  }

  const [good, bad, after] = store.appendCommits([
    { events: [work.set('a')], decidedAt: rev(head) },
    { events: [broken], decidedAt: rev(head) },
    { events: [created(S2)], decidedAt: rev(head) },
  ]);
  t.true(good?.ok && after?.ok);
  t.false(bad?.ok);
  t.deepEqual(
    [...store.readAll(rev(head))].map((e) => [e.revision, e.kind]),
    [
      [head + 1, 'variable_set'],
      [head + 2, 'session_created'],
    ],
  );
  checkIndex(t, store);
});

test('compaction drops the removed sessions index rows in its transaction; other sessions still read right', (t) => {
  const dir = tempDir(t);
  const store = openStore(t, join(dir, 'ledger.db'), { variableIndexTail: TAIL });
  const work = new Workload();
  store.write((tx) => tx.append([created(S1), created(S2), work.register('gone', S1), work.register('kept', S2)]));
  for (let i = 0; i < 8; i++) {
    store.appendCommits([{ events: [work.set('gone', S1)], decidedAt: store.head() }, { events: [work.set('kept', S2)], decidedAt: store.head() }]);
  }
  store.write((tx) => tx.append([work.set('gone', S1), { kind: 'session_closed', sessionId: S1, time: 5000, actor: 'bob' }]));
  const through = watermark(store);
  const gone = [...store.readAll()].filter((e) => e.sessionId === S1 && hasVariable(e));
  t.true(gone.some((e) => e.revision <= through) && gone.some((e) => e.revision > through), 'the removed session has indexed and tail events');

  const archive = new ArchiveFile(join(dir, 'archive.jsonl'));
  const result = store.compact({ endedBefore: 10_000, maxSessions: 10, archive, time: 9000, actor: 'ops' });
  t.is(result?.sessions.join(), S1);
  t.deepEqual(store.readHistory(vid('var_gone'), 99, 100), []);
  t.is(store.readVersion(vid('var_gone'), 0), undefined);
  checkIndex(t, store);
  checkReads(t, store, ['kept']);
  appendSingles(t, [store], work, ['kept'], 6);
  checkReads(t, store, ['kept']);
});

test('an import leaves no tail: every variable event indexed, reads equal the source', (t) => {
  const dir = tempDir(t);
  const source = openStore(t, join(dir, 'source.db'), { variableIndexTail: 10_000 });
  const work = new Workload();
  source.write((tx) => tx.append([created(), work.register('a'), work.register('b')]));
  appendSingles(t, [source], work, ['a', 'b'], 12, 10_000);
  t.is(watermark(source), 0);

  const target = openStore(t, join(dir, 'target.db'), { variableIndexTail: TAIL });
  const importer = target.startImport();
  for (const row of source.rowsWithHashes()) importer.add(row.slice(0, 9) as unknown as EventRow);
  importer.commit();
  t.is(watermark(target), Number(target.head()));
  checkIndex(t, target, 0);
  for (const name of ['a', 'b']) {
    t.deepEqual(target.readHistory(vid(`var_${name}`), 99, 100), source.readHistory(vid(`var_${name}`), 99, 100));
  }
  // The store that imported appends from the watermark the import left.
  appendSingles(t, [target], work, ['a', 'b'], 6);
  checkReads(t, target, ['a', 'b']);
});

test('the audit queries find a variable by id and name across the watermark', (t) => {
  const store = openStore(t, join(tempDir(t), 'ledger.db'), { variableIndexTail: TAIL });
  const work = new Workload();
  store.write((tx) => tx.append([created(), work.register('a')]));
  appendSingles(t, [store], work, ['a'], 10);
  // Registered in the tail: its name and events are found before anything indexes them.
  store.write((tx) => tx.append([work.register('late'), work.set('late')]));
  t.true(watermark(store) < Number(store.head()) - 1);
  const queries = store.auditQueries();
  const all = [...store.readAll()].filter(hasVariable);
  const revisionsOf = (id: string) => all.filter((e) => e.variableId === id).map((e) => e.revision);
  for (const name of ['a', 'late']) {
    const id = `var_${name}`;
    t.is(queries.variableName(id), name);
    t.deepEqual(queries.eventsOfVariable(S1, id).map((row) => row[0]), revisionsOf(id).reverse());
    t.deepEqual(queries.eventsOfVariable(S2, id), []);
    t.deepEqual([...queries.events({ variable: id })].map((row) => row[0]), revisionsOf(id));
    t.deepEqual([...queries.events({ variable: name })].map((row) => row[0]), revisionsOf(id), 'by name');
    t.deepEqual([...queries.variableEventsBetween(id, 3, 13)].map((row) => row[0]), revisionsOf(id).filter((r) => r > 3 && r < 13));
  }
  t.deepEqual([...queries.events({ variable: 'a', sessionId: S2 })], []);
});

test('migration 0006 indexes a file made at schema 0005 and drops the old index; reads are unchanged', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'old.db');
  const old = new Database(path);
  migrate(old, loadMigrations().slice(0, 5));
  const work = new Workload();
  const events = [created(), work.register('a'), work.register('b'), created(S2), work.register('c', S2)];
  for (let i = 0; i < 20; i++) events.push(i % 5 === 4 ? work.rollback('a') : work.set(i % 2 ? 'a' : 'b'));
  events.push(work.delete('b'));
  const insert = old.prepare(`INSERT INTO events (${EVENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  events.forEach((event, i) => insert.run(...toRow(event, i + 1, i + 1)));
  // A hand-made row (an import may carry one): a variable event without a version.
  insert.run(events.length + 1, events.length + 1, S2, 'var_c', 'variable_deleted', null, 9000, 'ops', '{}');
  const oldHistory = old.prepare(`SELECT revision FROM events WHERE variable_id = ? AND version < 99 ORDER BY version DESC`).pluck();
  const before = { a: oldHistory.all('var_a'), b: oldHistory.all('var_b') };
  old.close();

  const store = openStore(t, path);
  const indexes = store.db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events'").pluck().all();
  t.false(indexes.includes('events_by_variable'));
  t.is(watermark(store), events.length + 1);
  checkIndex(t, store, 0);
  t.is(store.db.prepare("SELECT version FROM variable_versions WHERE variable_id = 'var_c' ORDER BY revision DESC").pluck().get(), -1);
  checkReads(t, store, ['a', 'b', 'c']);
  const values = (id: string) => before[id as 'a' | 'b'].filter((r) => VALUE_KINDS.has(events[(r as number) - 1]?.kind ?? ''));
  t.deepEqual(store.readHistory(vid('var_a'), 99, 100).map((e) => e.revision), values('a'));
  t.deepEqual(store.readHistory(vid('var_b'), 99, 100).map((e) => e.revision), values('b'));
  t.deepEqual(store.auditQueries().eventsOfVariable(S2, 'var_c').map((row) => row[0]), [events.length + 1, 5], 'the versionless row is found too');
  // The chain was sealed on open (the rows were inserted without it) and appends go on.
  t.is(store.digest().revision, events.length + 1);
  t.true(store.appendCommits([{ events: [work.set('a')], decidedAt: store.head() }])[0]?.ok);
  checkReads(t, store, ['a']);
});
