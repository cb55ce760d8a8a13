/**
 * What applyInPlace reports for each event (the change feed's entries) and
 * what storedEvent makes of a decided event: the write path builds these
 * objects field by field, so these tests pin every field down.
 */
import test from 'ava';
import {
  applyInPlace,
  decide,
  storedEvent,
  type MutableSession,
  type NewEvent,
  type Revision,
  type StoredEvent,
  type VariableState,
} from '../../src/domain/index.js';
import { closeSession, createSession, deleteVar, float, makeCtx, register, S1, setVar, str } from './fixtures.js';

/** A projection-like map of sessions, fed one decided command at a time. */
function feed() {
  const sessions = new Map<string, MutableSession>();
  let revision = 0;
  const ctx = makeCtx();
  return {
    sessions,
    apply(command: Parameters<typeof decide>[1]) {
      const events = decide(sessions.get(S1), command, ctx);
      const first = revision + 1;
      return events.map((event) => applyInPlace(sessions, storedEvent(event, ++revision as Revision, first as Revision)));
    },
  };
}

test('storedEvent: the event with its revision and commit id; the decided event is not changed', (t) => {
  const event: NewEvent = { kind: 'variable_set', sessionId: S1, time: 5, actor: 'a', variableId: 'var_x_1' as VariableState['id'], version: 2 as VariableState['version'], value: float(1), metadata: { reason: 'r' } };
  const copy = { ...event };
  const stored = storedEvent(event, 7 as Revision, 6 as Revision);
  t.deepEqual(stored, { ...copy, revision: 7, commitId: 6 } as StoredEvent);
  t.deepEqual(Object.keys(stored), [...Object.keys(copy), 'revision', 'commitId']);
  t.not(stored, event as StoredEvent);
  t.deepEqual(event, copy);
  t.false('revision' in event);
});

test('given a session, when events are applied, then each reports the variable before and after as keys present only when they exist', (t) => {
  const f = feed();
  const [created] = f.apply(createSession());
  t.deepEqual(Object.keys(created!), ['event']);

  const [registered] = f.apply(register('x', 'string', str('a'), { metadata: { owner: 'o' } }));
  t.deepEqual(Object.keys(registered!), ['event', 'variable']);
  const v0 = registered!.variable!;
  t.is(v0.version, 0 as VariableState['version']);

  const [set] = f.apply(setVar('x', str('b'), { metadata: { reason: 'r' } }));
  t.deepEqual(Object.keys(set!), ['event', 'previous', 'variable']);
  t.is(set!.previous, v0);
  t.deepEqual(v0.value, str('a'), 'the state before is not changed');
  t.deepEqual(v0.metadata, { owner: 'o' });

  const [deleted] = f.apply(deleteVar('x'));
  t.deepEqual(Object.keys(deleted!), ['event', 'previous', 'variable']);
  t.is(deleted!.previous, set!.variable);
  t.is(deleted!.variable, set!.variable, 'a delete reports the variable as deleted');

  const [closed] = f.apply(closeSession());
  t.deepEqual(Object.keys(closed!), ['event']);
});

test('a set leaves every field of the variable but value, version, metadata, modifiedRevision, updatedAt and modifiedBy as registered', (t) => {
  const f = feed();
  f.apply(createSession());
  const registered = f.apply(register('x', 'float', float(0.5), { constraints: { min: 0, max: 1 }, metadata: { owner: 'o' }, description: 'd' }))[0]!.variable!;
  const ctx2 = makeCtx({ now: makeCtx().now + 1000, actor: 'second' });
  const session = f.sessions.get(S1)!;
  const [event] = decide(session, setVar('x', float(0.75), { metadata: { reason: 'r' } }), ctx2);
  const after = applyInPlace(f.sessions, storedEvent(event!, 9 as Revision, 9 as Revision)).variable!;
  t.deepEqual(Object.keys(after), Object.keys(registered), 'one shape for every variable state');
  t.deepEqual(after, {
    ...registered,
    value: float(0.75),
    version: 1 as VariableState['version'],
    metadata: { owner: 'o', reason: 'r' },
    modifiedRevision: 9 as Revision,
    updatedAt: ctx2.now,
    modifiedBy: 'second',
  });
  t.is(after.constraints, registered.constraints);

  // Without metadata the variable keeps its metadata object as it was.
  const [plain] = decide(session, setVar('x', float(0.25)), ctx2);
  const next = applyInPlace(f.sessions, storedEvent(plain!, 10 as Revision, 10 as Revision)).variable!;
  t.is(next.metadata, after.metadata);
});
