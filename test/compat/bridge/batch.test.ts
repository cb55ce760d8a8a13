import test from 'ava';
import { anyJson, anyOf, jsonAny, startBridge, type BridgeTest } from './bridge-client.js';

async function threeVariables(t: { teardown: (fn: () => Promise<void>) => void }): Promise<BridgeTest> {
  const s = await startBridge();
  t.teardown(() => s.stop());
  await s.bridge.call('initializeSession', { sessionId: 'w1' });
  await s.bridge.call('registerVariable', { sessionId: 'w1', name: 'a', type: 'integer', initialValue: anyOf('integer', 1) });
  await s.bridge.call('registerVariable', {
    sessionId: 'w1',
    name: 'p',
    type: 'float',
    initialValue: anyOf('float', 0.5),
    constraintsJson: '{"min": 0, "max": 1}',
  });
  await s.bridge.call('registerVariable', { sessionId: 'w1', name: 's', type: 'string', initialValue: anyOf('string', 'x') });
  return s;
}

async function values(s: BridgeTest): Promise<Record<string, unknown>> {
  const { variables } = await s.bridge.call('getVariables', { sessionId: 'w1', variableIdentifiers: ['a', 'p', 's'] });
  return Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, anyJson(v.value)]));
}

test('atomic SetVariables with a bad update writes nothing and reports the failures by key', async (t) => {
  const s = await threeVariables(t);
  const head = (await s.rpc.call('listVariables', { sessionId: 'w1' })).revision;
  const reply = await s.bridge.call('setVariables', {
    sessionId: 'w1',
    atomic: true,
    updates: { a: anyOf('integer', 2), p: anyOf('float', 1.5), s: jsonAny('string', '{broken') },
  });
  t.false(reply.success);
  t.deepEqual(Object.keys(reply.errors).sort(), ['s']);
  t.deepEqual(reply.newVersions, {});
  t.deepEqual(await values(s), { a: 1, p: 0.5, s: 'x' });

  const domainOnly = await s.bridge.call('setVariables', {
    sessionId: 'w1',
    atomic: true,
    updates: { a: anyOf('integer', 2), p: anyOf('float', 1.5), ghost: anyOf('integer', 1) },
  });
  t.false(domainOnly.success);
  t.regex(domainOnly.errors['p'] ?? '', /above maximum 1/);
  t.regex(domainOnly.errors['ghost'] ?? '', /not found/);
  t.is(domainOnly.errors['a'], undefined);
  t.deepEqual(await values(s), { a: 1, p: 0.5, s: 'x' });
  t.is((await s.rpc.call('listVariables', { sessionId: 'w1' })).revision, head, 'nothing was appended to the log');
});

test('atomic SetVariables that is all valid writes every update in one commit', async (t) => {
  const s = await threeVariables(t);
  const reply = await s.bridge.call('setVariables', {
    sessionId: 'w1',
    atomic: true,
    metadata: { reason: 'tuning' },
    updates: { a: anyOf('integer', 2), p: anyOf('float', 0.25) },
  });
  t.true(reply.success);
  t.deepEqual(reply.errors, {});
  t.deepEqual(reply.newVersions, { a: 1, p: 1 });
  const a = await s.rpc.call('getVariable', { sessionId: 'w1', identifier: 'a' });
  const p = await s.rpc.call('getVariable', { sessionId: 'w1', identifier: 'p' });
  t.is(Math.abs(Number(a.modifiedRevision - p.modifiedRevision)), 1, 'adjacent events of one commit');
  const history = await s.bridge.call('getVariableHistory', { sessionId: 'w1', variableIdentifier: 'a' });
  t.deepEqual(history.entries[0]?.metadata, { reason: 'tuning' });
});

test('non-atomic SetVariables applies the valid updates and reports the rest per key', async (t) => {
  const s = await threeVariables(t);
  const reply = await s.bridge.call('setVariables', {
    sessionId: 'w1',
    atomic: false,
    updates: { a: anyOf('integer', 7), p: anyOf('float', 3), s: anyOf('string', 'y'), ghost: anyOf('integer', 1) },
  });
  // Processed: success=true, so Snakepit's update_variables keeps the per-key results.
  t.true(reply.success);
  t.deepEqual(Object.keys(reply.errors).sort(), ['ghost', 'p']);
  t.regex(reply.errors['p'] ?? '', /above maximum/);
  t.deepEqual(reply.newVersions, { a: 1, s: 1 });
  t.deepEqual(await values(s), { a: 7, p: 0.5, s: 'y' });

  // Undecodable and failing updates alike: still a processed batch.
  const noneApplied = await s.bridge.call('setVariables', {
    sessionId: 'w1',
    atomic: false,
    updates: { s: jsonAny('string', '{broken'), ghost: anyOf('integer', 1) },
  });
  t.true(noneApplied.success);
  t.deepEqual(Object.keys(noneApplied.errors).sort(), ['ghost', 's']);
  t.deepEqual(noneApplied.newVersions, {});
});
