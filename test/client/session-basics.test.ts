/** The session API against a real server: every read and write, values as plain TypeScript. */
import test from 'ava';
import { clientLedger } from './client-fixture.js';

test('register, get, set, has, delete and list a variable', async (t) => {
  const { client } = await clientLedger(t);
  const s = (await client()).session('s1');
  const registered = await s.register('temperature', 'float', 0.7, {
    constraints: { min: 0, max: 2 },
    metadata: { owner: 'opt' },
    description: 'sampling temperature',
  });
  t.like(registered, { name: 'temperature', type: 'float', value: 0.7, version: 0, description: 'sampling temperature', modifiedBy: 'tester' });
  t.deepEqual(registered.constraints, { min: 0, max: 2 });
  t.deepEqual(registered.metadata, { owner: 'opt' });

  t.is(await s.get('temperature'), 0.7);
  const updated = await s.set('temperature', 1.1, { metadata: { reason: 'more diverse' }, expectedVersion: 0 });
  t.like(updated, { value: 1.1, version: 1 });
  t.is(await s.get<number>('temperature'), 1.1);
  t.true(await s.has('temperature'));
  t.false(await s.has('nope'));

  await s.register('model', 'choice', 'small', { constraints: { choices: ['small', 'large'] } });
  await s.register('max_tokens', 'integer', 256);
  t.deepEqual((await s.list()).map((v) => v.name).sort(), ['max_tokens', 'model', 'temperature']);
  t.deepEqual((await s.list('m*')).map((v) => v.name).sort(), ['max_tokens', 'model']);
  t.deepEqual(await s.getMany(['temperature', 'model', 'missing']), { temperature: 1.1, model: 'small' });

  const deletedAt = await s.delete('model');
  t.true(deletedAt > updated.modifiedRevision);
  t.false(await s.has('model'));
});

test('values travel as plain TypeScript: integers as number (bigint beyond 2^53), vectors, tensors', async (t) => {
  const { client } = await clientLedger(t);
  const s = (await client()).session('s1');
  await s.register('n', 'integer', 3);
  await s.register('seed', 'integer', 2n ** 62n);
  await s.register('flag', 'boolean', true);
  await s.register('name', 'string', 'gpt');
  await s.register('emb', 'embedding', [0.5, 1, -2], { constraints: { dimensions: 3 } });
  await s.register('w', 'tensor', { shape: [2, 2], data: [1, 2, 3, 4], dtype: 'float32' });
  await s.register('t1', 'tensor', { shape: [3], data: [1, 2, 3] });
  t.deepEqual(await s.getMany(['n', 'seed', 'flag', 'name', 'emb', 'w', 't1']), {
    n: 3,
    seed: 2n ** 62n,
    flag: true,
    name: 'gpt',
    emb: [0.5, 1, -2],
    w: { shape: [2, 2], data: [1, 2, 3, 4], dtype: 'float32' },
    t1: { shape: [3], data: [1, 2, 3], dtype: 'float64' }, // the server's default dtype
  });

  // The client knows `n` is an integer and sends 7 as one; a bigint always travels as an integer.
  t.is((await s.set('n', 7)).value, 7);
  t.is((await s.set('n', 8n)).value, 8);
  t.is((await s.set('seed', 2n ** 63n - 1n)).value, 2n ** 63n - 1n);
  // A fresh handle has no type knowledge: an integral number goes out as a float and the server converts it.
  const fresh = (await client()).session('s1');
  t.is((await fresh.set('n', 9)).value, 9);
  t.is((await s.set('emb', [1, 2, 3])).version, 1);
});

test('history, rollback and time travel with at(revision)', async (t) => {
  const { client } = await clientLedger(t);
  const s = (await client({ actor: 'alice' })).session('s1');
  const v0 = await s.register('x', 'integer', 1);
  const v1 = await s.set('x', 2, { metadata: { reason: 'two' } });
  await s.set('x', 3);
  await s.register('y', 'string', 'later');

  const history = await s.history('x');
  t.deepEqual(
    history.map((h) => [h.version, h.value, h.kind, h.actor]),
    [
      [2, 3, 'set', 'alice'],
      [1, 2, 'set', 'alice'],
      [0, 1, 'registered', 'alice'],
    ],
  );
  t.deepEqual(history[1]?.metadata, { reason: 'two' });
  t.deepEqual((await s.history('x', { limit: 1, beforeVersion: 2 })).map((h) => h.version), [1]);

  const past = s.at(v1.modifiedRevision);
  t.is(past.revision, v1.modifiedRevision);
  t.is(await past.get('x'), 2);
  t.deepEqual(await past.getMany(['x', 'y']), { x: 2 });
  t.false(await past.has('y'));
  t.deepEqual((await past.list()).map((v) => v.name), ['x']);
  t.is(await s.at(v0.modifiedRevision).get('x'), 1);

  const rolled = await s.rollback('x', 0);
  t.like(rolled, { value: 1, version: 3 });
  t.is(await s.get('x'), 1);
  t.like((await s.history('x', { limit: 1 }))[0], { kind: 'rolled_back', value: 1 });
});

test('createSession, info, heartbeat, close and listSessions', async (t) => {
  const { client } = await clientLedger(t);
  const c = await client();
  const named = await c.createSession({ id: 'run-1', metadata: { team: 'ml' }, ttlSeconds: 60 });
  t.is(named.id, 'run-1');
  t.like(await named.info(), { id: 'run-1', state: 'active', ttlSeconds: 60, metadata: { team: 'ml' }, variableCount: 0 });
  const generated = await c.createSession();
  t.truthy(generated.id);
  await named.register('x', 'integer', 1);
  t.like(await named.heartbeat(), { variableCount: 1 });
  t.deepEqual((await c.listSessions()).map((s) => s.id).sort(), [generated.id, 'run-1'].sort());
  t.like(await named.close(), { state: 'closed' });
});
