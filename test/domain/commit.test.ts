import test from 'ava';
import { CommitRejectedError, DomainError, LIMITS, type Operation } from '../../src/domain/index.js';
import { createSession, closeSession, deleteVar, float, given, int, register, Scenario, setVar, str, throwsDomain } from './fixtures.js';

test('atomic commit: all operations succeed; events in order, outcomes and counts per operation', (t) => {
  const s = given(register('a', 'float', float(0)), register('b', 'integer', int(0)));
  const decision = s.whenCommit([setVar('a', float(1)), setVar('b', int(2)), deleteVar('a')], true);
  t.deepEqual(
    decision.events.map((e) => [e.kind, 'variableId' in e ? e.variableId : '', 'version' in e ? e.version : -1]),
    [
      ['variable_set', 'var_a_1', 1],
      ['variable_set', 'var_b_2', 1],
      ['variable_deleted', 'var_a_1', 1],
    ],
  );
  t.deepEqual(decision.outcomes, [
    { ok: true, variableId: 'var_a_1' },
    { ok: true, variableId: 'var_b_2' },
    { ok: true, variableId: 'var_a_1' },
  ] as unknown as typeof decision.outcomes);
  t.deepEqual(decision.eventCounts, [1, 1, 1]);
});

test('atomic commit: the state it was decided on is not changed', (t) => {
  const s = given(register('a', 'float', float(0)));
  const before = s.state;
  s.whenCommit([setVar('a', float(1)), register('b', 'float', float(0))], true);
  t.is(s.state, before);
  t.is(Number(s.variable('a').version), 0);
  t.false(s.state?.names.has('b'));
});

test('a batch may register a variable and then set it; versions continue within the batch', (t) => {
  const s = given(createSession());
  const decision = s.whenCommit([register('x', 'float', float(0)), setVar('x', float(1)), setVar('var_x_1', float(2), { expectedVersion: 1 })], true);
  t.deepEqual(decision.events.map((e) => e.kind), ['variable_registered', 'variable_set', 'variable_set']);
  t.deepEqual(decision.events.map((e) => ('version' in e ? e.version : -1)), [0, 1, 2]);
  s.givenEvents(...decision.events);
  t.like(s.variable('x'), { version: 2, value: float(2) });
});

test('a batch into an unknown session made only of registers creates the session once', (t) => {
  const decision = new Scenario().whenCommit([register('a', 'float', float(0)), register('b', 'float', float(0))], true);
  t.deepEqual(decision.events.map((e) => e.kind), ['session_created', 'variable_registered', 'variable_registered']);
  t.deepEqual(decision.eventCounts, [2, 1]);
});

test('a batch into an unknown session may register and then set: the register creates the session', (t) => {
  const decision = new Scenario().whenCommit([register('a', 'float', float(0)), setVar('a', float(1))], true);
  t.deepEqual(decision.events.map((e) => e.kind), ['session_created', 'variable_registered', 'variable_set']);
});

test('a batch into an unknown session without a register is not_found', (t) => {
  throwsDomain(t, () => new Scenario().whenCommit([setVar('a', float(1))], true), 'not_found', 'Session not found: s1');
});

test('an empty batch on an active session decides nothing', (t) => {
  t.deepEqual(given(createSession()).whenCommit([], true), { events: [], outcomes: [], eventCounts: [] });
});

test('a batch may delete a variable and register its name again', (t) => {
  const s = given(register('x', 'float', float(0)));
  const decision = s.whenCommit([deleteVar('x'), register('x', 'string', str('new'))], true);
  t.deepEqual(decision.outcomes.map((o) => o.ok && o.variableId), ['var_x_1', 'var_x_2']);
});

test('atomic commit: any failure throws CommitRejectedError listing every failing operation, and returns no events', (t) => {
  const s = given(register('a', 'float', float(0), { constraints: { max: 1 } }), register('b', 'integer', int(0)));
  const ops: Operation[] = [
    setVar('a', float(0.5)),
    setVar('a', float(1.5)),
    setVar('b', str('abc')),
    setVar('missing', float(1)),
    register('b', 'float', float(0)),
    setVar('b', int(1), { expectedVersion: 7 }),
  ];
  let decided: unknown;
  const error = t.throws(
    () => {
      decided = s.whenCommit(ops, true);
    },
    { instanceOf: CommitRejectedError },
  );
  t.is(decided, undefined);
  t.true(error instanceof DomainError);
  t.deepEqual(
    error?.failures.map((f) => [f.index, f.identifier, f.error.code, f.error.message]),
    [
      [1, 'a', 'invalid_value', 'Value 1.5 is above maximum 1'],
      [2, 'b', 'invalid_value', 'Cannot convert "abc" to integer'],
      [3, 'missing', 'not_found', 'Variable not found: missing'],
      [4, 'b', 'already_exists', 'Variable already exists: b'],
      [5, 'b', 'version_conflict', 'Version conflict on b: expected 7, current 0'],
    ],
  );
  t.is(error?.code, 'invalid_value', 'the code of the first failure');
  t.is(
    error?.message,
    'Commit rejected, 5 of its operations failed: [1] a: Value 1.5 is above maximum 1; [2] b: Cannot convert "abc" to integer; ' +
      '[3] missing: Variable not found: missing; [4] b: Variable already exists: b; [5] b: Version conflict on b: expected 7, current 0',
  );
});

test('atomic commit: a later operation sees the effect of an earlier successful one', (t) => {
  const s = given(register('a', 'float', float(0)));
  const error = t.throws(() => s.whenCommit([setVar('a', float(1)), setVar('a', float(2), { expectedVersion: 0 })], true), {
    instanceOf: CommitRejectedError,
  });
  t.deepEqual(error?.failures.map((f) => f.error.message), ['Version conflict on a: expected 0, current 1']);
});

test('non-atomic commit: successes are returned, failures reported per operation', (t) => {
  const s = given(register('a', 'float', float(0)), register('b', 'integer', int(0)));
  const decision = s.whenCommit([setVar('a', float(1)), setVar('b', str('abc')), register('c', 'string', str('hi')), deleteVar('zzz'), setVar('b', int(3))], false);
  t.deepEqual(decision.events.map((e) => [e.kind, 'variableId' in e ? e.variableId : '']), [
    ['variable_set', 'var_a_1'],
    ['variable_registered', 'var_c_3'],
    ['variable_set', 'var_b_2'],
  ]);
  t.deepEqual(decision.eventCounts, [1, 0, 1, 0, 1]);
  t.deepEqual(
    decision.outcomes.map((o) => (o.ok ? o.variableId : `${o.error.code}: ${o.error.message}`)),
    ['var_a_1', 'invalid_value: Cannot convert "abc" to integer', 'var_c_3', 'not_found: Variable not found: zzz', 'var_b_2'],
  );
});

test('non-atomic commit: a failed operation leaves no trace for later ones', (t) => {
  const s = given(register('a', 'float', float(0), { constraints: { max: 1 } }));
  const decision = s.whenCommit([setVar('a', float(5)), setVar('a', float(1), { expectedVersion: 0 })], false);
  t.deepEqual(decision.eventCounts, [0, 1]);
  t.like(decision.events[0], { kind: 'variable_set', version: 1 });
});

test('non-atomic commit into an unknown session: the first successful register creates it', (t) => {
  const decision = new Scenario().whenCommit([register('a', 'integer', str('x')), register('b', 'float', float(0))], false);
  t.deepEqual(decision.eventCounts, [0, 2]);
  t.deepEqual(decision.events.map((e) => e.kind), ['session_created', 'variable_registered']);
});

test('non-atomic commit where everything fails returns no events', (t) => {
  const decision = given(createSession()).whenCommit([setVar('x', float(1)), deleteVar('y')], false);
  t.deepEqual(decision.events, []);
  t.deepEqual(decision.eventCounts, [0, 0]);
  t.true(decision.outcomes.every((o) => !o.ok));
});

test('a commit on a closed session is refused as a whole', (t) => {
  throwsDomain(t, () => given(createSession(), closeSession()).whenCommit([register('x', 'float', float(0))], false), 'session_ended', 'Session closed: s1');
});

test('a commit over the operation limit is too_large', (t) => {
  const ops = Array.from({ length: LIMITS.commitOperations + 1 }, () => setVar('x', float(1)));
  throwsDomain(t, () => given(createSession()).whenCommit(ops, false), 'too_large', 'Commit has 10001 operations; the limit is 10000');
});

test('size limits inside a commit are per-operation failures', (t) => {
  const s = given(createSession());
  const huge = { big: 'x'.repeat(LIMITS.metadataBytes) };
  const decision = s.whenCommit([register('a', 'float', float(0), { metadata: huge }), register('b', 'float', float(0))], false);
  t.deepEqual(decision.eventCounts, [0, 1]);
  const first = decision.outcomes[0];
  t.is(first?.ok === false ? first.error.code : undefined, 'too_large');
  const error = t.throws(() => s.whenCommit([register('a', 'float', float(0), { metadata: huge })], true), { instanceOf: CommitRejectedError });
  t.is(error?.code, 'too_large');
  t.is(error?.failures[0]?.identifier, 'a');
});
