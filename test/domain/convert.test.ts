/** Every conversion rule of src/domain/convert.ts, through convertValue and through decide. */
import test from 'ava';
import { convertValue, describeValue, DomainError, type Value, type VariableType } from '../../src/domain/index.js';
import { bool, float, given, int, register, setVar, str, tensor, throwsDomain, vec } from './fixtures.js';

const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);

function accepts(type: VariableType, input: Value, expected: Value) {
  test(`${type} accepts ${input.kind} ${describeValue(input)}${Object.is(input.kind === 'float' && input.value, -0) ? ' (-0)' : ''}`, (t) => {
    const out = convertValue(type, input);
    t.deepEqual(out, expected);
    // The same rule holds through register and set.
    const s = given(register('v', type, input));
    t.deepEqual(s.variable('v').value, expected);
    s.apply(setVar('v', input));
    t.deepEqual(s.variable('v').value, expected);
    t.is(Number(s.variable('v').version), 1);
  });
}

function refuses(type: VariableType, input: Value, message: string | RegExp) {
  test(`${type} refuses ${input.kind} ${describeValue(input)}: ${typeof message === 'string' ? message : String(message)}`, (t) => {
    throwsDomain(t, () => convertValue(type, input), 'invalid_value', message);
    throwsDomain(t, () => given().when(register('v', type, input)), 'invalid_value', message);
  });
}

// float
accepts('float', float(0.25), float(0.25));
accepts('float', int(3), float(3));
accepts('float', int(-7), float(-7));
accepts('float', str('1.5'), float(1.5));
accepts('float', str(' -2e3 '), float(-2000));
accepts('float', str('NaN'), float(NaN));
accepts('float', str('Infinity'), float(Infinity));
accepts('float', str('+Infinity'), float(Infinity));
accepts('float', str('-Infinity'), float(-Infinity));
accepts('float', float(NaN), float(NaN));
accepts('float', float(-Infinity), float(-Infinity));
refuses('float', str('abc'), 'Cannot convert "abc" to float');
refuses('float', str(''), 'Cannot convert "" to float');
refuses('float', str('infinity'), 'Cannot convert "infinity" to float');
refuses('float', str('1e999'), 'Cannot convert "1e999" to float');
refuses('float', bool(true), 'Cannot convert true to float');
refuses('float', vec([1]), 'Cannot convert vector of 1 to float');

// integer
accepts('integer', int(42), int(42));
accepts('integer', float(3), int(3));
accepts('integer', float(-0), int(0));
accepts('integer', float(1e15), int(1_000_000_000_000_000n));
accepts('integer', str('42'), int(42));
accepts('integer', str(' -17 '), int(-17));
accepts('integer', str('+5'), int(5));
accepts('integer', str('9223372036854775807'), int(INT64_MAX));
accepts('integer', str('-9223372036854775808'), int(INT64_MIN));
accepts('integer', int(INT64_MAX), int(INT64_MAX));
accepts('integer', int(INT64_MIN), int(INT64_MIN));
refuses('integer', float(1.5), 'Cannot convert 1.5 to integer');
refuses('integer', float(NaN), 'Cannot convert NaN to integer');
refuses('integer', float(Infinity), 'Cannot convert Infinity to integer');
refuses('integer', float(2 ** 63), 'Cannot convert 9223372036854776000 to integer');
refuses('integer', str('abc'), 'Cannot convert "abc" to integer');
refuses('integer', str('1.0'), 'Cannot convert "1.0" to integer');
refuses('integer', str('1e3'), 'Cannot convert "1e3" to integer');
refuses('integer', str('0x10'), 'Cannot convert "0x10" to integer');
refuses('integer', str('9223372036854775808'), 'Cannot convert "9223372036854775808" to integer');
refuses('integer', str('-9223372036854775809'), 'Cannot convert "-9223372036854775809" to integer');
refuses('integer', str('123456789012345678901'), 'Cannot convert "123456789012345678901" to integer');
refuses('integer', int(INT64_MAX + 1n), 'Cannot convert 9223372036854775808 to integer');
refuses('integer', int(INT64_MIN - 1n), 'Cannot convert -9223372036854775809 to integer');
refuses('integer', bool(false), 'Cannot convert false to integer');

// boolean
accepts('boolean', bool(true), bool(true));
accepts('boolean', bool(false), bool(false));
accepts('boolean', str('true'), bool(true));
accepts('boolean', str('false'), bool(false));
refuses('boolean', str('True'), 'Cannot convert "True" to boolean');
refuses('boolean', str('1'), 'Cannot convert "1" to boolean');
refuses('boolean', int(1), 'Cannot convert 1 to boolean');
refuses('boolean', float(0), 'Cannot convert 0 to boolean');

// string, choice, module: strict
for (const type of ['string', 'module'] as const) {
  accepts(type, str('héllo 🌍'), str('héllo 🌍'));
  accepts(type, str(''), str(''));
  refuses(type, int(1), `Cannot convert 1 to ${type}`);
  refuses(type, float(1.5), `Cannot convert 1.5 to ${type}`);
  refuses(type, bool(true), `Cannot convert true to ${type}`);
  refuses(type, vec([1, 2]), `Cannot convert vector of 2 to ${type}`);
}
test('choice accepts only strings', (t) => {
  t.deepEqual(convertValue('choice', str('gpt')), str('gpt'));
  throwsDomain(t, () => convertValue('choice', int(1)), 'invalid_value', 'Cannot convert 1 to choice');
  throwsDomain(t, () => convertValue('choice', bool(false)), 'invalid_value', 'Cannot convert false to choice');
});
test('a long string is shortened in the message', (t) => {
  const error = t.throws(() => convertValue('integer', str('x'.repeat(500))), { instanceOf: DomainError });
  t.is(error?.message, `Cannot convert "${'x'.repeat(60)}…" to integer`);
});

// embedding
accepts('embedding', vec([0.1, -2, 3e10]), vec([0.1, -2, 3e10]));
accepts('embedding', vec([]), vec([]));
refuses('embedding', vec([1, NaN]), 'Embedding element 1 is not a finite number');
refuses('embedding', vec([Infinity]), 'Embedding element 0 is not a finite number');
refuses('embedding', tensor([2], [1, 2]), 'Cannot convert tensor [2] to embedding');
refuses('embedding', str('[1,2]'), 'Cannot convert "[1,2]" to embedding');
refuses('embedding', float(1), 'Cannot convert 1 to embedding');

// tensor
accepts('tensor', tensor([2, 3], [1, 2, 3, 4, 5, 6], 'float32'), tensor([2, 3], [1, 2, 3, 4, 5, 6], 'float32'));
accepts('tensor', tensor([2], [1, 2], ''), tensor([2], [1, 2], 'float64'));
accepts('tensor', tensor([2, 2], [1, 0, 0, 1], 'int8'), tensor([2, 2], [1, 0, 0, 1], 'int8'));
accepts('tensor', vec([1, 2, 3]), tensor([3], [1, 2, 3], 'float64'));
refuses('tensor', tensor([2, 3], [1, 2, 3, 4, 5]), 'Tensor data has 5 values but shape [2,3] needs 6');
refuses('tensor', tensor([], []), 'Tensor shape is empty');
refuses('tensor', tensor([2], [1, 2], 'complex64'), /^Unknown tensor dtype "complex64"; use one of float16, float32/);
refuses('tensor', tensor([2], [1, NaN]), 'Tensor element 1 is not a finite number');
refuses('tensor', vec([1, -Infinity]), 'Tensor element 1 is not a finite number');
refuses('tensor', tensor([2], [1, 1.5], 'int32'), 'Tensor of dtype int32 holds a non-integer value');
refuses('tensor', float(1), 'Cannot convert 1 to tensor');
refuses('tensor', str('x'), 'Cannot convert "x" to tensor');

test('every listed dtype is accepted; integer dtypes need integers', (t) => {
  for (const dtype of ['float16', 'float32', 'float64', 'int8', 'int16', 'int32', 'int64', 'uint8', 'bool']) {
    t.like(convertValue('tensor', tensor([1], [1], dtype)), { dtype });
  }
  for (const dtype of ['int8', 'int16', 'int32', 'int64', 'uint8']) {
    throwsDomain(t, () => convertValue('tensor', tensor([1], [0.5], dtype)), 'invalid_value', `Tensor of dtype ${dtype} holds a non-integer value`);
  }
  t.like(convertValue('tensor', tensor([1], [0.5], 'float16')), { data: [0.5] });
});

test('set converts to the registered type, not to the input kind', (t) => {
  const s = given(register('f', 'float', int(1)), register('i', 'integer', float(2)), register('b', 'boolean', str('true')));
  t.deepEqual(s.variable('f').value, float(1));
  t.deepEqual(s.variable('i').value, int(2));
  t.deepEqual(s.variable('b').value, bool(true));
  throwsDomain(t, () => s.when(setVar('b', str('yes'))), 'invalid_value', 'Cannot convert "yes" to boolean');
  throwsDomain(t, () => s.when(setVar('i', float(0.5))), 'invalid_value', 'Cannot convert 0.5 to integer');
});
