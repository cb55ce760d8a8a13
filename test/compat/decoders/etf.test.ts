/**
 * Restricted Erlang External Term Format decoder. Erlang is not installed
 * here, so fixtures are hand-built from the ETF spec
 * (https://www.erlang.org/doc/apps/erts/erl_ext_dist.html); every multi-byte
 * integer is big-endian:
 *
 *   131                      version byte, first byte of every term_to_binary result
 *   106                      NIL_EXT: []
 *   107 <u16 n> <n bytes>    STRING_EXT: how term_to_binary writes a list of ints 0..255 (n < 65536)
 *   108 <u32 n> <n terms> 106  LIST_EXT with NIL_EXT tail: any other proper list
 *   97 <u8>                  SMALL_INTEGER_EXT: 0..255
 *   98 <i32>                 INTEGER_EXT: other 32-bit signed ints
 *   110 <u8 n> <sign> <n bytes, little-endian magnitude>  SMALL_BIG_EXT
 *   70 <f64>                 NEW_FLOAT_EXT: how OTP ≥ R13 writes floats
 *   99 <31 bytes>            FLOAT_EXT: "%.20e" text, NUL-padded (old nodes)
 *   80 <u32 size> <zlib>     compressed: term_to_binary(T, [compressed])
 *
 * The etf_*.bin fixtures are real term_to_binary output (OTP 25, see
 * fixtures/generate_etf.sh) of the same values as the pickle fixtures.
 */
import { deflateSync } from 'node:zlib';

import test from 'ava';

import { BinaryDecodeError, decodeErlangTermNumbers } from '../../../src/compat/etf-decoder.js';
import { ascii, bin, bytes, expected, f64be } from './helpers.js';

const V = 131;
const u32 = (n: number): number[] => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
const list = (...elems: (number | number[])[]): number[] => [108, ...u32(elems.length), ...elems.flat(), 106];
const flt = (x: number): number[] => [70, ...f64be(x)];

for (const name of ['floats', 'ints', 'nested', 'tensor3d', 'mixed', 'empty', 'embedding', 'depth32', 'smallints', 'bytes300',
  'ints_compressed', 'tensor3d_compressed', 'embedding_compressed']) {
  test(`decodes real term_to_binary fixture ${name}`, (t) => {
    t.deepEqual(decodeErlangTermNumbers(bin(`etf_${name}`)), expected(name.replace('_compressed', '')));
  });
}

test('rejects real term_to_binary output of non-numeric terms', (t) => {
  const evil: [string, RegExp][] = [
    ['atom', /ATOM_EXT \(100\)/], // [1.0, true]
    ['tuple', /SMALL_TUPLE_EXT \(104\)/], // [{1.0, 2.0}]
    ['binary', /BINARY_EXT \(109\)/], // [<<1,2,3>>]
    ['elixir_string', /BINARY_EXT/], // ["héllo"] in Elixir is a binary
    ['map', /MAP_EXT \(116\)/], // [%{a: 1.0}]
    ['improper', /improper list: tail is NEW_FLOAT_EXT/], // [1.0 | 2.0]
    ['pid', /NEW_PID_EXT \(88\)/], // [self()]
    ['fun', /EXPORT_EXT \(113\)/], // [fun erlang:now/0]
    ['bigint', /outside the safe integer range/], // [1 bsl 53]
  ];
  for (const [name, message] of evil) {
    const err = t.throws(() => decodeErlangTermNumbers(bin(`etf_evil_${name}`)), { instanceOf: BinaryDecodeError }, name);
    t.regex(err?.message ?? '', message, name);
  }
});

test('term_to_binary([1.5, -2.0, 0.1]): LIST_EXT of NEW_FLOAT_EXT', (t) => {
  t.deepEqual(decodeErlangTermNumbers(bytes(V, list(flt(1.5), flt(-2), flt(0.1)))), [1.5, -2, 0.1]);
});

test('term_to_binary([1,2,3]) is STRING_EXT 131,107,0,3,1,2,3', (t) => {
  t.deepEqual(decodeErlangTermNumbers(bytes(131, 107, 0, 3, 1, 2, 3)), [1, 2, 3]);
  t.deepEqual(decodeErlangTermNumbers(bytes(131, 107, 0, 0)), []);
});

test('term_to_binary([]) is NIL_EXT 131,106', (t) => {
  t.deepEqual(decodeErlangTermNumbers(bytes(131, 106)), []);
});

test('nested: [[1.0], [2, 3], [], [[0.5]]]', (t) => {
  // Inner [2,3] is a STRING_EXT; [] inside a list is NIL_EXT.
  const b = bytes(V, list(list(flt(1)), [107, 0, 2, 2, 3], [106], list(list(flt(0.5)))));
  t.deepEqual(decodeErlangTermNumbers(b), [[1], [2, 3], [], [[0.5]]]);
});

test('integers of each size', (t) => {
  const b = bytes(V, list(
    [97, 255], // SMALL_INTEGER_EXT 255
    [98, ...u32(256)], // INTEGER_EXT 256
    [98, 0xff, 0xff, 0xff, 0xff], // INTEGER_EXT -1
    [98, 0x80, 0, 0, 0], // INTEGER_EXT -2^31
    [110, 4, 0, 0, 0, 0, 0x80], // SMALL_BIG_EXT 2^31
    [110, 6, 1, 0, 0, 0, 0, 0, 1], // SMALL_BIG_EXT -(2^40)
    [110, 7, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1f], // SMALL_BIG_EXT 2^53-1
    [110, 0, 0], // SMALL_BIG_EXT with no digits = 0
    [111, 0, 0, 0, 1, 1, 5], // LARGE_BIG_EXT -5
  ));
  t.deepEqual(decodeErlangTermNumbers(b), [255, 256, -1, -(2 ** 31), 2 ** 31, -(2 ** 40), Number.MAX_SAFE_INTEGER, 0, -5]);
});

test('FLOAT_EXT: 31-byte "%.20e" text', (t) => {
  const text = (s: string): number[] => [99, ...ascii(s), ...new Array<number>(31 - s.length).fill(0)];
  const b = bytes(V, list(text('1.50000000000000000000e+00'), text('-2.00000000000000011102e-01')));
  t.deepEqual(decodeErlangTermNumbers(b), [1.5, -0.2]);
  t.throws(() => decodeErlangTermNumbers(bytes(V, list(text('nan')))), { message: /malformed FLOAT_EXT/ });
  t.throws(() => decodeErlangTermNumbers(bytes(V, list(text('1e999')))), { message: /malformed FLOAT_EXT/ });
});

test('rejects every non-list-of-numbers term, naming the tag', (t) => {
  const evil: [string, Uint8Array, RegExp][] = [
    ['atom true (SMALL_ATOM_UTF8_EXT)', bytes(V, 119, 4, ascii('true')), /SMALL_ATOM_UTF8_EXT \(119\)/],
    ['atom in list (ATOM_EXT)', bytes(V, list([100, 0, 2, ...ascii('ok')])), /ATOM_EXT \(100\)/],
    ['tuple {1,2}', bytes(V, 104, 2, 97, 1, 97, 2), /SMALL_TUPLE_EXT \(104\)/],
    ['tuple in list', bytes(V, list([104, 2, 97, 1, 97, 2])), /SMALL_TUPLE_EXT/],
    ['binary <<1,2,3>>', bytes(V, list([109, ...u32(3), 1, 2, 3])), /BINARY_EXT \(109\)/],
    ['map %{}', bytes(V, list([116, ...u32(0)])), /MAP_EXT \(116\)/],
    ['pid', bytes(V, list([88, 119, 1, 0x61, ...u32(1), ...u32(0), ...u32(0)])), /NEW_PID_EXT \(88\)/],
    ['fun', bytes(V, list([112, ...u32(0)])), /NEW_FUN_EXT \(112\)/],
    ['export fun', bytes(V, list([113])), /EXPORT_EXT/],
    ['unknown tag', bytes(V, list([1])), /unknown tag \(1\)/],
    ['improper list [1 | 2]', bytes(V, 108, ...u32(1), 97, 1, 97, 2), /improper list: tail is SMALL_INTEGER_EXT/],
    ['improper list with string tail', bytes(V, 108, ...u32(1), 97, 1, 107, 0, 1, 5), /improper list/],
    ['NaN float', bytes(V, list(flt(NaN))), /non-finite/],
    ['Infinity float', bytes(V, list(flt(Infinity))), /non-finite/],
    ['top-level integer', bytes(V, 97, 1), /top-level term is SMALL_INTEGER_EXT/],
    ['bignum 2^53', bytes(V, list([110, 7, 0, 0, 0, 0, 0, 0, 0, 0x20])), /outside the safe integer range/],
    ['bignum 2^64', bytes(V, list([110, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1])), /bignum of 9 bytes/],
    ['bignum bad sign', bytes(V, list([110, 1, 2, 5])), /bad sign byte/],
    ['bad version', bytes(130, 106), /version byte 130/],
    ['empty input', bytes(), /empty input/],
    ['trailing bytes', bytes(V, 106, 0), /1 trailing bytes/],
    ['huge LIST_EXT length', bytes(V, 108, 0xff, 0xff, 0xff, 0xff, 106), /claims 4294967295 elements/],
    ['DIST_HEADER', bytes(V, 68, 0), /DIST_HEADER/],
  ];
  for (const [name, b, message] of evil) {
    const err = t.throws(() => decodeErlangTermNumbers(b), { instanceOf: BinaryDecodeError }, name);
    t.regex(err?.message ?? '', message, name);
  }
});

test('every strict prefix of a valid term is rejected', (t) => {
  const full = bytes(V, list(list(flt(1)), [107, 0, 2, 2, 3], [106], [110, 4, 0, 0, 0, 0, 0x80], [98, ...u32(256)]));
  t.is(decodeErlangTermNumbers(full).length, 5);
  for (let n = 0; n < full.length; n++) {
    t.throws(() => decodeErlangTermNumbers(full.subarray(0, n)), { instanceOf: BinaryDecodeError }, `prefix ${n}`);
  }
});

test('limits: depth, elements, input size', (t) => {
  let deep: number[] = list(flt(1));
  for (let i = 1; i < 32; i++) deep = list(deep);
  t.is(decodeErlangTermNumbers(bytes(V, deep)).length, 1); // exactly 32 levels
  t.throws(() => decodeErlangTermNumbers(bytes(V, list(deep))), { message: /nested deeper than the limit of 32/ });
  t.throws(() => decodeErlangTermNumbers(bytes(V, [107, 0, 3, 1, 2, 3]), { maxElements: 2 }), { message: /more than 2 elements/ });
  t.throws(() => decodeErlangTermNumbers(bytes(V, list(list(flt(1)))), { maxElements: 1 }), { message: /more than 1 elements/ });
  t.throws(() => decodeErlangTermNumbers(bytes(V, 106), { maxInputBytes: 1 }), { message: /over the 1-byte limit/ });
});

test('compressed terms (tag 80) are inflated within the size cap', (t) => {
  const body = Uint8Array.from(list(flt(1.5), flt(2.5), [97, 7]));
  const compressed = (declared: number, z: Uint8Array): Uint8Array => bytes(V, 80, u32(declared), z);
  t.deepEqual(decodeErlangTermNumbers(compressed(body.length, deflateSync(body))), [1.5, 2.5, 7]);
  t.throws(() => decodeErlangTermNumbers(compressed(body.length + 1, deflateSync(body))), { message: /declared/ });
  t.throws(() => decodeErlangTermNumbers(compressed(body.length, Uint8Array.from([1, 2, 3, 4]))), {
    message: /corrupt or oversized compressed term/,
  });
  // Zip bomb: 10 MB of list elements that claims 100 bytes; inflation stops at the declared size.
  const bomb = new Uint8Array(10_000_000).fill(106);
  t.throws(() => decodeErlangTermNumbers(compressed(100, deflateSync(bomb))), { instanceOf: BinaryDecodeError });
  t.throws(() => decodeErlangTermNumbers(compressed(2 ** 31, deflateSync(body))), { message: /over the 67108864-byte limit/ });
  t.throws(() => decodeErlangTermNumbers(bytes(V, 80, 0, 0)), { message: /truncated compressed term header/ });
  // A compressed term inside the compressed body is not a list element.
  const nested = Uint8Array.from([80, ...u32(body.length), ...deflateSync(body)]);
  t.throws(() => decodeErlangTermNumbers(compressed(nested.length, deflateSync(nested))), { message: /COMPRESSED/ });
});
