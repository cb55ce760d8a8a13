import assert from 'node:assert/strict';
import test from 'ava';
import fc from 'fast-check';
import {
  decide,
  evolve,
  foldSessions,
  parseSessionId,
  type Command,
  type NewEvent,
  type SessionId,
  type SessionState,
  type StoredEvent,
  type Value,
  type VariableId,
} from '../../src/domain/index.js';
import { closeSession, createSession, deleteVar, expireSession, float, given, int, makeCtx, register, S1, setVar, str, stored, vec } from './fixtures.js';

test('evolve leaves the old state unchanged', (t) => {
  const s = given(register('x', 'float', float(0), { metadata: { owner: 'a' } }));
  const before = s.state!;
  const xBefore = s.variable('x');
  s.given(setVar('x', float(1), { metadata: { reason: 'r' } }), register('y', 'integer', int(1)), deleteVar('x'), closeSession());
  t.not(s.state, before);
  t.is(before.status, 'active');
  t.is(Number(before.modifiedRevision), 2);
  t.deepEqual([...before.names.keys()], ['x']);
  t.is(before.variables.get(xBefore.id), xBefore);
  t.deepEqual(xBefore.value, float(0));
  t.is(Number(xBefore.version), 0);
  t.deepEqual(xBefore.metadata, { owner: 'a' });
  t.is(s.state?.status, 'closed');
  t.deepEqual([...s.state!.names.keys()], ['y']);
});

test('evolve shares untouched variables between old and new state', (t) => {
  const s = given(register('x', 'float', float(0)), register('y', 'float', float(0)));
  const before = s.state!;
  s.given(setVar('y', float(1)));
  t.is(s.state!.variables.get('var_x_1' as VariableId), before.variables.get('var_x_1' as VariableId));
  t.not(s.state!.variables.get('var_y_2' as VariableId), before.variables.get('var_y_2' as VariableId));
});

test('evolve results are deeply frozen', (t) => {
  const s = given(register('x', 'float', float(0), { metadata: { owner: 'a' } }), setVar('x', float(1)));
  const state = s.state!;
  const x = s.variable('x');
  t.true(Object.isFrozen(state));
  t.true(Object.isFrozen(x));
  t.true(Object.isFrozen(x.metadata));
  t.true(Object.isFrozen(x.value));
  t.throws(() => {
    (state as { status: string }).status = 'closed';
  });
  t.throws(() => {
    (x.metadata as Record<string, string>).owner = 'b';
  });
  t.throws(() => (state.variables as Map<VariableId, unknown>).delete(x.id));
  t.throws(() => (state.names as Map<string, VariableId>).set('z', x.id));
  t.is(state.variables.size, 1);
});

test('a session created by its first event alone is frozen too', (t) => {
  const state = evolve(undefined, stored([{ kind: 'session_created', sessionId: S1, time: 1, actor: 'a', metadata: { k: 'v' }, ttlSeconds: 5 }], 1));
  t.true(Object.isFrozen(state));
  t.true(Object.isFrozen(state.metadata));
});

test('evolve does not change the events it folds', (t) => {
  const events = given().when(register('x', 'float', float(0), { metadata: { owner: 'a' } }));
  const copy = structuredClone(events);
  const s = given();
  s.givenEvents(...events);
  s.given(setVar('x', float(1), { metadata: { reason: 'r' } }));
  t.deepEqual(events, copy);
});

test('evolve refuses a history that does not start with session_created', (t) => {
  const events = stored([{ kind: 'session_closed', sessionId: S1, time: 1, actor: 'a' }], 1);
  t.throws(() => evolve(undefined, events), { message: /first event of a new session must be session_created/ });
  t.throws(() => foldSessions(events), { message: /event for unknown session s1/ });
});

test('evolve refuses a set or delete of an unknown variable and a second session_created', (t) => {
  const state = given(createSession()).state;
  const set = { kind: 'variable_set', sessionId: S1, time: 1, actor: 'a', variableId: 'var_q_1', version: 1, value: float(1), metadata: {} } as NewEvent;
  t.throws(() => evolve(state, stored([set], 2)), { message: /set of unknown variable var_q_1 \(revision 2\)/ });
  const created = { kind: 'session_created', sessionId: S1, time: 1, actor: 'a', metadata: {}, ttlSeconds: 1 } as NewEvent;
  t.throws(() => evolve(state, stored([created], 2)), { message: /created twice/ });
});

test('variables record who changed them and when; sessions record their newest event', (t) => {
  const events: NewEvent[] = [
    { kind: 'session_created', sessionId: S1, time: 100, actor: 'boot', metadata: {}, ttlSeconds: 60 },
    {
      kind: 'variable_registered',
      sessionId: S1,
      time: 200,
      actor: 'alice',
      variableId: 'var_x_1' as VariableId,
      version: 0 as never,
      name: 'x',
      type: 'float',
      value: float(0),
      constraints: {},
      metadata: {},
      description: '',
    },
    { kind: 'variable_set', sessionId: S1, time: 300, actor: 'bob', variableId: 'var_x_1' as VariableId, version: 1 as never, value: float(1), metadata: {} },
  ];
  const state = evolve(undefined, stored(events, 10));
  t.like(state, { createdAt: 100, createdRevision: 10, modifiedRevision: 12, modifiedAt: 300 });
  t.like(state.variables.get('var_x_1' as VariableId), { createdAt: 200, updatedAt: 300, modifiedBy: 'bob', createdRevision: 11, modifiedRevision: 12, version: 1 });
});

test('foldSessions folds many sessions at once and equals evolve per session', (t) => {
  const a = given(register('x', 'float', float(0)), setVar('x', float(1)));
  const b = given(createSession({ sessionId: parseSessionId('s2') }), register('v', 'embedding', vec([1, 2]), { sessionId: parseSessionId('s2') }));
  // Interleave: renumber both logs into one.
  const merged = [...a.log, ...b.log].map((e, i) => ({ ...e, revision: i + 1, commitId: i + 1 }) as StoredEvent);
  const folded = foldSessions(merged);
  t.deepEqual([...folded.keys()], ['s1', 's2']);
  t.deepEqual(folded.get('s1'), evolve(undefined, merged.filter((e) => e.sessionId === 's1')));
  t.deepEqual(folded.get('s2'), evolve(undefined, merged.filter((e) => e.sessionId === 's2')));
  t.true(Object.isFrozen(folded.get('s1')));
  t.true(Object.isFrozen(folded.get('s1')?.variables.get('var_x_1' as VariableId)));
});

// Property: over random valid command sequences, folding the whole log at once
// equals evolving commit by commit, and reads at a past revision equal a fold of the prefix.

const SESSIONS = ['s1', 's2'].map(parseSessionId);
/** Each name keeps one type, so most generated writes are valid and get folded. */
const TYPES = { a: 'float', b: 'integer', c: 'string', d: 'embedding' } as const;
const NAMES = Object.keys(TYPES) as (keyof typeof TYPES)[];

const valueFor = {
  float: fc.oneof(fc.double().map(float), fc.integer().map(int), fc.constantFrom('NaN', '-Infinity', '2.5').map(str)),
  integer: fc.oneof(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(int), fc.integer().map(float), fc.constant(str('1.5'))),
  string: fc.oneof(fc.string({ maxLength: 8 }).map(str), fc.constant(int(1))),
  embedding: fc.array(fc.double({ noNaN: true, noDefaultInfinity: true }), { maxLength: 3 }).map(vec),
} satisfies Record<(typeof TYPES)[keyof typeof TYPES], fc.Arbitrary<Value>>;

const target = fc.tuple(fc.constantFrom(...SESSIONS), fc.constantFrom(...NAMES));
const valueOf = (name: keyof typeof TYPES) => valueFor[TYPES[name]];

// Weights keep sessions alive long enough for many writes to succeed.
const commandArb: fc.Arbitrary<Command> = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom(...SESSIONS).map((sessionId) => createSession({ sessionId })) },
  {
    weight: 6,
    arbitrary: target.chain(([sessionId, name]) => valueOf(name).map((value) => register(name, TYPES[name], value, { sessionId }))),
  },
  {
    weight: 24,
    arbitrary: target.chain(([sessionId, name]) =>
      fc
        .tuple(valueOf(name), fc.dictionary(fc.constantFrom('k', 'reason'), fc.string({ maxLength: 3 }), { maxKeys: 2 }))
        .map(([value, metadata]) => setVar(name, value, { sessionId, metadata })),
    ),
  },
  { weight: 4, arbitrary: target.map(([sessionId, name]) => deleteVar(name, { sessionId })) },
  {
    weight: 1,
    arbitrary: fc.tuple(fc.constantFrom(...SESSIONS), fc.boolean()).map(([sessionId, close]) => (close ? closeSession(sessionId) : expireSession(sessionId))),
  },
);

test('property: foldSessions over the log equals evolving it commit by commit; past reads equal a prefix fold', (t) => {
  const kinds = new Map<string, number>();
  fc.assert(
    fc.property(fc.array(commandArb, { minLength: 10, maxLength: 50, size: 'max' }), (generated) => {
      // s1 starts with every variable registered; s2 is created by its first register.
      const commands = [
        createSession(),
        register('a', 'float', float(0)),
        register('b', 'integer', int(0)),
        register('c', 'string', str('')),
        register('d', 'embedding', vec([])),
        ...generated,
      ];
      const ctx = makeCtx();
      const live = new Map<SessionId, SessionState>();
      const snapshots: Map<SessionId, SessionState>[] = [];
      const log: StoredEvent[] = [];
      for (const command of commands) {
        let events: NewEvent[];
        try {
          events = decide(live.get(command.sessionId), command, ctx);
        } catch {
          continue; // refused commands write nothing
        }
        if (events.length === 0) continue;
        for (const e of events) kinds.set(e.kind, (kinds.get(e.kind) ?? 0) + 1);
        const batch = stored(events, log.length + 1);
        log.push(...batch);
        live.set(command.sessionId, evolve(live.get(command.sessionId), batch));
        snapshots[log.length] = new Map(live);
      }
      assert.deepStrictEqual(foldSessions(log), live);
      for (let r = 1; r <= log.length; r++) {
        const snapshot = snapshots[r];
        if (snapshot) assert.deepStrictEqual(foldSessions(log.slice(0, r)), snapshot);
      }
    }),
    { numRuns: 100, seed: 20260101 },
  );
  // Guard against a vacuous property: the generator must reach every event kind, and often.
  t.true([...kinds.values()].reduce((a, b) => a + b, 0) > 1000);
  t.is(kinds.size, 6);
});
