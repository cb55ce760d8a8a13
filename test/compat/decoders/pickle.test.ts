/**
 * Restricted pickle decoder. Valid fixtures are real CPython pickle.dumps
 * output (fixtures/generate.py); malicious ones are hand-built or dumps of
 * harmless objects the decoder must still refuse. Nothing here unpickles.
 */
import test from 'ava';

import { BinaryDecodeError, decodePickledNumbers } from '../../../src/compat/pickle-decoder.js';
import { ascii, bin, bytes, expected, f64be } from './helpers.js';

const ALL = [0, 1, 2, 3, 4, 5];
const cases: [string, number[]][] = [
  ['floats', ALL],
  ['ints', ALL],
  ['nested', ALL],
  ['tensor3d', ALL],
  ['mixed', ALL],
  ['empty', ALL],
  ['special', ALL],
  ['shared', ALL],
  ['batches', [0, 2, 4]],
  ['embedding', [2, 4]],
  ['depth32', [2]],
];

for (const [name, protocols] of cases) {
  for (const p of protocols) {
    test(`decodes real pickle ${name} protocol ${p}`, (t) => {
      // ava's deepEqual tells -0 from 0 and treats NaN as equal to NaN, as we need.
      t.deepEqual(decodePickledNumbers(bin(`${name}_p${p}`)), expected(name));
    });
  }
}

test('embedding: 2,000 floats decoded exactly', (t) => {
  const v = decodePickledNumbers(bin('embedding_p4'));
  t.is(v.length, 2000);
  t.true(v.every((x) => typeof x === 'number' && x >= -1 && x <= 1));
});

test('shared sub-lists come back as independent copies', (t) => {
  const v = decodePickledNumbers(bin('shared_p4')) as number[][];
  t.not(v[0], v[1]);
  (v[0] as number[]).push(99);
  t.deepEqual(v[1], [1, 2]);
});

test('rejects malicious and non-numeric pickles', (t) => {
  const evil: [string, RegExp][] = [
    ['global_reduce_p0', /GLOBAL \(0x63 'c'\)/],
    ['stack_global_p4', /SHORT_BINUNICODE/], // the module-name string is refused before STACK_GLOBAL is reached
    ['global_in_list_p2', /GLOBAL/],
    ['inst_p0', /STRING/],
    ['inst_first_p0', /INST \(0x69 'i'\)/],
    ['persid_p0', /PERSID \(0x50 'P'\)/],
    ['binpersid_p2', /BINUNICODE/],
    ['binpersid_first_p2', /BINPERSID/],
    ['ext1_p2', /EXT1/],
    ['dict_p2', /EMPTY_DICT/],
    ['dict_in_list_p4', /EMPTY_DICT/],
    ['string_p0', /STRING|UNICODE/],
    ['string_p4', /SHORT_BINUNICODE/],
    ['bytes_p3', /SHORT_BINBYTES/],
    ['tuple_p2', /TUPLE2/],
    ['tuple_in_list_p4', /TUPLE2/],
    ['none_p2', /NONE/],
    ['bool_p2', /bool \(NEWTRUE/],
    ['bool_p0', /bool \(INT 01\/00\)/],
    ['instance_p2', /GLOBAL/],
    ['instance_p4', /SHORT_BINUNICODE/],
    ['set_p4', /EMPTY_SET/],
    ['long1_huge_p2', /LONG of 13 bytes/],
    ['long4_huge_p2', /LONG of 1251 bytes/],
    ['long_2pow53_p2', /9007199254740992 is outside the safe range/],
    ['long_text_huge_p0', /1180591620717411303424 is outside/],
    ['deep40_p2', /MARK nesting exceeds|nested deeper/],
    ['deep40_p0', /MARK nesting exceeds|nested deeper/],
    ['laughs_p4', /more than 10000000 elements/],
    ['cycle_p2', /already referenced/],
    ['mark_unclosed', /unclosed MARK/],
    ['appends_without_mark', /APPENDS \(0x65 'e'\) without a matching MARK/],
    ['append_underflow', /stack underflow at APPEND/],
    ['two_values', /2 values on the stack/],
    ['trailing', /1 trailing bytes after STOP/],
    ['no_stop', /no STOP opcode/],
    ['top_number', /not a list/],
    ['memo_missing', /memo key 5 not found/],
    ['proto9', /unsupported pickle protocol 9/],
  ];
  for (const [name, message] of evil) {
    const err = t.throws(() => decodePickledNumbers(bin(`evil_${name}`)), { instanceOf: BinaryDecodeError }, name);
    t.regex(err?.message ?? '', message, name);
  }
});

test('each dangerous opcode is refused by name where it appears', (t) => {
  const ops: [number, string][] = [
    [0x63, 'GLOBAL'], [0x93, 'STACK_GLOBAL'], [0x52, 'REDUCE'], [0x62, 'BUILD'], [0x69, 'INST'],
    [0x6f, 'OBJ'], [0x81, 'NEWOBJ'], [0x92, 'NEWOBJ_EX'], [0x50, 'PERSID'], [0x51, 'BINPERSID'],
    [0x82, 'EXT1'], [0x83, 'EXT2'], [0x84, 'EXT4'], [0x74, 'TUPLE'], [0x85, 'TUPLE1'],
    [0x7d, 'EMPTY_DICT'], [0x64, 'DICT'], [0x73, 'SETITEM'], [0x4e, 'NONE'], [0x32, 'DUP'],
    [0x30, 'POP'], [0x97, 'NEXT_BUFFER'], [0x96, 'BYTEARRAY8'], [0xff, 'unknown opcode'],
  ];
  for (const [op, name] of ops) {
    // PROTO 2, EMPTY_LIST, BININT1 1, <op>, ...: the op must be refused before its argument is read.
    const err = t.throws(() => decodePickledNumbers(bytes(0x80, 2, 0x5d, 0x4b, 1, op, 0x61, 0x2e)), {
      instanceOf: BinaryDecodeError,
    });
    t.true(err?.message.startsWith(`refusing pickle opcode ${name} (0x${op.toString(16)}`), err?.message);
    t.is(err?.offset, 5);
  }
});

test('every strict prefix of a valid pickle is rejected as truncated or incomplete', (t) => {
  for (const name of ['nested_p0', 'nested_p2', 'tensor3d_p4', 'ints_p5', 'special_p1']) {
    const full = bin(name);
    for (let n = 0; n < full.length; n++) {
      t.throws(() => decodePickledNumbers(full.subarray(0, n)), { instanceOf: BinaryDecodeError }, `${name}[0..${n}]`);
    }
  }
});

test('limits: input size, elements and depth are configurable', (t) => {
  const emb = bin('embedding_p4');
  t.throws(() => decodePickledNumbers(emb, { maxInputBytes: 1000 }), { message: /over the 1000-byte limit/ });
  t.throws(() => decodePickledNumbers(emb, { maxElements: 1999 }), { message: /more than 1999 elements/ });
  t.is(decodePickledNumbers(emb, { maxElements: 2000 }).length, 2000);
  t.throws(() => decodePickledNumbers(bin('depth32_p2'), { maxDepth: 31 }), { instanceOf: BinaryDecodeError });
  t.throws(() => decodePickledNumbers(bin('tensor3d_p2'), { maxDepth: 2 }), { message: /nested deeper than the limit of 2/ });
  // Shared references count once per occurrence: [x, x, [x]] with x = [1.0, 2.0] is 3 + 1 + 3*2 = 10 values.
  t.is(decodePickledNumbers(bin('shared_p2'), { maxElements: 10 }).length, 3);
  t.throws(() => decodePickledNumbers(bin('shared_p2'), { maxElements: 9 }), { instanceOf: BinaryDecodeError });
  t.throws(() => decodePickledNumbers(emb, { maxDepth: -1 }), { instanceOf: RangeError });
});

test('billion-laughs memo sharing is refused quickly without expanding', (t) => {
  const start = performance.now();
  t.throws(() => decodePickledNumbers(bin('evil_laughs_p4')), { instanceOf: BinaryDecodeError });
  t.true(performance.now() - start < 200);
});

test('mutating a shared list after it was referenced is refused', (t) => {
  // EMPTY_LIST BINPUT 0 | EMPTY_LIST BINGET 0 APPEND (x is now shared) | BINGET 0 BININT1 1 APPEND (into shared x)
  const b = bytes(0x80, 2, 0x5d, 0x71, 0, 0x5d, 0x68, 0, 0x61, 0x68, 0, 0x4b, 1, 0x61, 0x2e);
  t.throws(() => decodePickledNumbers(b), { message: /already referenced/ });
});

test('text opcodes: INT, LONG, FLOAT, PUT/GET, LIST (protocol 0 forms)', (t) => {
  // MARK LIST PUT 0 | INT -7 APPEND | LONG 12L APPEND | FLOAT 2.5 APPEND | FLOAT -inf APPEND | MARK LIST PUT 1 APPEND | GET 1 APPEND | STOP
  const b = bytes(
    ascii('(lp0\nI-7\naL12L\naF2.5\naF-inf\na(lp1\nag1\na.'),
  );
  t.deepEqual(decodePickledNumbers(b), [-7, 12, 2.5, -Infinity, [], []]);
  t.throws(() => decodePickledNumbers(bytes(ascii('(lp0\nI0x10\na.'))), { message: /malformed INT/ });
  t.throws(() => decodePickledNumbers(bytes(ascii('(lp0\nFabc\na.'))), { message: /malformed FLOAT/ });
  t.throws(() => decodePickledNumbers(bytes(ascii(`(lp0\nI${'1'.repeat(100)}\na.`))), { message: /longer than 64 bytes/ });
});

test('binary ints: BININT negative, LONG1 edge values, LONG4 small', (t) => {
  const b = bytes(
    0x80, 2, 0x5d, 0x28,
    0x4a, 0xff, 0xff, 0xff, 0xff, // BININT -1
    0x8a, 0, // LONG1 0 bytes = 0
    0x8a, 7, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1f, // LONG1 2^53-1
    0x8a, 7, 0x01, 0, 0, 0, 0, 0, 0xe0, // LONG1 -(2^53-1)
    0x8b, 2, 0, 0, 0, 0x00, 0x80, // LONG4 2 bytes = -32768
    0x47, ...f64be(0.5), 0x65, 0x2e,
  );
  t.deepEqual(decodePickledNumbers(b), [-1, 0, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, -32768, 0.5]);
});

test('FRAME longer than the rest of the input is truncation', (t) => {
  t.throws(() => decodePickledNumbers(bytes(0x80, 4, 0x95, 100, 0, 0, 0, 0, 0, 0, 0, 0x5d, 0x2e)), {
    message: /FRAME of 100 bytes/,
  });
});
