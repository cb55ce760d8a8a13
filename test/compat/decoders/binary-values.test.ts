/** Format dispatch, tensor shape helpers, and the reply encoders (with round-trip properties). */
import { isDeepStrictEqual } from 'node:util';

import test from 'ava';
import fc from 'fast-check';

import {
  BinaryDecodeError,
  BinaryEncodeError,
  decodeBinaryNumbers,
  decodeErlangTermNumbers,
  decodePickledNumbers,
  encodeErlangTermNumbers,
  encodePickledNumbers,
  flattenTensor,
  nestTensor,
  nestedTensorJson,
  type NestedNumbers,
} from '../../../src/compat/binary-values.js';
import { bin, bytes, expected, f64be } from './helpers.js';

// Fixed seed: the property tests are deterministic run to run.
fc.configureGlobal({ seed: 20240611 });

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

test('decodeBinaryNumbers dispatches on binary_format', (t) => {
  t.deepEqual(decodeBinaryNumbers(bin('nested_p4'), 'pickle'), expected('nested'));
  t.deepEqual(decodeBinaryNumbers(bytes(131, 107, 0, 3, 1, 2, 3), 'erlang_binary'), [1, 2, 3]);
  t.throws(() => decodeBinaryNumbers(bin('nested_p4'), 'erlang_binary'), { message: /version byte 128/ });
  for (const f of ['json', 'Pickle', 'erlang', '']) {
    t.throws(() => decodeBinaryNumbers(bytes(131, 106), f), { instanceOf: BinaryDecodeError, message: /unknown binary_format/ });
  }
  t.throws(() => decodeBinaryNumbers(bin('embedding_p4'), 'pickle', { maxElements: 10 }), { instanceOf: BinaryDecodeError });
});

test('flattenTensor: rectangular nesting to row-major data', (t) => {
  t.deepEqual(flattenTensor(expected('tensor3d')), { shape: [2, 3, 2], data: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11] });
  t.deepEqual(flattenTensor([1, 2, 3], [3]), { shape: [3], data: [1, 2, 3] });
  t.deepEqual(flattenTensor(4.5), { shape: [], data: [4.5] });
  t.deepEqual(flattenTensor([]), { shape: [0], data: [] });
  t.deepEqual(flattenTensor([[], []]), { shape: [2, 0], data: [] });
  // An empty list hides its inner dimensions, so a declared shape may extend it.
  t.deepEqual(flattenTensor([], [0, 768]), { shape: [0, 768], data: [] });
  t.deepEqual(flattenTensor([[], []], [2, 0, 5]), { shape: [2, 0, 5], data: [] });
});

test('flattenTensor: ragged or mismatched shapes are rejected', (t) => {
  const bad: [NestedNumbers, (readonly number[])?][] = [
    [[[1, 2], [3]]],
    [[[1, 2], 3]],
    [[1, [2]]],
    [[[1], [[2]]]],
    [[1, 2, 3], [2]],
    [[1, 2, 3], [3, 1]],
    [[[1, 2]], [2, 1]],
    [[], [1, 768]],
    [[[], []], [3, 0]],
    [[1], []],
  ];
  for (const [nested, shape] of bad) {
    t.throws(() => flattenTensor(nested, shape), { instanceOf: BinaryDecodeError }, JSON.stringify([nested, shape]));
  }
  t.throws(() => flattenTensor([1], [-1]), { instanceOf: RangeError });
  t.throws(() => flattenTensor([1], [1.5]), { instanceOf: RangeError });
  const cyclic: NestedNumbers[] = [];
  cyclic.push(cyclic);
  t.throws(() => flattenTensor(cyclic), { message: /deeper than 32/ });
});

test('nestTensor inverts flattenTensor', (t) => {
  t.deepEqual(nestTensor([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], [2, 3, 2]), expected('tensor3d'));
  t.deepEqual(nestTensor(new Float32Array([1, 2]), [2]), [1, 2]);
  t.deepEqual(nestTensor([], [0, 4]), []);
  t.is(nestTensor([7], []), 7);
  t.throws(() => nestTensor([1, 2, 3], [2, 2]), { instanceOf: RangeError });
});

test('encodePickledNumbers: exact bytes (checked with CPython 3.11 pickle.loads)', (t) => {
  // PROTO 2 | EMPTY_LIST MARK BINFLOAT 1.5 EMPTY_LIST BINFLOAT -2.0 APPEND APPENDS | STOP
  // python3 -c "import pickle;print(pickle.loads(bytes.fromhex('8002 5d28 47 3ff8000000000000 5d 47 c000000000000000 61 65 2e')))"
  //   -> [1.5, [-2.0]]
  const b = encodePickledNumbers([1.5, [-2]]);
  t.is(hex(b), `80025d2847${hex(Uint8Array.from(f64be(1.5)))}5d47${hex(Uint8Array.from(f64be(-2)))}61652e`);
  t.is(hex(encodePickledNumbers([])), '80025d2e');
  // integersAsInts: BININT1 7, BININT2 300, BININT -5, LONG1 2^40
  //   python3 -> [7, 300, -5, 1099511627776, 0.5]
  t.is(hex(encodePickledNumbers([7, 300, -5, 2 ** 40, 0.5], { integersAsInts: true })),
    '80025d284b074d2c014afbffffff8a0600000000000147' + hex(Uint8Array.from(f64be(0.5))) + '652e');
});

test('encodePickledNumbers: batches of 1000 like Python (2,500 items)', (t) => {
  const v = Array.from({ length: 2500 }, (_, i) => i);
  const b = encodePickledNumbers(v, { integersAsInts: true });
  t.is(b.filter((x) => x === 0x28).length >= 3, true);
  t.deepEqual(decodePickledNumbers(b), v);
  t.deepEqual(decodePickledNumbers(encodePickledNumbers(expected('embedding'))), expected('embedding'));
});

test('encodeErlangTermNumbers: exact bytes', (t) => {
  // term_to_binary([1.5, [-2.0], []]) = 131, LIST_EXT 3, NEW_FLOAT_EXT 1.5, LIST_EXT 1, NEW_FLOAT_EXT -2.0, NIL, NIL_EXT, NIL
  t.deepEqual(
    [...encodeErlangTermNumbers([1.5, [-2], []])],
    [131, 108, 0, 0, 0, 3, 70, ...f64be(1.5), 108, 0, 0, 0, 1, 70, ...f64be(-2), 106, 106, 106],
  );
  t.deepEqual([...encodeErlangTermNumbers([])], [131, 106]);
  t.deepEqual(
    [...encodeErlangTermNumbers([7, 300, -5, -(2 ** 40)], { integersAsInts: true })],
    [131, 108, 0, 0, 0, 4, 97, 7, 98, 0, 0, 1, 44, 98, 0xff, 0xff, 0xff, 0xfb, 110, 6, 1, 0, 0, 0, 0, 0, 1, 106],
  );
});

test('encodeErlangTermNumbers matches real term_to_binary output byte for byte', (t) => {
  // Erlang itself (OTP 25) also read back encoder output with binary_to_term when this was written.
  for (const name of ['floats', 'nested', 'tensor3d', 'empty', 'embedding', 'depth32']) {
    t.deepEqual(encodeErlangTermNumbers(expected(name)), bin(`etf_${name}`), name);
  }
  t.deepEqual(encodeErlangTermNumbers(expected('ints'), { integersAsInts: true }), bin('etf_ints'));
});

test('encoders refuse what they cannot represent', (t) => {
  t.throws(() => encodeErlangTermNumbers([NaN]), { instanceOf: BinaryEncodeError });
  t.throws(() => encodeErlangTermNumbers([[Infinity]]), { instanceOf: BinaryEncodeError });
  for (const enc of [encodePickledNumbers, encodeErlangTermNumbers]) {
    t.throws(() => enc(1 as unknown as NestedNumbers[]), { instanceOf: BinaryEncodeError });
    t.throws(() => enc(['a'] as unknown as NestedNumbers[]), { instanceOf: BinaryEncodeError });
    t.throws(() => enc([true] as unknown as NestedNumbers[]), { instanceOf: BinaryEncodeError });
    const cyclic: NestedNumbers[] = [];
    cyclic.push(cyclic);
    t.throws(() => enc(cyclic), { instanceOf: BinaryEncodeError, message: /cyclic/ });
  }
});

// ---- round-trip properties ------------------------------------------------

const anyDouble = fc.double(); // includes NaN, ±Infinity, -0
const finiteDouble = fc.double({ noNaN: true, noDefaultInfinity: true });
const safeInt = fc.oneof(fc.integer({ min: -300, max: 70000 }), fc.maxSafeInteger(), fc.integer(), fc.constant(Number.MIN_SAFE_INTEGER + 1));

/** Ragged nested lists, depth ≤ 5. */
const ragged = (leaf: fc.Arbitrary<number>): fc.Arbitrary<NestedNumbers[]> =>
  fc.letrec<{ node: NestedNumbers; list: NestedNumbers[] }>((tie) => ({
    node: fc.oneof({ maxDepth: 5, depthIdentifier: 'n', withCrossShrink: true }, leaf, tie('list')),
    list: fc.array(tie('node'), { maxLength: 6, depthIdentifier: 'n' }),
  })).list;

/** Rectangular tensors: a shape, then row-major data nested to it. */
const rectangular = (leaf: fc.Arbitrary<number>): fc.Arbitrary<NestedNumbers[]> =>
  fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 4 }).chain((shape) => {
    const size = shape.reduce((a, b) => a * b, 1);
    return fc.array(leaf, { minLength: size, maxLength: size }).map((data) => nestTensor(data, shape) as NestedNumbers[]);
  });

test('property: pickle round-trips ragged and rectangular doubles (incl. NaN, ±Inf, -0)', (t) => {
  for (const arb of [ragged(anyDouble), rectangular(anyDouble)]) {
    fc.assert(fc.property(arb, (v) => isDeepStrictEqual(decodePickledNumbers(encodePickledNumbers(v)), v)), { numRuns: 200 });
  }
  fc.assert(fc.property(ragged(safeInt), (v) =>
    isDeepStrictEqual(decodePickledNumbers(encodePickledNumbers(v, { integersAsInts: true })), v)), { numRuns: 200 });
  t.pass();
});

test('property: ETF round-trips ragged and rectangular finite doubles and ints', (t) => {
  for (const arb of [ragged(finiteDouble), rectangular(finiteDouble)]) {
    fc.assert(fc.property(arb, (v) => isDeepStrictEqual(decodeErlangTermNumbers(encodeErlangTermNumbers(v)), v)), { numRuns: 200 });
  }
  fc.assert(fc.property(ragged(safeInt), (v) =>
    isDeepStrictEqual(decodeErlangTermNumbers(encodeErlangTermNumbers(v, { integersAsInts: true })), v)), { numRuns: 200 });
  t.pass();
});

test('property: flattenTensor(rectangular) then nestTensor is the identity', (t) => {
  fc.assert(fc.property(rectangular(finiteDouble), (v) => {
    const { shape, data } = flattenTensor(v);
    return isDeepStrictEqual(nestTensor(data, shape), v);
  }), { numRuns: 200 });
  t.pass();
});

test('property: nestedTensorJson is the JSON of nestTensor, without building the lists', (t) => {
  const tensor = fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 5 }).chain((shape) => {
    const size = shape.reduce((a, b) => a * b, 1);
    return fc.array(finiteDouble, { minLength: size, maxLength: size }).map((data) => ({ shape, data }));
  });
  fc.assert(fc.property(tensor, ({ shape, data }) => nestedTensorJson(data, shape) === JSON.stringify(nestTensor(data, shape))), { numRuns: 300 });
  t.is(nestedTensorJson([], [3, 0, 4294967295 % 7]), '[[],[],[]]');
  t.throws(() => nestedTensorJson([], [4294967295, 0]), { message: /Tensor shape \[4294967295,0\]/ });
  t.throws(() => nestTensor([1], Array<number>(33).fill(1)), { message: 'Tensor shape has 33 dimensions; the limit is 32' });
});

test('property: decoders never throw anything but BinaryDecodeError on random bytes', (t) => {
  const seeds = [bin('nested_p2'), bin('mixed_p0'), bin('shared_p4'), encodeErlangTermNumbers([[1.5], [2]], { integersAsInts: true })];
  fc.assert(fc.property(fc.constantFrom(...seeds), fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 4 }), (seed, flips) => {
    const b = Uint8Array.from(seed);
    for (const [i, v] of flips) b[i % b.length] = v;
    for (const format of ['pickle', 'erlang_binary']) {
      try {
        decodeBinaryNumbers(b, format);
      } catch (err) {
        if (!(err instanceof BinaryDecodeError)) throw err;
      }
    }
  }), { numRuns: 2000 });
  t.pass();
});
