/** Read-modify-write under contention, and batches sent as one Commit. */
import { status } from '@grpc/grpc-js';
import test from 'ava';
import { CommitRejectedError, ConstraintError, NotFoundError, VersionConflictError } from '../../src/client/index.js';
import { clientLedger } from './client-fixture.js';

test('5 workers × 10 increments with update() end at exactly 50', async (t) => {
  const { client } = await clientLedger(t);
  const first = (await client()).session('s1');
  await first.register('counter', 'integer', 0);
  const workers = await Promise.all(Array.from({ length: 5 }, async (_, i) => (await client({ actor: `worker-${i}` })).session('s1')));
  await Promise.all(
    workers.map(async (s) => {
      for (let i = 0; i < 10; i++) await s.update<number>('counter', (n) => n + 1);
    }),
  );
  t.is(await first.get('counter'), 50);
  t.is((await first.getVariable('counter')).version, 50);
  t.is((await first.history('counter', { limit: 1000 })).length, 51, 'every increment is one version');
});

test('update() gives up with VersionConflictError when the retries are spent', async (t) => {
  const { client } = await clientLedger(t);
  const s = (await client()).session('s1');
  const other = (await client()).session('s1');
  await s.register('x', 'integer', 0);
  let calls = 0;
  const error = await t.throwsAsync(
    s.update<number>(
      'x',
      async (n) => {
        calls++;
        await other.set('x', 100 + calls); // someone always writes in between
        return n + 1;
      },
      { retries: 2, backoff: { initialMs: 1, maxMs: 1 } },
    ),
    { instanceOf: VersionConflictError },
  );
  t.is(error?.code, status.ABORTED);
  t.is(calls, 3);
  t.is(await s.get('x'), 103);
});

test('an atomic batch applies everything in one commit and updates the handle', async (t) => {
  const { client } = await clientLedger(t);
  const s = (await client()).session('s1', { cache: { ttlMs: 60_000 } });
  await s.register('a', 'integer', 1);
  await s.register('b', 'float', 0.5, { constraints: { min: 0, max: 1 } });
  await s.register('c', 'string', 'x');
  const result = await s.batch(
    (b) => {
      b.set('a', 2).set('b', 0.25, { metadata: { reason: 'tune' } });
      b.delete('c');
      b.register('d', 'choice', 'small', { constraints: { choices: ['small', 'large'] } });
    },
    { metadata: { batch: 'one' } },
  );
  t.deepEqual(
    result.results.map((r) => [r.index, r.kind, r.name, r.ok]),
    [
      [0, 'set', 'a', true],
      [1, 'set', 'b', true],
      [2, 'delete', 'c', true],
      [3, 'register', 'd', true],
    ],
  );
  const revisions = result.results.map((r) => (r.ok ? r.variable.modifiedRevision : 0));
  t.is(result.revision, revisions[3] ?? -1);
  t.deepEqual(await s.getMany(['a', 'b', 'c', 'd']), { a: 2, b: 0.25, d: 'small' });
  await t.throwsAsync(s.get('c'), { instanceOf: NotFoundError });
  t.like((await s.history('b', { limit: 1 }))[0]?.metadata, { reason: 'tune', batch: 'one' });
});

test('an atomic batch with failures writes nothing and lists every failing operation', async (t) => {
  const { client } = await clientLedger(t);
  const s = (await client()).session('s1');
  await s.register('a', 'integer', 1);
  await s.register('b', 'float', 0.5, { constraints: { min: 0, max: 1 } });
  const before = (await s.info()).modifiedRevision;
  const error = await t.throwsAsync<CommitRejectedError>(
    s.batch((b) => {
      b.set('a', 2);
      b.set('b', 7);
      b.delete('ghost');
    }),
    { instanceOf: CommitRejectedError },
  );
  t.is(error?.code, status.INVALID_ARGUMENT, 'the status of the first failure');
  t.deepEqual(
    error?.failures.map((f) => [f.index, f.identifier, f.error.constructor.name, f.error.message]),
    [
      [1, 'b', 'ConstraintError', 'Value 7 is above maximum 1'],
      [2, 'ghost', 'NotFoundError', 'Variable not found: ghost'],
    ],
  );
  t.is(await s.get('a'), 1);
  t.is((await s.info()).modifiedRevision, before);
});

test('a non-atomic batch commits the operations that pass and reports the others', async (t) => {
  const { client } = await clientLedger(t);
  const s = (await client()).session('s1');
  await s.register('b', 'float', 0.5, { constraints: { min: 0, max: 1 } });
  const result = await s.batch(
    (b) => {
      b.set('b', 2);
      b.register('n', 'integer', 5);
    },
    { atomic: false },
  );
  const [bad, good] = result.results;
  t.false(bad?.ok);
  t.true(bad && !bad.ok && bad.error instanceof ConstraintError);
  t.true(good?.ok);
  t.is(result.revision, good?.ok ? good.variable.modifiedRevision : -1);
  t.deepEqual(await s.getMany(['b', 'n']), { b: 0.5, n: 5 });
});
