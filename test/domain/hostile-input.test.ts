/**
 * The domain's bounds on hostile input: one tensor rule (rank, dimensions,
 * nested size) wherever a tensor enters, constraint patterns that RE2 can
 * run in linear time, and globs matched without backtracking.
 */
import test from 'ava';
import fc from 'fast-check';
import { checkConstraints, checkTensorShape, compileGlob, compilePattern, LIMITS, nestedTensorSize } from '../../src/domain/index.js';
import { given, register, setVar, str, tensor, throwsDomain, vec } from './fixtures.js';

test('a tensor shape whose nested lists would be huge is refused, even with no element', (t) => {
  const s = given(register('t', 'tensor', tensor([1], [0])));
  for (const shape of [[4294967295, 0], [1e7, 0], [2, 2 ** 20, 0], [2 ** 20, 0]]) {
    throwsDomain(t, () => s.when(setVar('t', tensor(shape, []))), 'invalid_value', /must hold whole sizes from 0 to 1048576|is too large/);
    throwsDomain(t, () => given().when(register('u', 'tensor', tensor(shape, []))), 'invalid_value', /Tensor shape/);
  }
  // 100,000 numbers in 31 levels of single lists are 3 million lists.
  throwsDomain(t, () => checkTensorShape([100_000, ...Array<number>(30).fill(1)]), 'invalid_value', /is too large/);
  t.notThrows(() => checkTensorShape([1000, 0]));
  t.notThrows(() => checkTensorShape([1000, 1000]));
});

test('a tensor has at most 32 dimensions, as a value and as a shape constraint', (t) => {
  const deep = Array<number>(33).fill(1);
  throwsDomain(t, () => given().when(register('t', 'tensor', tensor(deep, [1]))), 'invalid_value', 'Tensor shape has 33 dimensions; the limit is 32');
  throwsDomain(t, () => checkConstraints('tensor', { shape: deep }), 'invalid_value', 'Constraint shape has 33 dimensions; the limit is 32');
  const s = given(register('t', 'tensor', tensor(Array<number>(32).fill(1), [7])));
  t.deepEqual(s.variable('t').value, tensor(Array<number>(32).fill(1), [7]));
  throwsDomain(t, () => given().when(register('v', 'tensor', vec(Array<number>(LIMITS.tensorSize).fill(0)))), 'invalid_value', /is too large/);
});

test('nestedTensorSize counts lists and numbers, stops early and never overflows', (t) => {
  t.is(nestedTensorSize([2, 3]), 1 + 2 + 6);
  t.is(nestedTensorSize([5, 0, 7]), 1 + 5);
  t.is(nestedTensorSize([2 ** 53, 2 ** 53, 2 ** 53]), Infinity);
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 6 }), { minLength: 1, maxLength: 6 }), (shape) => {
      let expected = 1;
      let level = 1;
      for (const d of shape) {
        level *= d;
        expected += level;
        if (level === 0) break;
      }
      return nestedTensorSize(shape) === expected;
    }),
    { seed: 11 },
  );
});

test('patterns that backtrack for seconds in JavaScript answer correctly under RE2', (t) => {
  const hostile = `${'a'.repeat(30)}!`;
  for (const source of ['(a+)+$', '(a|aa)+$']) {
    const s = given(register('s', 'string', str('aaa'), { constraints: { pattern: source } }));
    throwsDomain(t, () => s.when(setVar('s', str(hostile))), 'invalid_value', /does not match pattern/);
    t.is(s.when(setVar('s', str('a'.repeat(31)))).length, 1);
  }
});

test('a pattern RE2 cannot run is refused at registration with the reason', (t) => {
  throwsDomain(t, () => checkConstraints('string', { pattern: '(a)\\1' }), 'invalid_value', /not a valid regular expression: "\(a\)\\\\1" \(invalid escape sequence: `\\1`\); .*without backreferences or lookaround$/);
  throwsDomain(t, () => checkConstraints('string', { pattern: '(?=a)a' }), 'invalid_value', /not a valid regular expression: .*\(\?=/);
  throwsDomain(t, () => checkConstraints('string', { pattern: '(?<=a)b' }), 'invalid_value', /not a valid regular expression/);
  // JavaScript spellings RE2 lacks are translated.
  t.true(compilePattern('caf\\u00e9').matches('café'));
  t.true(compilePattern('(?<word>[a-z]+)').matches('abc'));
  t.false(compilePattern('a|ab').matches('abc'));
});

test('globs: * is any run, ? one character, everything else literal', (t) => {
  const cases: [string, string, boolean][] = [
    ['', 'anything', true],
    ['*', '', true],
    ['temp*', 'temperature', true],
    ['*ure', 'temperature', true],
    ['t?mp*', 'temp', true],
    ['t?mp', 'tmp', false],
    ['a*a', 'a', false],
    ['a*a', 'aa', true],
    ['*a*b*', 'xxaxxbxx', true],
    ['*a*b*', 'xxbxxaxx', false],
    ['[ab]', 'a', false],
    ['[ab]', '[ab]', true],
    ['{a,b}', '{a,b}', true],
    ['?', 'π', true],
    ['?', '😀', true],
    ['x/*', 'x/y/z', true],
    ['.*', '.hidden', true],
  ];
  for (const [pattern, name, expected] of cases) t.is(compileGlob(pattern)(name), expected, `${pattern} ~ ${name}`);
});

test('globs agree with a reference matcher on random input', (t) => {
  // A plain dynamic-programming matcher: obviously right, too slow to serve.
  const reference = (pattern: string, name: string) => {
    const p = [...pattern];
    const s = [...name];
    let row = Array<boolean>(s.length + 1).fill(false);
    row[0] = true;
    for (const c of p) {
      const next = Array<boolean>(s.length + 1).fill(false);
      next[0] = c === '*' && row[0] === true;
      for (let j = 1; j <= s.length; j++) {
        next[j] = c === '*' ? row[j] === true || next[j - 1] === true : row[j - 1] === true && (c === '?' || c === s[j - 1]);
      }
      row = next;
    }
    return row[s.length] === true;
  };
  const text = fc.string({ unit: fc.constantFrom('a', 'b', '*', '?'), maxLength: 12 });
  fc.assert(
    // The empty pattern means "all" in the API, so it is left out here.
    fc.property(text.filter((p) => p !== ''), fc.string({ unit: fc.constantFrom('a', 'b'), maxLength: 16 }), (pattern, name) => compileGlob(pattern)(name) === reference(pattern, name)),
    { seed: 11, numRuns: 2000 },
  );
  t.pass();
});

test('a glob over 1,024 characters is refused; the worst glob of that length still answers', (t) => {
  throwsDomain(t, () => compileGlob('*'.repeat(1025)), 'invalid_request', 'pattern is longer than 1024 characters');
  t.false(compileGlob(`${'*a'.repeat(511)}*b`)('a'.repeat(256)));
  t.false(compileGlob(`${'*a'.repeat(7)}*b`)('a'.repeat(64)));
  t.false(compileGlob(`*${'?'.repeat(200)}b*`)('a'.repeat(256)));
});
