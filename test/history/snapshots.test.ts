/**
 * Snapshots over gRPC: written every N events and at shutdown; a restarted
 * server answers exactly as before, and damaged snapshots are skipped.
 */
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ServiceError } from '@grpc/grpc-js';
import test, { type ExecutionContext } from 'ava';
import { VariableType } from '../../src/gen/varledger/v1/ledger.js';
import type { LedgerRpc } from '../../src/client/ledger-rpc.js';
import { ManualClock } from '../helpers/harness.js';
import { codeName, floatValue, intValue, stringValue, tensorValue, vectorValue } from '../helpers/grpc-expect.js';
import { deleteOp, registerOp, setOp } from '../helpers/watch-helpers.js';
import { corruptSnapshots, deleteSnapshots, ledgerFor, snapshotRevisions, tempDir } from './history-helpers.js';

const FLOAT = VariableType.VARIABLE_TYPE_FLOAT;
const INTEGER = VariableType.VARIABLE_TYPE_INTEGER;
const STRING = VariableType.VARIABLE_TYPE_STRING;
const SESSIONS = ['s1', 's2', 's3'];

/**
 * A session as GetSession/ListSessions report it, without `expires_at`: a
 * restart deliberately starts every idle timer afresh.
 */
const withoutExpiry = <S extends { expiresAt?: Date | undefined }>(session: S): Omit<S, 'expiresAt'> => {
  const { expiresAt: _ignored, ...rest } = session;
  return rest;
};

/** A call's reply, or its status and message: both must be the same after a restart. */
async function outcome<T>(call: Promise<T>): Promise<T | { error: string; details: string }> {
  try {
    return await call;
  } catch (error) {
    const e = error as ServiceError;
    return { error: codeName(e.code), details: e.details };
  }
}

/**
 * Everything a client can read: sessions, current variables, every
 * variable's history, and listings and lookups by name and id at every revision.
 */
async function answers(rpc: LedgerRpc) {
  const digest = await rpc.call('getDigest', {});
  const head = digest.revision;
  const sessions = (await rpc.call('listSessions', {})).sessions.map(withoutExpiry);
  const perSession: Record<string, unknown> = {};
  for (const sessionId of SESSIONS) {
    const current = await outcome(rpc.call('listVariables', { sessionId }));
    const listings: unknown[] = [];
    const identifiers = new Set<string>();
    for (let r = 1n; r <= head; r++) {
      const listed = await outcome(rpc.call('listVariables', { sessionId, atRevision: r }));
      listings.push(listed);
      if ('variables' in listed) for (const v of listed.variables) identifiers.add(v.name).add(v.id);
    }
    const histories: Record<string, unknown> = {};
    for (const identifier of identifiers) {
      histories[identifier] = await outcome(rpc.call('getHistory', { sessionId, identifier, limit: 1000 }));
    }
    const lookups: unknown[] = [];
    for (let r = 1n; r <= head; r += 2n) {
      lookups.push(await outcome(rpc.call('getVariables', { sessionId, identifiers: [...identifiers].sort(), atRevision: r })));
    }
    const session = await outcome(rpc.call('getSession', { sessionId }).then(withoutExpiry));
    perSession[sessionId] = { session, current, listings, histories, lookups };
  }
  return { digest, sessions, perSession };
}

/** Writes a varied history across three sessions: every event kind, re-registration, a closed session. */
async function writeHistory(rpc: LedgerRpc, clock: ManualClock): Promise<void> {
  const tick = () => clock.advance(250);
  await rpc.call('createSession', { sessionId: 's1', metadata: { team: 'a' } });
  await rpc.call('registerVariable', { sessionId: 's1', name: 'lr', type: FLOAT, initialValue: floatValue(0.1), constraints: { min: 0, max: 1 } }, { actor: 'alice' });
  await rpc.call('registerVariable', { sessionId: 's1', name: 'steps', type: INTEGER, initialValue: intValue(10n) });
  await rpc.call('registerVariable', { sessionId: 's2', name: 'emb', type: VariableType.VARIABLE_TYPE_EMBEDDING, initialValue: vectorValue([1, 2]) });
  for (let i = 0; i < 6; i++) {
    tick();
    await rpc.call('setVariable', { sessionId: 's1', identifier: 'lr', value: floatValue(0.1 * (i + 2)), metadata: { reason: `step ${i}` } }, { actor: `w${i % 2}` });
    await rpc.call('setVariable', { sessionId: 's2', identifier: 'emb', value: vectorValue([i, -i]) });
  }
  await rpc.call('rollbackVariable', { sessionId: 's1', identifier: 'lr', targetVersion: 2n, metadata: { reason: 'regressed' } }, { actor: 'bob' });
  await rpc.call('commit', {
    sessionId: 's1',
    atomic: true,
    metadata: { batch: '1' },
    operations: [setOp('steps', intValue(20n)), registerOp('name', STRING, stringValue('gpt')), setOp('steps', intValue(30n))],
  });
  await rpc.call('registerVariable', { sessionId: 's3', name: 't', type: VariableType.VARIABLE_TYPE_TENSOR, initialValue: tensorValue([1, 2], [1, 2], 'int32') });
  await rpc.call('setVariable', { sessionId: 's3', identifier: 't', value: tensorValue([1, 2], [3, 4], 'int32') });
  await rpc.call('closeSession', { sessionId: 's3' });
  tick();
  await rpc.call('deleteVariable', { sessionId: 's1', identifier: 'steps' });
  await rpc.call('registerVariable', { sessionId: 's1', name: 'steps', type: STRING, initialValue: stringValue('many') });
  await rpc.call('commit', { sessionId: 's2', atomic: false, operations: [setOp('emb', vectorValue([9, 9])), deleteOp('nope'), setOp('emb', vectorValue([8, 8]))] });
  await rpc.call('rollbackVariable', { sessionId: 's2', identifier: 'emb', targetVersion: 0n });
  await rpc.call('setVariable', { sessionId: 's1', identifier: 'name', value: stringValue('claude') });
}

interface Recorded {
  readonly dataPath: string;
  readonly clock: ManualClock;
  readonly before: Awaited<ReturnType<typeof answers>>;
  /** Snapshot revisions, newest first: while the server ran, and after it stopped. */
  readonly whileRunning: number[];
  readonly snapshots: number[];
  readonly head: bigint;
}

/** Runs a server with small snapshot spacing, records its answers, and stops it keeping the file. */
async function recordRun(t: ExecutionContext, snapshotEvery: number): Promise<Recorded> {
  const dataPath = join(tempDir(t), 'ledger.db');
  const clock = new ManualClock();
  const first = await ledgerFor(t, { dataPath, clock, snapshotEvery });
  await writeHistory(first.rpc, clock);
  const before = await answers(first.rpc);
  const whileRunning = snapshotRevisions(dataPath);
  await first.stop({ remove: false });
  const snapshots = snapshotRevisions(dataPath);
  return { dataPath, clock, before, whileRunning, snapshots, head: before.digest.revision };
}

/** A copy of a recorded run's (closed, checkpointed) database, to damage one way or another. */
function copyRun(t: ExecutionContext, run: Recorded): Recorded {
  const dataPath = join(tempDir(t), 'copy.db');
  copyFileSync(run.dataPath, dataPath);
  return { ...run, dataPath };
}

/** A second server on the same file; fresh id suffixes cannot collide with the first run's. */
const restart = (t: ExecutionContext, run: Recorded) => {
  let n = 0;
  return ledgerFor(t, { dataPath: run.dataPath, clock: run.clock, newIdSuffix: () => `r${++n}` });
};

test('snapshots are written every N events while running and at shutdown; with N = 0 only at shutdown', async (t) => {
  const run = await recordRun(t, 4);
  const head = Number(run.head);
  t.true(head > 30, `a long enough history (${head})`);
  t.true(run.whileRunning.length >= Math.floor(head / 4) - 1, `snapshots while running: ${run.whileRunning.join(',')}`);
  // Consecutive snapshots are at least N events apart (a commit may cross the threshold by more).
  const ascending = [...run.whileRunning].reverse();
  t.true(ascending.every((r, i) => i === 0 || r - ascending[i - 1]! >= 4));
  // Shutdown adds one at the head.
  t.is(run.snapshots[0], head);
  t.deepEqual(run.snapshots.slice(1), run.whileRunning.filter((r) => r !== head));

  const never = await recordRun(t, 0);
  t.deepEqual(never.whileRunning, []);
  t.deepEqual(never.snapshots, [head]);
  // Both runs wrote the same log and answered the same.
  t.deepEqual(never.before, run.before);
  const second = await restart(t, never);
  t.deepEqual(await answers(second.rpc), never.before);
});

test('a server restarted on the same file answers exactly as before, from the head snapshot or an older one plus the tail', async (t) => {
  const run = await recordRun(t, 3);
  const [atHead, older] = run.snapshots;
  t.is(atHead, Number(run.head));
  t.truthy(older);
  const fromOlder = copyRun(t, run);

  const second = await restart(t, run);
  t.deepEqual(await answers(second.rpc), run.before);
  // It keeps working from there: new writes, a history continuing past the snapshot.
  const set = await second.rpc.call('setVariable', { sessionId: 's1', identifier: 'lr', value: floatValue(0.99) });
  t.is(set.modifiedRevision, run.head + 1n);
  const history = await second.rpc.call('getHistory', { sessionId: 's1', identifier: 'lr', limit: 2 });
  t.deepEqual(history.entries.map((e) => e.version), [set.version, set.version - 1n]);

  // Without the shutdown snapshot (as after a crash), start-up is an older snapshot plus the log after it.
  deleteSnapshots(fromOlder.dataPath, [atHead!]);
  t.deepEqual(snapshotRevisions(fromOlder.dataPath), run.snapshots.slice(1));
  const third = await restart(t, fromOlder);
  t.deepEqual(await answers(third.rpc), run.before);
});

test('damaged snapshots are skipped: a restarted server answers as before from an intact one or the whole log', async (t) => {
  const run = await recordRun(t, 3);
  const variants = {
    // Plausible JSON with wrong values: only the checksum tells.
    'newest damaged': (path: string) => corruptSnapshots(path, run.snapshots.slice(0, 1)),
    'all damaged': (path: string) => corruptSnapshots(path, run.snapshots),
    // Not JSON at all, in every other snapshot from the newest.
    'garbage in every other one': (path: string) => corruptSnapshots(path, run.snapshots.filter((_, i) => i % 2 === 0), 'garbage'),
  };
  for (const [name, damage] of Object.entries(variants)) {
    const copy = copyRun(t, run);
    t.true(damage(copy.dataPath) > 0, name);
    const server = await restart(t, copy);
    const after = await answers(server.rpc);
    t.deepEqual(after, run.before, name);
    await server.stop({ remove: false });
  }
});
