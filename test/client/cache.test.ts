/** The read cache: served locally while watched, fresh within one watch delivery, read-your-writes. */
import test from 'ava';
import { NotFoundError } from '../../src/client/index.js';
import { VariableCache } from '../../src/client/variable-cache.js';
import type { Variable } from '../../src/client/variable.js';
import { clientLedger } from './client-fixture.js';

test('with the watch cache, reads are local and another client\'s write lands within one delivery', async (t) => {
  const { client } = await clientLedger(t);
  const writer = (await client({ actor: 'writer' })).session('s1');
  await writer.register('temperature', 'float', 0.7);
  await writer.register('model', 'string', 'small');

  const reader = (await client({ actor: 'reader', cache: 'watch' })).session('s1');
  await reader.enableWatchCache();
  t.is(await reader.get('temperature'), 0.7);
  t.is(await reader.get('temperature'), 0.7);
  t.like(reader.stats(), { hits: 2, misses: 0, size: 2, live: true });

  const changed = await writer.set('temperature', 0.9);
  await reader.waitForRevision(changed.modifiedRevision);
  t.is(await reader.get('temperature'), 0.9);
  t.like(reader.stats(), { hits: 3, misses: 0 });

  const added = await writer.register('top_p', 'float', 0.95);
  await reader.waitForRevision(added.modifiedRevision);
  t.deepEqual(await reader.getMany(['temperature', 'top_p', 'model']), { temperature: 0.9, top_p: 0.95, model: 'small' });
  t.like(reader.stats(), { hits: 6, misses: 0 });

  const deletedAt = await writer.delete('model');
  await reader.waitForRevision(deletedAt);
  await t.throwsAsync(reader.get('model'), { instanceOf: NotFoundError });
  t.false(await reader.has('model'));
  t.like(reader.stats(), { size: 2 });
});

test('a lazily started watch cache: the first read asks the server, later ones are local', async (t) => {
  const { client } = await clientLedger(t);
  const s = (await client({ cache: 'watch' })).session('s1');
  await s.register('x', 'integer', 1); // the write starts the watch
  await s.enableWatchCache(); // resolves once its snapshot is in
  t.is(await s.get('x'), 1);
  t.like(s.stats(), { hits: 1, misses: 0 });

  const cold = (await client({ cache: 'watch' })).session('s1');
  t.is(await cold.get('x'), 1);
  t.like(cold.stats(), { hits: 0, misses: 1 });
  await cold.enableWatchCache();
  t.is(await cold.get('x'), 1);
  t.like(cold.stats(), { hits: 1, misses: 1 });
});

test('read-your-writes: after set resolves, get returns it even while the watch lags behind', async (t) => {
  const { client } = await clientLedger(t);
  const s = (await client({ cache: 'watch' })).session('s1');
  const other = (await client()).session('s1');
  await s.register('x', 'integer', 0);
  await s.enableWatchCache();
  let last = 0;
  for (let i = 1; i <= 30; i++) {
    if (i % 3 === 0) await other.set('x', -i); // a write the watch will deliver later
    last = (await s.set('x', i)).modifiedRevision;
    t.is(await s.get('x'), i, `after set ${i}`);
  }
  await s.waitForRevision(last);
  t.is(await s.get('x'), 30, 'older watch events never overwrote the newer value');
  t.is(s.stats().misses, 0);
});

test('the cache never lets an older revision replace a newer one', (t) => {
  const cache = new VariableCache('watch');
  const variable = (value: number, revision: number): Variable => ({
    id: 'x-1', sessionId: 's', name: 'x', type: 'integer', value, constraints: {}, metadata: {}, description: '',
    version: revision, createdRevision: 1, modifiedRevision: revision, createdAt: undefined, updatedAt: undefined, modifiedBy: '',
  });
  const event = (kind: 'set' | 'deleted', value: number, revision: number) => ({
    kind, name: 'x', variable: variable(value, revision), previousValue: undefined, previousVersion: 0,
    metadata: {}, actor: '', time: undefined, revision, commitId: revision,
  });
  cache.apply({ initial: true, revision: 1, events: [] });
  cache.store(variable(5, 5)); // a write's reply
  cache.apply({ initial: false, revision: 4, events: [event('set', 4, 4)] });
  t.is(cache.lookup('x')?.value, 5);
  cache.apply({ initial: false, revision: 6, events: [event('deleted', 5, 6)] });
  t.is(cache.lookup('x'), undefined);
  cache.store(variable(5, 5)); // a late read reply must not resurrect it
  t.is(cache.lookup('x'), undefined);
  cache.apply({ initial: true, revision: 10, events: [event('set', 9, 9)] });
  t.is(cache.lookup('x')?.value, 9);
});

test('the TTL cache reuses reads for ttlMs, counts hits and misses, and keeps read-your-writes', async (t) => {
  const { client } = await clientLedger(t);
  const c = await client();
  const s = c.session('s1', { cache: { ttlMs: 60_000 } });
  await s.register('x', 'integer', 1);
  await s.register('y', 'integer', 2);
  t.is(await s.get('x'), 1);
  t.like(s.stats(), { hits: 1, misses: 0 }, 'the registration reply is cached');
  const other = c.session('s1');
  await other.set('x', 10);
  t.is(await s.get('x'), 1, 'another client\'s write is unseen until the entry expires');
  await s.set('x', 20);
  t.is(await s.get('x'), 20);

  const uncached = c.session('s1', { cache: { ttlMs: 0 } });
  t.is(await uncached.get('y'), 2);
  t.is(await uncached.get('y'), 2);
  t.like(uncached.stats(), { hits: 0, misses: 2 });
  t.like(c.session('s1').stats(), { hits: 0, misses: 0, live: false });
});
