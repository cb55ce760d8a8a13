/** Constraint messages from DESIGN.md's error table, and the registration-time checks. */
import test from 'ava';
import { checkConstraints, type Constraints, type Value, type VariableType } from '../../src/domain/index.js';
import { bool, float, given, int, register, setVar, str, tensor, throwsDomain, vec } from './fixtures.js';

/** Registers with a valid initial value, then sets `bad`: the message must match, and nothing changes. */
function violates(type: VariableType, constraints: Constraints, ok: Value, bad: Value, message: string) {
  test(`${type} ${JSON.stringify(constraints)}: ${message}`, (t) => {
    const s = given(register('v', type, ok, { constraints }));
    throwsDomain(t, () => s.when(setVar('v', bad)), 'invalid_value', message);
    // The same value is refused as an initial value too.
    throwsDomain(t, () => given().when(register('w', type, bad, { constraints })), 'invalid_value', message);
    t.is(Number(s.variable('v').version), 0);
  });
}

violates('float', { min: 0, max: 1 }, float(0.5), float(1.5), 'Value 1.5 is above maximum 1');
violates('float', { min: 0, max: 1 }, float(0.5), float(-0.25), 'Value -0.25 is below minimum 0');
violates('float', { min: 0.5 }, float(0.5), str('0.4'), 'Value 0.4 is below minimum 0.5');
violates('integer', { max: 10 }, int(10), int(11), 'Value 11 is above maximum 10');
violates('integer', { min: -1.5 }, int(-1), int(-2), 'Value -2 is below minimum -1.5');
violates('integer', { max: 1.5 }, int(1), int(2), 'Value 2 is above maximum 1.5');
violates('choice', { choices: ['a', 'b'] }, str('a'), str('c'), 'Value "c" not in allowed choices: "a", "b"');
violates('module', { choices: ['Predict', 'ChainOfThought'] }, str('Predict'), str('React'), 'Value "React" not in allowed choices: "Predict", "ChainOfThought"');
violates('string', { minLength: 3 }, str('abc'), str('a'), 'String too short: 1 < 3');
violates('string', { maxLength: 3 }, str('abc'), str('abcd'), 'String too long: 4 > 3');
violates('string', { pattern: '[a-z]+' }, str('abc'), str('abc1'), 'Value "abc1" does not match pattern "[a-z]+"');
violates('embedding', { dimensions: 5 }, vec([1, 2, 3, 4, 5]), vec([1, 2]), 'Wrong dimensions: 2 != 5');
violates('tensor', { shape: [2, 3] }, tensor([2, 3], [1, 2, 3, 4, 5, 6]), tensor([2, 2], [1, 2, 3, 4]), 'Wrong shape: [2,2] != [2,3]');
violates('tensor', { shape: [3] }, vec([1, 2, 3]), vec([1, 2]), 'Wrong shape: [2] != [3]');
violates('float', { min: 0 }, float(1), float(NaN), 'Value NaN is not allowed when min or max is set');
violates('float', { max: 1 }, float(1), float(Infinity), 'Value Infinity is not allowed when min or max is set');
violates('float', { min: -1, max: 1 }, float(1), str('-Infinity'), 'Value -Infinity is not allowed when min or max is set');

test('bounds are inclusive', (t) => {
  const s = given(register('f', 'float', float(0), { constraints: { min: 0, max: 1 } }), register('i', 'integer', int(-3), { constraints: { min: -3, max: 3 } }));
  t.notThrows(() => s.apply(setVar('f', float(1))));
  t.notThrows(() => s.apply(setVar('i', int(3))));
  t.notThrows(() => s.apply(setVar('i', str('-3'))));
});

test('NaN and ±Infinity are allowed for a float without min/max', (t) => {
  const s = given(register('f', 'float', float(NaN)));
  for (const v of [float(Infinity), float(-Infinity), str('NaN')]) s.apply(setVar('f', v));
  t.true(Number.isNaN((s.variable('f').value as { value: number }).value));
  t.is(Number(s.variable('f').version), 3);
});

test('integers are compared with bounds exactly, beyond 2^53', (t) => {
  // 2^53 + 1 is not a double; as a Number it would round to 2^53 and pass.
  const s = given(register('n', 'integer', int(0), { constraints: { max: 2 ** 53 } }));
  t.notThrows(() => s.when(setVar('n', int(2n ** 53n))));
  throwsDomain(t, () => s.when(setVar('n', int(2n ** 53n + 1n))), 'invalid_value', 'Value 9007199254740993 is above maximum 9007199254740992');
  const low = given(register('n', 'integer', int(0), { constraints: { min: -(2 ** 53) } }));
  throwsDomain(t, () => low.when(setVar('n', int(-(2n ** 53n) - 1n))), 'invalid_value', 'Value -9007199254740993 is below minimum -9007199254740992');
});

test('int64 max against a max of 2^63-1 (which rounds up to 2^63 as a double) is allowed', (t) => {
  const max = 2 ** 63 - 1; // === 2^63 as a double
  const s = given(register('n', 'integer', int(2n ** 63n - 1n), { constraints: { max, min: -(2 ** 63) } }));
  t.is((s.variable('n').value as { value: bigint }).value, 2n ** 63n - 1n);
  t.notThrows(() => s.when(setVar('n', str('-9223372036854775808'))));
  const tight = given(register('n', 'integer', int(0), { constraints: { max: 2 ** 62 } }));
  throwsDomain(t, () => tight.when(setVar('n', int(2n ** 63n - 1n))), 'invalid_value', `Value 9223372036854775807 is above maximum ${2 ** 62}`);
});

test('infinite bounds are allowed and behave as no bound', (t) => {
  const s = given(register('n', 'integer', int(0), { constraints: { min: -Infinity, max: Infinity } }), register('f', 'float', float(0), { constraints: { max: Infinity } }));
  t.notThrows(() => s.when(setVar('n', int(2n ** 63n - 1n))));
  t.notThrows(() => s.when(setVar('n', int(-(2n ** 63n)))));
  t.notThrows(() => s.when(setVar('f', float(1e308))));
});

test('string length counts code points, not UTF-16 units', (t) => {
  const s = given(register('s', 'string', str('🌍🌍'), { constraints: { minLength: 2, maxLength: 2 } }));
  t.notThrows(() => s.when(setVar('s', str('éé'))));
  throwsDomain(t, () => s.when(setVar('s', str('🌍🌍🌍'))), 'invalid_value', 'String too long: 3 > 2');
});

test('patterns match the whole string and use unicode mode', (t) => {
  const s = given(register('s', 'string', str('ab'), { constraints: { pattern: 'a|ab' } }));
  t.notThrows(() => s.when(setVar('s', str('a'))));
  throwsDomain(t, () => s.when(setVar('s', str('abc'))), 'invalid_value', 'Value "abc" does not match pattern "a|ab"');
  const u = given(register('s', 'string', str('π'), { constraints: { pattern: '\\p{L}' } }));
  throwsDomain(t, () => u.when(setVar('s', str('1'))), 'invalid_value', /does not match pattern/);
});

test('module choices are optional; choice choices are required', (t) => {
  t.notThrows(() => given(register('m', 'module', str('anything'))));
  throwsDomain(t, () => given().when(register('c', 'choice', str('a'))), 'invalid_value', 'A choice variable needs at least one choice');
  throwsDomain(t, () => given().when(register('c', 'choice', str('a'), { constraints: { choices: [] } })), 'invalid_value', 'A choice variable needs at least one choice');
});

const notFitting: [VariableType, Constraints, string][] = [
  ['float', { minLength: 1 }, 'min_length'],
  ['float', { choices: ['a'] }, 'choices'],
  ['integer', { pattern: 'x' }, 'pattern'],
  ['string', { min: 0 }, 'min'],
  ['string', { dimensions: 3 }, 'dimensions'],
  ['boolean', { max: 1 }, 'max'],
  ['choice', { choices: ['a'], maxLength: 3 }, 'max_length'],
  ['module', { shape: [2] }, 'shape'],
  ['embedding', { shape: [2] }, 'shape'],
  ['tensor', { dimensions: 2 }, 'dimensions'],
];
for (const [type, constraints, key] of notFitting) {
  test(`registration refuses ${key} on a ${type} variable`, (t) => {
    const message = `Constraint ${key} does not apply to ${type} variables`;
    throwsDomain(t, () => checkConstraints(type, constraints), 'invalid_value', message);
    throwsDomain(t, () => given().when(register('v', type, str('a'), { constraints })), 'invalid_value', message);
  });
}

test('empty lists do not count as a constraint', (t) => {
  t.notThrows(() => checkConstraints('float', { choices: [], shape: [] }));
});

test('registration refuses min > max and min_length > max_length', (t) => {
  throwsDomain(t, () => given().when(register('v', 'float', float(1), { constraints: { min: 2, max: 1 } })), 'invalid_value', 'Constraint min 2 is greater than max 1');
  throwsDomain(t, () => given().when(register('v', 'integer', int(1), { constraints: { min: 2, max: 1 } })), 'invalid_value', 'Constraint min 2 is greater than max 1');
  throwsDomain(
    t,
    () => given().when(register('v', 'string', str('a'), { constraints: { minLength: 3, maxLength: 2 } })),
    'invalid_value',
    'Constraint min_length 3 is greater than max_length 2',
  );
  t.notThrows(() => checkConstraints('float', { min: 1, max: 1 }));
});

test('registration refuses NaN bounds', (t) => {
  throwsDomain(t, () => checkConstraints('float', { min: NaN }), 'invalid_value', 'Constraint min must be a number');
  throwsDomain(t, () => checkConstraints('integer', { max: NaN }), 'invalid_value', 'Constraint max must be a number');
});

test('registration refuses a bad or huge regular expression', (t) => {
  throwsDomain(t, () => given().when(register('v', 'string', str('a'), { constraints: { pattern: '([a-z' } })), 'invalid_value', /^Constraint pattern is not a valid regular expression: "\(\[a-z" \(missing closing \]/);
  throwsDomain(t, () => checkConstraints('string', { pattern: '\\p{Nope}' }), 'invalid_value', /not a valid regular expression/);
  throwsDomain(t, () => checkConstraints('string', { pattern: 'a'.repeat(1025) }), 'invalid_value', 'Constraint pattern is longer than 1024');
});

test('registration refuses empty dimensions, empty shape dimensions and too many choices', (t) => {
  throwsDomain(t, () => checkConstraints('embedding', { dimensions: 0 }), 'invalid_value', 'Constraint dimensions must be at least 1');
  throwsDomain(t, () => checkConstraints('tensor', { shape: [2, 0] }), 'invalid_value', 'Constraint shape has an empty dimension: [2,0]');
  const choices = Array.from({ length: 1025 }, (_, i) => `c${i}`);
  throwsDomain(t, () => checkConstraints('choice', { choices }), 'invalid_value', 'Too many choices: more than 1024');
});

test('the initial value must honour the constraints', (t) => {
  throwsDomain(t, () => given().when(register('c', 'choice', str('z'), { constraints: { choices: ['a'] } })), 'invalid_value', 'Value "z" not in allowed choices: "a"');
  throwsDomain(t, () => given().when(register('b', 'boolean', bool(true), { constraints: { min: 0 } })), 'invalid_value', 'Constraint min does not apply to boolean variables');
});
