import { join } from 'node:path';
import test from 'ava';
import Database from 'better-sqlite3';
import type { NewEvent, SessionId } from '../../src/domain/index.js';
import { created, EVERY_EVENT, registered, rev, S1, S2, set, withRevisions } from './event-samples.js';
import { openStore, tempDir } from './temp-store.js';
import type { EventRow } from '../../src/store/event-codec.js';
import { chainHash, GENESIS_HASH } from '../../src/store/hash-chain.js';

test('a new store is empty', (t) => {
  const store = openStore(t, join(tempDir(t), 'ledger.db'));
  t.is(Number(store.head()), 0);
  t.deepEqual(store.readAfter(rev(0), 100), []);
  t.deepEqual([...store.readAll()], []);
});

test('append assigns gapless revisions and one commit id per transaction', (t) => {
  const store = openStore(t, join(tempDir(t), 'ledger.db'));
  const first = store.write((tx) => {
    t.is(Number(tx.head()), 0);
    return tx.append([created(), registered('x', { kind: 'float', value: 1 })]);
  });
  t.deepEqual(
    first.map((e) => [e.revision, e.commitId]),
    [
      [1, 1],
      [2, 1],
    ],
  );
  const second = store.write((tx) => tx.append([set('x', 1, { kind: 'float', value: 2 }), set('x', 2, { kind: 'float', value: 3 }), set('x', 3, { kind: 'float', value: 4 })]));
  t.deepEqual(second.map((e) => [e.revision, e.commitId]), [
    [3, 3],
    [4, 3],
    [5, 3],
  ]);
  t.is(Number(store.head()), 5);
  t.deepEqual(store.readAfter(rev(0), 100).map((e) => [e.revision, e.commitId]), [
    [1, 1],
    [2, 1],
    [3, 3],
    [4, 3],
    [5, 3],
  ]);
});

test('several appends in one write share one commit id and continue the revisions', (t) => {
  const store = openStore(t, join(tempDir(t), 'ledger.db'));
  store.write((tx) => tx.append([created()]));
  const [a, b] = store.write((tx) => {
    const one = tx.append([created(S2)]);
    t.is(Number(tx.head()), 2, 'head inside the transaction sees its own appends');
    return [one, tx.append([{ kind: 'session_closed', sessionId: S2, time: 1, actor: 'x' }])];
  });
  t.deepEqual(a?.map((e) => e.revision), [2]);
  t.deepEqual(b?.map((e) => e.revision), [3]);
  t.deepEqual(store.readAfter(rev(0), 10).map((e) => e.revision), [1, 2, 3]);
});

test('append returns the events it was given, with revision and commit id', (t) => {
  const store = openStore(t, join(tempDir(t), 'ledger.db'));
  const stored = store.write((tx) => tx.append(EVERY_EVENT));
  t.deepEqual(stored, withRevisions(EVERY_EVENT, 1));
});

test('a commit longer than one multi-row insert keeps its order, revisions and chain', (t) => {
  const store = openStore(t, join(tempDir(t), 'ledger.db'));
  store.write((tx) => tx.append([created(), registered('x', { kind: 'float', value: 0 })]));
  // 37 events: two full chunks of the multi-row insert (sqlite-row-inserter.ts) and five rows after them.
  const events = Array.from({ length: 37 }, (_, i) => set('x', i + 1, { kind: 'float', value: i + 1 }));
  t.deepEqual(
    store.write((tx) => tx.append(events)),
    withRevisions(events, 3),
  );
  t.deepEqual([...store.readAll(rev(2))], withRevisions(events, 3));
  let hash = GENESIS_HASH;
  for (const [...row] of store.rowsWithHashes()) {
    const stored = row.pop();
    hash = chainHash(hash, row as unknown as EventRow);
    t.is(stored, hash, `revision ${row[0]}`);
  }
  t.deepEqual(store.digest(), { revision: 39, hash });
});

test('an empty append writes nothing', (t) => {
  const store = openStore(t, join(tempDir(t), 'ledger.db'));
  t.deepEqual(store.write((tx) => tx.append([])), []);
  t.is(Number(store.head()), 0);
});

test('write returns what its function returns', (t) => {
  const store = openStore(t, join(tempDir(t), 'ledger.db'));
  t.is(store.write(() => 42), 42);
});

test('a throw inside write writes nothing and the next write reuses the revisions', (t) => {
  const store = openStore(t, join(tempDir(t), 'ledger.db'));
  store.write((tx) => tx.append([created()]));
  const error = t.throws(() =>
    store.write((tx) => {
      tx.append([registered('x', { kind: 'float', value: 1 }), set('x', 1, { kind: 'float', value: 2 })]);
      throw new Error('decided against it');
    }),
  );
  t.is(error?.message, 'decided against it');
  t.is(Number(store.head()), 1);
  t.deepEqual(store.readAfter(rev(0), 10).map((e) => e.kind), ['session_created']);
  const next = store.write((tx) => tx.append([created(S2)]));
  t.deepEqual(next.map((e) => [e.revision, e.commitId]), [[2, 2]]);
});

test('append outside write is refused', (t) => {
  const store = openStore(t, join(tempDir(t), 'ledger.db'));
  let escaped: { append(events: readonly NewEvent[]): unknown } | undefined;
  store.write((tx) => {
    escaped = tx;
  });
  t.throws(() => escaped?.append([created()]), { message: 'append outside a write transaction' });
  t.is(Number(store.head()), 0);
});

test('readAfter honours the start revision and the limit', (t) => {
  const store = openStore(t, join(tempDir(t), 'ledger.db'));
  store.write((tx) => tx.append(EVERY_EVENT));
  const n = EVERY_EVENT.length;
  t.deepEqual(store.readAfter(rev(3), 4).map((e) => e.revision), [4, 5, 6, 7]);
  t.deepEqual(store.readAfter(rev(n - 1), 100).map((e) => e.revision), [n]);
  t.deepEqual(store.readAfter(rev(n), 100), []);
  t.deepEqual(store.readAfter(rev(n + 10), 100), []);
  t.deepEqual(store.readAfter(rev(0), 0), []);
});

test('readSession stops at the given revision and ignores other sessions', (t) => {
  const store = openStore(t, join(tempDir(t), 'ledger.db'));
  store.write((tx) => tx.append([created(S1), created(S2)]));
  store.write((tx) => tx.append([registered('a', { kind: 'float', value: 1 }, S2)]));
  store.write((tx) => tx.append([registered('a', { kind: 'float', value: 1 }, S1)]));
  store.write((tx) => tx.append([set('a', 1, { kind: 'float', value: 2 }, S1)]));
  t.deepEqual(store.readSession(S1, rev(5)).map((e) => e.revision), [1, 4, 5]);
  t.deepEqual(store.readSession(S1, rev(4)).map((e) => e.revision), [1, 4]);
  t.deepEqual(store.readSession(S1, rev(0)), []);
  t.deepEqual(store.readSession(S2, rev(100)).map((e) => e.revision), [2, 3]);
  t.deepEqual(store.readSession('nope' as SessionId, rev(100)), []);
});

test('readAll streams lazily, oldest first', (t) => {
  const store = openStore(t, join(tempDir(t), 'ledger.db'));
  store.write((tx) => tx.append(EVERY_EVENT));
  const iterator = store.readAll();
  t.is(iterator.next().value?.revision, 1);
  t.is(iterator.next().value?.revision, 2);
  iterator.return?.();
  t.is([...store.readAll()].length, EVERY_EVENT.length);
});

test('two stores on the same file writing alternately keep revisions gapless', (t) => {
  const path = join(tempDir(t), 'ledger.db');
  const a = openStore(t, path);
  const b = openStore(t, path);
  const commits: number[][] = [];
  for (let i = 0; i < 10; i++) {
    const store = i % 2 === 0 ? a : b;
    const written = store.write((tx) => tx.append(i === 0 ? [created()] : [set('x', i, { kind: 'integer', value: BigInt(i) }), set('x', i, { kind: 'integer', value: BigInt(-i) })]));
    commits.push(written.map((e) => e.revision));
  }
  t.deepEqual(commits[0], [1]);
  t.deepEqual(commits[1], [2, 3]);
  t.deepEqual(commits[9], [18, 19]);
  t.is(Number(a.head()), 19);
  t.is(Number(b.head()), 19);
  const all = [...b.readAll()];
  t.deepEqual(all.map((e) => e.revision), Array.from({ length: 19 }, (_, i) => i + 1));
  t.deepEqual(a.readAfter(rev(0), 100), all);
  // Each commit id is the first revision of its transaction.
  t.deepEqual([...new Set(all.map((e) => e.commitId))], [1, ...Array.from({ length: 9 }, (_, i) => 2 + 2 * i)]);
});

test('a write sees the head written by another store on the same file', (t) => {
  const path = join(tempDir(t), 'ledger.db');
  const a = openStore(t, path);
  const b = openStore(t, path);
  a.write((tx) => tx.append([created()]));
  b.write((tx) => {
    t.is(Number(tx.head()), 1);
    tx.append([created(S2)]);
  });
  t.deepEqual(a.write((tx) => tx.append([{ kind: 'session_closed', sessionId: S2, time: 1, actor: 'a' }])).map((e) => e.revision), [3]);
});

test('UPDATE and DELETE on events are refused by the triggers', (t) => {
  const path = join(tempDir(t), 'ledger.db');
  const store = openStore(t, path);
  store.write((tx) => tx.append([created(), registered('x', { kind: 'float', value: 1 })]));
  const db = new Database(path);
  t.teardown(() => db.close());
  t.throws(() => db.prepare("UPDATE events SET actor = 'mallory' WHERE revision = 1").run(), { any: true, code: 'SQLITE_CONSTRAINT_TRIGGER', message: 'events are append-only' });
  t.throws(() => db.prepare('DELETE FROM events WHERE revision = 2').run(), { any: true, code: 'SQLITE_CONSTRAINT_TRIGGER', message: 'events are append-only' });
  t.throws(() => db.prepare('DELETE FROM events').run(), { any: true, code: 'SQLITE_CONSTRAINT_TRIGGER', message: 'events are append-only' });
  t.deepEqual(store.readAfter(rev(0), 10).map((e) => [e.revision, e.actor]), [
    [1, 'boot'],
    [2, 'alice'],
  ]);
});

test('the file keeps a readable row per event, in WAL mode', (t) => {
  const path = join(tempDir(t), 'ledger.db');
  const store = openStore(t, path);
  store.write((tx) => tx.append([created(), set('x', 1, { kind: 'integer', value: 2n ** 63n - 1n })]));
  const db = new Database(path, { readonly: true });
  t.teardown(() => db.close());
  t.is(db.pragma('journal_mode', { simple: true }), 'wal');
  const rows = db.prepare('SELECT revision, commit_id, session_id, variable_id, kind, version, actor, payload FROM events ORDER BY revision').all();
  t.deepEqual(rows, [
    { revision: 1, commit_id: 1, session_id: 's1', variable_id: null, kind: 'session_created', version: null, actor: 'boot', payload: '{"metadata":{"owner":"team-ä","empty":""},"ttl_seconds":3600}' },
    { revision: 2, commit_id: 1, session_id: 's1', variable_id: 'var_x_1', kind: 'variable_set', version: 1, actor: 'bob', payload: '{"value":{"integer":"9223372036854775807"},"metadata":{"reason":"step 1"}}' },
  ]);
});

test('re-opening the file keeps everything', (t) => {
  const path = join(tempDir(t), 'nested', 'dir', 'ledger.db');
  const first = openStore(t, path, { durability: 'full' });
  first.write((tx) => tx.append(EVERY_EVENT.slice(0, 10)));
  first.write((tx) => tx.append(EVERY_EVENT.slice(10)));
  const before = [...first.readAll()];
  first.close();
  const again = openStore(t, path);
  t.is(Number(again.head()), EVERY_EVENT.length);
  t.deepEqual([...again.readAll()], before);
  t.deepEqual(again.write((tx) => tx.append([created('s3' as SessionId)])).map((e) => e.revision), [EVERY_EVENT.length + 1]);
});

test('ListSessions pages session ids through the session_ids index, one entry per session, not every event', (t) => {
  const store = openStore(t, join(tempDir(t), 'ledger.db'));
  const ids = Array.from({ length: 30 }, (_, i) => `s${String(i).padStart(2, '0')}` as SessionId);
  for (const id of ids) store.write((tx) => tx.append([created(id), registered('x', { kind: 'float', value: 0 }, id), set('x', 1, { kind: 'float', value: 1 }, id)]));
  t.deepEqual(store.sessionIds('', 10, store.head()), ids.slice(0, 10));
  t.deepEqual(store.sessionIds('s09', 10, store.head()), ids.slice(10, 20));
  // The store's own statement, as prepared.
  const listing = (store as unknown as { statements: { sessionIds: { source: string } } }).statements.sessionIds.source;
  const plan = store.db
    .prepare(`EXPLAIN QUERY PLAN ${listing}`)
    .all('', store.head(), 10)
    .map((row) => (row as { detail: string }).detail)
    .join('\n');
  t.regex(plan, /USING (COVERING )?INDEX session_ids/, plan);
});
