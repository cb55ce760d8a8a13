/** The domain and the store together: a log re-read from SQLite folds to the live state. */
import { join } from 'node:path';
import test from 'ava';
import { decide, decideCommit, evolve, foldSessions, type Command, type SessionState } from '../../src/domain/index.js';
import { createSession, deleteVar, float, int, makeCtx, register, S1, setVar, str, tensor, throwsDomain, vec } from '../domain/fixtures.js';
import { openStore, tempDir } from './temp-store.js';

test('state folded from the re-opened log equals the live state, and decides the same', (t) => {
  const path = join(tempDir(t), 'ledger.db');
  const store = openStore(t, path);
  const ctx = makeCtx();
  let live: SessionState | undefined;
  const run = (command: Command) => {
    const stored = store.write((tx) => tx.append(decide(live, command, ctx)));
    live = evolve(live, stored);
  };
  run(createSession({ metadata: { owner: 'a' }, ttlSeconds: 60 }));
  run(register('n', 'integer', int(0), { constraints: { min: -Infinity, max: Infinity } }));
  run(register('f', 'float', float(NaN)));
  run(register('p', 'string', str('abc'), { constraints: { pattern: '[a-z]+', maxLength: 5 } }));
  run(register('e', 'embedding', vec([1, 2, 3]), { constraints: { dimensions: 3 } }));
  run(register('w', 'tensor', tensor([2, 2], [1, 2, 3, 4], 'int32'), { constraints: { shape: [2, 2] } }));
  run(setVar('n', int(2n ** 63n - 1n), { metadata: { reason: 'max' } }));
  run(setVar('f', float(-Infinity)));
  const decision = decideCommit(live, { kind: 'commit', sessionId: S1, operations: [setVar('p', str('xyz')), deleteVar('e'), register('e', 'string', str('again'))], atomic: true }, ctx);
  live = evolve(live, store.write((tx) => tx.append(decision.events)));
  store.close();

  const reopened = openStore(t, path);
  const folded = foldSessions(reopened.readAll()).get(S1);
  t.deepEqual(folded, live);
  t.deepEqual(evolve(undefined, reopened.readSession(S1, reopened.head())), live);
  // The rebuilt state decides exactly as the live one did.
  const next = setVar('n', int(-(2n ** 63n)));
  t.deepEqual(decide(folded, next, ctx), decide(live, next, ctx));
  throwsDomain(t, () => decide(folded, setVar('p', str('ABC')), ctx), 'invalid_value', 'Value "ABC" does not match pattern "[a-z]+"');
});

test('a read at a past revision equals a fold of the log up to it', (t) => {
  const store = openStore(t, join(tempDir(t), 'ledger.db'));
  const ctx = makeCtx();
  let live: SessionState | undefined;
  const history: SessionState[] = [];
  for (const command of [register('x', 'float', float(0)), setVar('x', float(1)), setVar('x', float(2)), deleteVar('x'), register('x', 'integer', int(9))]) {
    const stored = store.write((tx) => tx.append(decide(live, command, ctx)));
    live = evolve(live, stored);
    history[store.head()] = live;
  }
  history.forEach((state, revision) => {
    t.deepEqual(evolve(undefined, store.readSession(S1, revision as never)), state, `at revision ${revision}`);
  });
});
