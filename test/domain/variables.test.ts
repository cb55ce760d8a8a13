import test from 'ava';
import { LIMITS, MAX_NAME_LENGTH, parseIdentifier, parseVariableName, parseVersion } from '../../src/domain/index.js';
import {
  ACTOR,
  createSession,
  deleteVar,
  float,
  given,
  int,
  makeCtx,
  NOW,
  register,
  S1,
  Scenario,
  setVar,
  str,
  throwsDomain,
} from './fixtures.js';

test('register: into an unknown session creates it first, with the default TTL', (t) => {
  const events = new Scenario().when(register('temperature', 'float', float(0.7), { metadata: { unit: 'none' }, description: 'sampling' }));
  t.deepEqual(events, [
    { kind: 'session_created', sessionId: S1, time: NOW, actor: ACTOR, metadata: {}, ttlSeconds: 3600 },
    {
      kind: 'variable_registered',
      sessionId: S1,
      time: NOW,
      actor: ACTOR,
      variableId: 'var_temperature_1',
      version: 0,
      name: 'temperature',
      type: 'float',
      value: float(0.7),
      constraints: {},
      metadata: { unit: 'none' },
      description: 'sampling',
    },
  ] as unknown as typeof events);
});

test('register: into an existing session records only variable_registered, version 0', (t) => {
  const s = given(createSession());
  const events = s.apply(register('seed', 'integer', int(42)));
  t.is(events.length, 1);
  t.like(events[0], { kind: 'variable_registered', variableId: 'var_seed_1', version: 0 });
  t.like(s.variable('seed'), {
    id: 'var_seed_1',
    sessionId: S1,
    name: 'seed',
    type: 'integer',
    value: int(42),
    version: 0,
    createdRevision: 2,
    modifiedRevision: 2,
    createdAt: NOW,
    updatedAt: NOW,
    modifiedBy: ACTOR,
  });
});

test('register: ids are var_<name>_<suffix>, one fresh suffix per variable', (t) => {
  const s = given(register('a', 'float', float(1)), register('b', 'float', float(1)));
  t.deepEqual([...s.state!.variables.keys()], ['var_a_1', 'var_b_2']);
});

test('register: a suffix that would repeat a live id is drawn again', (t) => {
  // Name "a" + suffix "1_2" and name "a_1" + suffix "2" spell the same id.
  const suffixes = ['1_2', '2', '3'];
  const s = new Scenario({ ...makeCtx(), newIdSuffix: () => suffixes.shift() ?? 'spent' });
  s.given(register('a', 'float', float(1)));
  t.is(String(s.variable('a').id), 'var_a_1_2');
  t.like(s.when(register('a_1', 'float', float(1)))[0], { variableId: 'var_a_1_3' });
});

test('register: a name taken by a live variable is already_exists', (t) => {
  throwsDomain(
    t,
    () => given(register('x', 'float', float(1))).when(register('x', 'integer', int(1))),
    'already_exists',
    'Variable already exists: x',
  );
});

test('register: a name freed by delete can be reused and gets a new id', (t) => {
  const s = given(register('x', 'float', float(1)), setVar('x', float(2)), deleteVar('x'));
  t.is(s.state?.variables.size, 0);
  t.false(s.state?.names.has('x'));
  s.apply(register('x', 'string', str('again')));
  const x = s.variable('x');
  t.is(String(x.id), 'var_x_2');
  t.is(Number(x.version), 0);
  t.deepEqual(x.value, str('again'));
  throwsDomain(t, () => s.when(setVar('var_x_1', str('old id'))), 'not_found', 'Variable not found: var_x_1');
});

test('register: a long description is too_large', (t) => {
  throwsDomain(
    t,
    () => new Scenario().when(register('x', 'float', float(1), { description: 'd'.repeat(LIMITS.descriptionLength + 1) })),
    'too_large',
    /description is longer than/,
  );
});

test('register: metadata over the byte limit is too_large and creates nothing', (t) => {
  const s = given(createSession());
  throwsDomain(
    t,
    () => s.when(register('x', 'float', float(1), { metadata: { big: 'é'.repeat(LIMITS.metadataBytes / 2) } })),
    'too_large',
    /metadata is 65539 bytes; the limit is 65536/,
  );
  t.is(s.state?.variables.size, 0);
});

test('set: version goes up by one per set; value, actor and revision follow', (t) => {
  const s = given(register('x', 'float', float(0.1)));
  const [first] = s.apply(setVar('x', float(0.2)));
  t.like(first, { kind: 'variable_set', variableId: 'var_x_1', version: 1, value: float(0.2), time: NOW, actor: ACTOR });
  s.apply(setVar('x', float(0.3)));
  t.like(s.variable('x'), { version: 2, value: float(0.3), modifiedRevision: 4, createdRevision: 2 });
});

test('set: converts the value to the variable type', (t) => {
  const [event] = given(register('n', 'integer', int(1))).when(setVar('n', str('17')));
  t.like(event, { value: int(17) });
});

test('set: the update metadata is merged into the variable metadata', (t) => {
  const s = given(register('x', 'float', float(1), { metadata: { owner: 'a', unit: 'k' } }));
  const [event] = s.apply(setVar('x', float(2), { metadata: { reason: 'tuning', owner: 'b' } }));
  t.deepEqual(event && 'metadata' in event ? event.metadata : undefined, { reason: 'tuning', owner: 'b' });
  t.deepEqual(s.variable('x').metadata, { owner: 'b', unit: 'k', reason: 'tuning' });
  s.apply(setVar('x', float(3)));
  t.deepEqual(s.variable('x').metadata, { owner: 'b', unit: 'k', reason: 'tuning' });
});

test('set: by id and by name reach the same variable', (t) => {
  const s = given(register('x', 'float', float(1)));
  s.apply(setVar('var_x_1', float(2)));
  s.apply(setVar('x', float(3)));
  t.like(s.variable('x'), { version: 2, value: float(3) });
});

test('set: an id wins over a name that looks like it', (t) => {
  // A variable literally named like another's id: lookup by id comes first.
  const s = given(register('a', 'float', float(1)), register('var_a_1', 'float', float(10)));
  const [event] = s.when(setVar('var_a_1', float(5)));
  t.like(event, { variableId: 'var_a_1' });
});

test('set: an unknown variable is not_found', (t) => {
  throwsDomain(t, () => given(createSession()).when(setVar('x', float(1))), 'not_found', 'Variable not found: x');
});

test('set: expected_version must match the current version', (t) => {
  const s = given(register('x', 'float', float(0)));
  for (let i = 1; i <= 5; i++) s.apply(setVar('x', float(i)));
  throwsDomain(t, () => s.when(setVar('x', float(9), { expectedVersion: 3 })), 'version_conflict', 'Version conflict on x: expected 3, current 5');
  throwsDomain(t, () => s.when(setVar('var_x_1', float(9), { expectedVersion: 6 })), 'version_conflict', 'Version conflict on x: expected 6, current 5');
  t.like(s.when(setVar('x', float(9), { expectedVersion: 5 }))[0], { version: 6 });
});

test('set: expected_version 0 matches a fresh variable', (t) => {
  t.like(given(register('x', 'float', float(0))).when(setVar('x', float(1), { expectedVersion: 0 }))[0], { version: 1 });
});

test('set: a value that fails conversion or constraints is refused before the version check matters', (t) => {
  const s = given(register('x', 'float', float(0.5), { constraints: { min: 0, max: 1 } }));
  throwsDomain(t, () => s.when(setVar('x', float(1.5))), 'invalid_value', 'Value 1.5 is above maximum 1');
  throwsDomain(t, () => s.when(setVar('x', str('abc'))), 'invalid_value', 'Cannot convert "abc" to float');
  t.is(Number(s.variable('x').version), 0);
});

test('set: update metadata over the limit is too_large', (t) => {
  const metadata = Object.fromEntries(Array.from({ length: LIMITS.metadataEntries + 1 }, (_, i) => [`k${i}`, '']));
  throwsDomain(t, () => given(register('x', 'float', float(0))).when(setVar('x', float(1), { metadata })), 'too_large', 'metadata has 257 entries; the limit is 256');
});

test('delete: records variable_deleted with the current version and frees the name', (t) => {
  const s = given(register('x', 'float', float(0)), setVar('x', float(1)));
  const events = s.apply(deleteVar('x', { metadata: { reason: 'cleanup' } }));
  t.deepEqual(events, [
    { kind: 'variable_deleted', sessionId: S1, time: NOW, actor: ACTOR, variableId: 'var_x_1', version: 1, metadata: { reason: 'cleanup' } },
  ] as unknown as typeof events);
  t.is(s.state?.variables.size, 0);
  t.is(s.state?.names.size, 0);
  throwsDomain(t, () => s.when(deleteVar('x')), 'not_found', 'Variable not found: x');
  throwsDomain(t, () => s.when(setVar('x', float(1))), 'not_found', 'Variable not found: x');
});

test('delete: by id, with expected_version', (t) => {
  const s = given(register('x', 'float', float(0)), setVar('x', float(1)));
  throwsDomain(t, () => s.when(deleteVar('var_x_1', { expectedVersion: 0 })), 'version_conflict', 'Version conflict on x: expected 0, current 1');
  t.like(s.when(deleteVar('var_x_1', { expectedVersion: 1 }))[0], { kind: 'variable_deleted', variableId: 'var_x_1' });
});

test('delete: leaves the other variables alone', (t) => {
  const s = given(register('a', 'float', float(0)), register('b', 'float', float(1)), deleteVar('a'));
  t.deepEqual([...s.state!.names.keys()], ['b']);
  t.is(Number(s.variable('b').version), 0);
});

test('names, identifiers and versions are parsed', (t) => {
  throwsDomain(t, () => parseVariableName(''), 'invalid_request', 'name is required');
  throwsDomain(t, () => parseVariableName('x'.repeat(MAX_NAME_LENGTH + 1)), 'invalid_request', /longer than 256/);
  throwsDomain(t, () => parseIdentifier('a\u0000'), 'invalid_request', /control characters/);
  throwsDomain(t, () => parseVersion(-1), 'invalid_request', 'Invalid version: -1');
  throwsDomain(t, () => parseVersion(2n ** 60n), 'invalid_request', /Invalid version/);
  t.is(Number(parseVersion(3n)), 3);
});

test('set: the limits hold for the merged metadata, so repeated sets cannot grow it without bound', (t) => {
  const half = Object.fromEntries(Array.from({ length: LIMITS.metadataEntries / 2 }, (_, i) => [`a${i}`, '']));
  const otherHalf = Object.fromEntries(Array.from({ length: LIMITS.metadataEntries / 2 }, (_, i) => [`b${i}`, '']));
  const s = given(register('x', 'float', float(0), { metadata: half }), setVar('x', float(1), { metadata: otherHalf }));
  t.is(Object.keys(s.variable('x').metadata).length, LIMITS.metadataEntries);
  // Overwriting existing keys is fine; one new key is one too many.
  t.notThrows(() => s.when(setVar('x', float(2), { metadata: { a0: 'again' } })));
  throwsDomain(t, () => s.when(setVar('x', float(2), { metadata: { c0: '' } })), 'too_large', 'merged metadata has 257 entries; the limit is 256');
});
