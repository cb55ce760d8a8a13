/** The hash chain: GetDigest, recomputation from the stored rows, and sealing a log from before the chain. */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import test from 'ava';
import { VariableType } from '../../src/gen/varledger/v1/ledger.js';
import { parseSessionId, type RegisterVariable, type SetVariable, type Version } from '../../src/domain/index.js';
import { LedgerService } from '../../src/service/ledger-service.js';
import { GENESIS_HASH } from '../../src/store/hash-chain.js';
import { SqliteEventStore } from '../../src/store/sqlite-event-store.js';
import { SqliteLog } from '../../src/store/sqlite-log.js';
import { ManualClock } from '../helpers/harness.js';
import { expectStatus, floatValue, intValue, stringValue } from '../helpers/grpc-expect.js';
import { deleteOp, registerOp, setOp } from '../helpers/watch-helpers.js';
import { float, int, register, setVar, str } from '../domain/fixtures.js';
import { ledgerFor, recomputeDigest, storeOf, tempDir, withRawDb } from './history-helpers.js';

const HEX64 = /^[0-9a-f]{64}$/;
const FLOAT = VariableType.VARIABLE_TYPE_FLOAT;

test('GetDigest reports the head revision and a hash that changes with every write, and only then', async (t) => {
  const dataPath = join(tempDir(t), 'ledger.db');
  const clock = new ManualClock();
  const ledger = await ledgerFor(t, { dataPath, clock });
  const { rpc } = ledger;
  const empty = await rpc.call('getDigest', {});
  t.deepEqual(empty, { revision: 0n, hash: GENESIS_HASH });

  const seen = new Set<string>([empty.hash]);
  /** After a write: the digest is at `revision`, its hash new, and equal to a recomputation. */
  const expectAdvancedTo = async (revision: bigint, what: string) => {
    const digest = await rpc.call('getDigest', {});
    t.is(digest.revision, revision, what);
    t.regex(digest.hash, HEX64, what);
    t.false(seen.has(digest.hash), `${what}: a new hash`);
    seen.add(digest.hash);
    const recomputed = recomputeDigest(storeOf(ledger));
    t.deepEqual(recomputed, { revision: Number(revision), hash: digest.hash, mismatches: [] }, what);
  };

  const session = await rpc.call('createSession', { sessionId: 's1' });
  await expectAdvancedTo(session.createdRevision, 'create session');
  const x = await rpc.call('registerVariable', { sessionId: 's1', name: 'x', type: FLOAT, initialValue: floatValue(1) }, { actor: 'a' });
  await expectAdvancedTo(x.modifiedRevision, 'register');
  // Same value, same actor: still a new event, a new hash.
  for (let i = 0; i < 3; i++) {
    clock.advance(1);
    const set = await rpc.call('setVariable', { sessionId: 's1', identifier: 'x', value: floatValue(1) }, { actor: 'a' });
    await expectAdvancedTo(set.modifiedRevision, `set ${i}`);
  }
  const commit = await rpc.call('commit', {
    sessionId: 's1',
    atomic: true,
    operations: [setOp('x', floatValue(2)), registerOp('y', VariableType.VARIABLE_TYPE_INTEGER, intValue(1n)), deleteOp('x')],
  });
  t.is(commit.revision, x.modifiedRevision + 6n);
  await expectAdvancedTo(commit.revision, 'commit of three events');
  const rolled = await rpc.call('rollbackVariable', { sessionId: 's1', identifier: 'y', targetVersion: 0n });
  await expectAdvancedTo(rolled.modifiedRevision, 'rollback');
  const deleted = await rpc.call('deleteVariable', { sessionId: 's1', identifier: 'y' });
  await expectAdvancedTo(deleted.revision, 'delete');

  // Reads and refused writes leave the digest alone.
  const before = await rpc.call('getDigest', {});
  await rpc.call('listVariables', { sessionId: 's1', atRevision: 3n });
  await rpc.call('getSession', { sessionId: 's1' });
  await expectStatus(t, rpc.call('setVariable', { sessionId: 's1', identifier: 'gone', value: floatValue(1) }), status.NOT_FOUND);
  await expectStatus(
    t,
    rpc.call('commit', { sessionId: 's1', atomic: true, operations: [registerOp('z', FLOAT, floatValue(1)), setOp('z', stringValue('not a float'))] }),
    status.INVALID_ARGUMENT,
  );
  t.deepEqual(await rpc.call('getDigest', {}), before);

  const closed = await rpc.call('closeSession', { sessionId: 's1' });
  await expectAdvancedTo(closed.modifiedRevision, 'close');

  // A restarted server on the same file reports the same digest and continues the chain.
  const last = await rpc.call('getDigest', {});
  await ledger.stop({ remove: false });
  const again = await ledgerFor(t, { dataPath, clock, newIdSuffix: () => 'again' });
  t.deepEqual(await again.rpc.call('getDigest', {}), last);
  const next = await again.rpc.call('registerVariable', { sessionId: 's2', name: 'x', type: FLOAT, initialValue: floatValue(0) });
  const digest = await again.rpc.call('getDigest', {});
  t.is(digest.revision, next.modifiedRevision);
  t.deepEqual(recomputeDigest(storeOf(again)), { revision: Number(digest.revision), hash: digest.hash, mismatches: [] });
});

test('each hash is SHA-256 of the previous hash, a newline and the JSON of the stored row', async (t) => {
  const store = new SqliteEventStore(join(tempDir(t), 'ledger.db'));
  t.teardown(() => store.close());
  const service = await LedgerService.open({ store: new SqliteLog(store), clock: new ManualClock(), newIdSuffix: () => '1', newSessionId: () => 'gen' });
  await service.register(register('x', 'string', str('héllo "q"\n')) as RegisterVariable, 'ünï');
  const rows = [...store.rowsWithHashes()];
  t.is(rows.length, 2);
  let previous = GENESIS_HASH;
  for (const row of rows) {
    const expected = createHash('sha256')
      .update(`${previous}\n${JSON.stringify(row.slice(0, 9))}`, 'utf8')
      .digest('hex');
    t.is(row[9], expected);
    previous = expected;
  }
  t.deepEqual(store.digest(), { revision: 2, hash: previous });
});

test('the chain is append-only in SQLite, and a changed event no longer matches its stored hash', async (t) => {
  const path = join(tempDir(t), 'ledger.db');
  const store = new SqliteEventStore(path);
  const service = await LedgerService.open({ store: new SqliteLog(store), clock: new ManualClock(), newIdSuffix: () => '1', newSessionId: () => 'gen' });
  const s1 = parseSessionId('s1');
  await service.register(register('x', 'float', float(1), { sessionId: s1 }) as RegisterVariable, 'a');
  for (let i = 2; i <= 5; i++) await service.set(setVar('x', float(i), { sessionId: s1 }) as SetVariable, 'a');
  const digest = store.digest();
  t.is(digest.revision, 6);
  t.throws(() => store.db.prepare('UPDATE event_chain SET hash = ? WHERE revision = 3').run(GENESIS_HASH), { any: true, message: /the hash chain is append-only/ });
  t.throws(() => store.db.prepare('DELETE FROM event_chain WHERE revision = 6').run(), { any: true, message: /the hash chain is append-only/ });
  store.close();

  // Someone bypasses the triggers and rewrites event 4's value.
  withRawDb(path, (db) => {
    db.exec('DROP TRIGGER events_are_append_only_update');
    db.prepare(`UPDATE events SET payload = replace(payload, '"float":3', '"float":30') WHERE revision = 4`).run();
  });
  const reopened = new SqliteEventStore(path);
  t.teardown(() => reopened.close());
  const recomputed = recomputeDigest(reopened);
  t.deepEqual(recomputed.mismatches, [4, 5, 6]);
  t.not(recomputed.hash, digest.hash);
  // The stored chain still vouches for the original log.
  t.deepEqual(reopened.digest(), digest);
});

/** Writes a small log through the service and closes it; returns the digest it ended with. */
async function writeLog(path: string): Promise<{ revision: number; hash: string }> {
  const store = new SqliteEventStore(path);
  const service = await LedgerService.open({ store: new SqliteLog(store), clock: new ManualClock(), newIdSuffix: () => 'p', newSessionId: () => 'gen', snapshotEvery: 0 });
  const s1 = parseSessionId('s1');
  await service.register(register('n', 'integer', int(0), { sessionId: s1 }) as RegisterVariable, 'a');
  for (let i = 1; i <= 8; i++) await service.set(setVar('n', int(i), { sessionId: s1, metadata: { reason: `r${i}` } }) as SetVariable, 'b');
  await service.rollback({ sessionId: s1, identifier: 'n', targetVersion: 2 as Version, metadata: {} }, 'c');
  const digest = store.digest();
  await service.close();
  return digest;
}

const chainRows = (path: string): number => withRawDb(path, (db) => db.prepare('SELECT count(*) FROM event_chain').pluck().get() as number);

test('a log written before the chain existed is sealed when opened, with the same hashes it would have had', async (t) => {
  const path = join(tempDir(t), 'ledger.db');
  const original = await writeLog(path);
  t.is(original.revision, 11);
  // Simulate a database from before migration 0002: no chain rows.
  withRawDb(path, (db) => {
    db.exec('DROP TRIGGER event_chain_is_append_only_update; DROP TRIGGER event_chain_is_append_only_delete;');
    db.exec('DELETE FROM event_chain');
  });
  t.is(chainRows(path), 0);

  const store = new SqliteEventStore(path);
  t.teardown(() => store.close());
  t.is(chainRows(path), 11);
  t.deepEqual(store.digest(), original);
  t.deepEqual(recomputeDigest(store), { ...original, mismatches: [] });

  // New writes continue the sealed chain.
  const service = await LedgerService.open({ store: new SqliteLog(store), clock: new ManualClock(), newIdSuffix: () => 'q', newSessionId: () => 'gen' });
  await service.set(setVar('n', int(99), { sessionId: parseSessionId('s1') }) as SetVariable, 'd');
  const digest = store.digest();
  t.is(digest.revision, 12);
  t.deepEqual(recomputeDigest(store), { ...digest, mismatches: [] });
});

test('a chain missing its newest rows is completed from where it stops', async (t) => {
  const path = join(tempDir(t), 'ledger.db');
  const original = await writeLog(path);
  withRawDb(path, (db) => {
    db.exec('DROP TRIGGER event_chain_is_append_only_delete');
    db.prepare('DELETE FROM event_chain WHERE revision > 4').run();
  });
  t.is(chainRows(path), 4);
  const store = new SqliteEventStore(path);
  t.teardown(() => store.close());
  t.is(chainRows(path), 11);
  t.deepEqual(store.digest(), original);
  t.deepEqual(recomputeDigest(store).mismatches, []);
});
