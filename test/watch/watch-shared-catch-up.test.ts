/**
 * Lagging watchers of many sessions catch up together (etcd's unsynced
 * group): one read of the log, from the lowest position among them, fanned
 * out to each watcher's filter; each session folded from its nearest stored
 * state, never from revision 0 and never by a read of its own.
 */
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { parseSessionId, type Revision, type SessionId, type Value } from '../../src/domain/index.js';
import { LedgerService } from '../../src/service/ledger-service.js';
import { SqliteLog } from '../../src/store/sqlite-log.js';
import type { Change } from '../../src/watch/changes.js';
import { WatchHub, type WatchSink } from '../../src/watch/watch-hub.js';
import { openStore, tempDir } from '../store/temp-store.js';

const SESSIONS = 40;
const ROUNDS = 4;
const ACTOR = 'tester';

interface Seen {
  revision: number;
  kind: string;
  name: string | undefined;
  value: unknown;
  previous: unknown;
}

const valueOf = (value: Value | undefined) => (value?.kind === 'float' ? value.value : undefined);
const encode = (revision: Revision, changes: readonly Change[]) =>
  Buffer.from(
    JSON.stringify(
      changes.map((c): Seen => ({ revision, kind: c.kind, name: c.variable?.name, value: valueOf(c.variable?.value), previous: valueOf(c.previous?.value) })),
    ),
  );

/** A sink that collects what it is sent; `count(n)` resolves once it holds n changes. */
function collector(): { sink: WatchSink; seen: Seen[]; count: (n: number) => Promise<void> } {
  const seen: Seen[] = [];
  const waiting: { n: number; resolve: () => void }[] = [];
  const sink: WatchSink = {
    write(bytes) {
      seen.push(...(JSON.parse(Buffer.from(bytes).toString()) as Seen[]));
      for (const w of waiting.filter((w) => seen.length >= w.n)) w.resolve();
      return true;
    },
    onDrain: () => () => {},
    end() {},
    abort() {},
  };
  const count = (n: number) => (seen.length >= n ? Promise.resolve() : new Promise<void>((resolve) => waiting.push({ n, resolve })));
  return { sink, seen, count };
}

async function scenario(t: ExecutionContext, snapshotEvery: number) {
  const file = openStore(t, join(tempDir(t), 'ledger.db'));
  let n = 0;
  const service = await LedgerService.open({
    store: new SqliteLog(file, { pollMs: 0 }),
    clock: { now: () => 1_000 },
    newIdSuffix: () => String(++n),
    newSessionId: () => `gen${++n}`,
    snapshotEvery,
  });
  t.teardown(() => service.close());
  const hub = new WatchHub({ log: service, head: () => service.head, encode, progressIntervalMs: 0 });
  const stop = service.onCommit((notice) => hub.publish(notice));
  t.teardown(() => {
    stop();
    hub.closeAll('test over');
  });

  const ids: SessionId[] = Array.from({ length: SESSIONS }, (_, i) => parseSessionId(`s${i}`));
  const float = (value: number): Value => ({ kind: 'float', value });
  for (const sessionId of ids) {
    await service.createSession({ sessionId, metadata: {}, ttlSeconds: 0 }, ACTOR);
    await service.register({ sessionId, name: 'x', type: 'float', value: float(0), constraints: {}, metadata: {}, description: '' }, ACTOR);
    await service.register({ sessionId, name: 'other', type: 'float', value: float(0), constraints: {}, metadata: {}, description: '' }, ACTOR);
  }
  // Rounds of sets interleaved across sessions; each watcher resumes after its session's first.
  const resumeAt = new Map<SessionId, Revision>();
  for (let round = 1; round <= ROUNDS; round++) {
    for (const sessionId of ids) {
      const set = await service.set({ sessionId, identifier: 'x', value: float(round), metadata: {} }, ACTOR);
      await service.set({ sessionId, identifier: 'other', value: float(-round), metadata: {} }, ACTOR);
      if (round === 1) resumeAt.set(sessionId, set.modifiedRevision);
    }
  }

  // Count the log reads from here on, at the store.
  const reads = { pages: 0, sessionFolds: 0 };
  const countPages = <A extends unknown[], R>(fn: (...args: A) => R) => (...args: A) => (reads.pages++, fn(...args));
  file.readAfter = countPages(file.readAfter.bind(file));
  file.readSessionAfter = countPages(file.readSessionAfter.bind(file));
  file.readSessionsAfter = countPages(file.readSessionsAfter.bind(file));
  const readSession = file.readSession.bind(file);
  file.readSession = (...args) => (reads.sessionFolds++, readSession(...args));

  // Every watcher subscribes in this turn; each watches only `x`.
  const watchers = ids.map((sessionId) => {
    const collected = collector();
    hub.subscribe({ sessionId, matches: (c) => c.variable?.name === 'x', sink: collected.sink, position: resumeAt.get(sessionId) as Revision });
    return collected;
  });
  await Promise.all(watchers.map((w) => w.count(ROUNDS - 1)));

  for (const [i, w] of watchers.entries()) {
    t.deepEqual(
      w.seen.map(({ kind, name, value, previous }) => ({ kind, name, value, previous })),
      [2, 3, 4].map((round) => ({ kind: 'set', name: 'x', value: round, previous: round - 1 })),
      `watcher of ${ids[i]}`,
    );
    const revisions = w.seen.map((s) => s.revision);
    t.deepEqual(revisions, [...revisions].sort((a, b) => a - b));
  }
  // One read for all of them (a page of events, then the empty one that says caught up), no per-session fold.
  t.log(`snapshotEvery ${snapshotEvery}: ${reads.pages} page reads, ${reads.sessionFolds} session reads for ${SESSIONS} watchers`);
  t.true(reads.pages <= 2, `${reads.pages} page reads`);
  t.is(reads.sessionFolds, 0);

  // Caught up, they are fed live.
  const live = await service.set({ sessionId: ids[7] as SessionId, identifier: 'x', value: float(99), metadata: {} }, ACTOR);
  const watcher = watchers[7]!;
  await watcher.count(ROUNDS);
  t.deepEqual(watcher.seen.at(-1), { revision: live.modifiedRevision, kind: 'set', name: 'x', value: 99, previous: 4 });
}

test('watchers of 40 sessions resuming from old revisions are served by one read of the log, from snapshot rows', (t) => scenario(t, 25));

test('without snapshots, each session folds from its creation within the same single read', (t) => scenario(t, 0));
