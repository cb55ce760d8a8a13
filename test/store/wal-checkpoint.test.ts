/**
 * WAL checkpoints run in a worker thread (sqlite-checkpointer.ts), not
 * inside the writer's COMMIT: the log's pages reach the database file, the
 * WAL does not grow past one checkpoint interval, and closing still leaves
 * a file that any connection reads in full.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import Database from 'better-sqlite3';
import type { NewEvent, SessionId, VariableId, Version } from '../../src/domain/index.js';
import { CHECKPOINT_EVERY_EVENTS } from '../../src/store/sqlite-checkpointer.js';
import { SqliteEventStore } from '../../src/store/sqlite-event-store.js';
import { SqliteLog } from '../../src/store/sqlite-log.js';
import { tempDir } from './temp-store.js';

const S = 's1' as SessionId;
const V = 'var_x_1' as VariableId;

const created: NewEvent = { kind: 'session_created', sessionId: S, time: 1, actor: 'a', metadata: {}, ttlSeconds: 60 };
const registered: NewEvent = {
  kind: 'variable_registered',
  sessionId: S,
  time: 2,
  actor: 'a',
  variableId: V,
  version: 0 as Version,
  name: 'x',
  type: 'string',
  value: { kind: 'string', value: '' },
  constraints: {},
  metadata: {},
  description: '',
};
const set = (version: number): NewEvent => ({
  kind: 'variable_set',
  sessionId: S,
  time: 3 + version,
  actor: 'a',
  variableId: V,
  version: version as Version,
  // ~1 KB per event, so a few hundred events are a few hundred WAL pages.
  value: { kind: 'string', value: `${version}:`.padEnd(1000, 'x') },
  metadata: {},
});

/** Appends `commits` commits of 10 sets each, starting at version `from`. */
async function appendSets(log: SqliteLog, from: number, commits: number): Promise<number> {
  let version = from;
  for (let c = 0; c < commits; c++) {
    const events = Array.from({ length: 10 }, () => set(version++));
    const [outcome] = await log.append([{ events, decidedAt: await log.head() }]);
    if (!outcome?.ok) throw new Error('append failed');
  }
  return version;
}

const INTERVAL_COMMITS = Math.ceil(CHECKPOINT_EVERY_EVENTS / 10);

test('the worker copies the WAL into the database file; the writer connection does not', async (t) => {
  const path = join(tempDir(t), 'ledger.db');
  const log = new SqliteLog(new SqliteEventStore(path), { pollMs: 0 });
  t.teardown(() => log.close());
  await log.append([{ events: [created, registered], decidedAt: await log.head() }]);
  const before = statSync(path).size;

  // Fewer events than one interval: nothing asked for a checkpoint yet, and the writer does not run one itself.
  let version = await appendSets(log, 1, INTERVAL_COMMITS - 2);
  await log.checkpointer?.idle();
  t.is(statSync(path).size, before);

  version = await appendSets(log, version, 2);
  await log.checkpointer?.idle();
  t.true(statSync(path).size > before + (INTERVAL_COMMITS - 2) * 10 * 1000, 'the events reached the database file');

  // A fully checkpointed WAL is reused from its start: it does not grow with the log.
  const walAfterOneInterval = statSync(`${path}-wal`).size;
  for (let i = 0; i < 6; i++) {
    version = await appendSets(log, version, INTERVAL_COMMITS);
    await log.checkpointer?.idle();
  }
  const wal = statSync(`${path}-wal`).size;
  t.true(wal <= 1.5 * walAfterOneInterval, `WAL of ${wal} bytes after 7 intervals, ${walAfterOneInterval} after one`);
  t.is(Number(await log.head()), 2 + 7 * INTERVAL_COMMITS * 10);
});

test('close stops the worker first; the file holds every event and its chain, with no WAL left', async (t) => {
  const path = join(tempDir(t), 'ledger.db');
  const log = new SqliteLog(new SqliteEventStore(path), { pollMs: 0 });
  await log.append([{ events: [created, registered], decidedAt: await log.head() }]);
  await appendSets(log, 1, 2 * INTERVAL_COMMITS);
  const digest = await log.digest();
  await log.close();
  t.false(existsSync(`${path}-wal`));

  const db = new Database(path, { readonly: true });
  t.teardown(() => db.close());
  t.is(db.prepare('SELECT count(*) FROM events').pluck().get(), 2 + 2 * INTERVAL_COMMITS * 10);
  t.is(db.prepare('SELECT hash FROM event_chain ORDER BY revision DESC LIMIT 1').pluck().get(), digest.hash);
});
