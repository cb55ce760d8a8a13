/**
 * Restricted Erlang External Term Format decoder: accepts ONLY (nested)
 * proper lists of numbers, as Elixir workers produce with
 * `:erlang.term_to_binary(list)`.
 *
 * Layout reminders (all multi-byte integers big-endian):
 *   131 <term>                      version byte, then one term
 *   131 80 <u32 size> <zlib data>   compressed term (term_to_binary(_, [:compressed]))
 *   106                             NIL_EXT, the empty list []
 *   107 <u16 n> <n bytes>           STRING_EXT, a list of n integers 0..255
 *   108 <u32 n> <n terms> <tail>    LIST_EXT; tail must be NIL_EXT (proper list)
 *   97 <u8>                         SMALL_INTEGER_EXT
 *   98 <i32>                        INTEGER_EXT
 *   110 <u8 n> <u8 sign> <n bytes>  SMALL_BIG_EXT, magnitude little-endian
 *   111 <u32 n> <u8 sign> <n bytes> LARGE_BIG_EXT
 *   70 <f64>                        NEW_FLOAT_EXT
 *   99 <31 bytes "%.20e" text>      FLOAT_EXT (pre-R13 float encoding)
 *
 * Decisions:
 *  - compressed terms (tag 80) ARE accepted: the declared uncompressed size
 *    must be within maxInputBytes, zlib is told to stop at that size
 *    (maxOutputLength, so a zip bomb cannot allocate more), and the output
 *    must have exactly the declared size;
 *  - non-finite floats are rejected, as Erlang's binary_to_term does (Erlang
 *    has no NaN/Infinity);
 *  - atoms (including true/false), tuples, maps, binaries, pids, ports,
 *    references, funs, improper lists and anything else are rejected.
 */
import { inflateSync } from 'node:zlib';

import {
  BinaryDecodeError,
  resolveLimits,
  type BinaryDecodeLimits,
  type NestedNumbers,
} from './pickle-decoder.js';

export { BinaryDecodeError, DEFAULT_DECODE_LIMITS } from './pickle-decoder.js';
export type { BinaryDecodeLimits, NestedNumbers } from './pickle-decoder.js';

const VERSION = 131;
const COMPRESSED = 80;

// Every tag ETF defines, so refusals name it.
const TAG_NAMES: ReadonlyMap<number, string> = new Map([
  [68, 'DIST_HEADER'], [70, 'NEW_FLOAT_EXT'], [77, 'BIT_BINARY_EXT'], [80, 'COMPRESSED'],
  [82, 'ATOM_CACHE_REF'], [88, 'NEW_PID_EXT'], [89, 'NEW_PORT_EXT'], [90, 'NEWER_REFERENCE_EXT'],
  [97, 'SMALL_INTEGER_EXT'], [98, 'INTEGER_EXT'], [99, 'FLOAT_EXT'], [100, 'ATOM_EXT'],
  [101, 'REFERENCE_EXT'], [102, 'PORT_EXT'], [103, 'PID_EXT'], [104, 'SMALL_TUPLE_EXT'],
  [105, 'LARGE_TUPLE_EXT'], [106, 'NIL_EXT'], [107, 'STRING_EXT'], [108, 'LIST_EXT'],
  [109, 'BINARY_EXT'], [110, 'SMALL_BIG_EXT'], [111, 'LARGE_BIG_EXT'], [112, 'NEW_FUN_EXT'],
  [113, 'EXPORT_EXT'], [114, 'NEW_REFERENCE_EXT'], [115, 'SMALL_ATOM_EXT'], [116, 'MAP_EXT'],
  [117, 'FUN_EXT'], [118, 'ATOM_UTF8_EXT'], [119, 'SMALL_ATOM_UTF8_EXT'], [120, 'V4_PORT_EXT'],
  [121, 'LOCAL_EXT'],
]);

function describeTag(tag: number): string {
  return `${TAG_NAMES.get(tag) ?? 'unknown tag'} (${tag})`;
}

const FLOAT_EXT_RE = /^ *[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * Decodes `:erlang.term_to_binary(list)` output holding a proper list of
 * numbers, or nested proper lists of numbers. The top level must be a list
 * (LIST_EXT, STRING_EXT or NIL_EXT). Integers must be safe integers
 * (|n| ≤ 2^53−1); floats must be finite. Compressed terms are inflated within
 * `maxInputBytes`. The result is a fresh tree of plain arrays and numbers.
 *
 * @throws BinaryDecodeError when the version byte is not 131, the term uses
 *   any other tag (atoms, tuples, maps, binaries, pids, funs, ...), a list is
 *   improper, an integer is outside the safe range, a float is non-finite or
 *   malformed, the data is truncated or has trailing bytes, compressed data is
 *   corrupt or not of its declared size, or a limit is exceeded.
 * @throws RangeError when a given limit is not a non-negative safe integer.
 */
export function decodeErlangTermNumbers(bytes: Uint8Array, limits?: BinaryDecodeLimits): NestedNumbers[] {
  const lim = resolveLimits(limits);
  if (bytes.length > lim.maxInputBytes) {
    throw new BinaryDecodeError(`term is ${bytes.length} bytes, over the ${lim.maxInputBytes}-byte limit`);
  }
  if (bytes.length === 0) throw new BinaryDecodeError('empty input: expected version byte 131', 0);
  if (bytes[0] !== VERSION) {
    throw new BinaryDecodeError(`bad External Term Format version byte ${String(bytes[0])} (expected 131)`, 0);
  }
  let body = bytes.subarray(1);
  let base = 1; // offset of body[0] in the caller's bytes, for error messages
  if (body[0] === COMPRESSED) {
    body = inflate(bytes, lim.maxInputBytes);
    base = 0; // offsets now refer to the decompressed term
  }
  const reader = new EtfReader(body, base, lim);
  const result = reader.topList();
  reader.end();
  return result;
}

/** 131 80 <u32 uncompressed size> <zlib stream>: inflate with a hard output cap. */
function inflate(bytes: Uint8Array, maxBytes: number): Uint8Array {
  if (bytes.length < 6) throw new BinaryDecodeError('truncated compressed term header', bytes.length);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const size = view.getUint32(2, false);
  if (size > maxBytes) {
    throw new BinaryDecodeError(`compressed term declares ${size} bytes, over the ${maxBytes}-byte limit`, 2);
  }
  let out: Buffer;
  try {
    out = inflateSync(bytes.subarray(6), { maxOutputLength: Math.max(size, 1) });
  } catch (err) {
    throw new BinaryDecodeError(`corrupt or oversized compressed term: ${(err as Error).message}`, 6);
  }
  if (out.length !== size) {
    throw new BinaryDecodeError(`compressed term inflated to ${out.length} bytes, declared ${size}`, 6);
  }
  return out;
}

class EtfReader {
  private pos = 0;
  private elements = 0;
  private readonly view: DataView;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly base: number,
    private readonly lim: Required<BinaryDecodeLimits>,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  topList(): NestedNumbers[] {
    const at = this.pos;
    const tag = this.u8();
    if (tag !== 106 && tag !== 107 && tag !== 108) {
      throw new BinaryDecodeError(`top-level term is ${describeTag(tag)}, expected a list`, this.base + at);
    }
    return this.list(tag, 1, at);
  }

  end(): void {
    if (this.pos !== this.bytes.length) {
      throw new BinaryDecodeError(`${this.bytes.length - this.pos} trailing bytes after the term`, this.base + this.pos);
    }
  }

  private fail(msg: string, at: number): never {
    throw new BinaryDecodeError(msg, this.base + at);
  }

  private need(n: number): void {
    if (this.bytes.length - this.pos < n) this.fail(`truncated term: need ${n} more bytes`, this.pos);
  }

  private u8(): number {
    this.need(1);
    return this.bytes[this.pos++] as number;
  }

  private u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.pos, false);
    this.pos += 4;
    return v;
  }

  /** Reserves n elements against maxElements before anything is allocated. */
  private count(n: number, at: number): void {
    this.elements += n;
    if (this.elements > this.lim.maxElements) this.fail(`term holds more than ${this.lim.maxElements} elements`, at);
  }

  /** A list whose tag byte (NIL_EXT, STRING_EXT or LIST_EXT) was just read at `at`. */
  private list(tag: number, depth: number, at: number): NestedNumbers[] {
    if (depth > this.lim.maxDepth) this.fail(`lists nested deeper than the limit of ${this.lim.maxDepth}`, at);
    if (tag === 106) return [];
    if (tag === 107) {
      this.need(2);
      const n = this.view.getUint16(this.pos, false);
      this.pos += 2;
      this.need(n);
      this.count(n, at);
      const out = Array.from(this.bytes.subarray(this.pos, this.pos + n));
      this.pos += n;
      return out;
    }
    const n = this.u32();
    // Every element takes at least one byte and the tail one more, so a
    // length beyond the remaining input is a lie: refuse it before allocating.
    if (n >= this.bytes.length - this.pos) this.fail(`truncated term: LIST_EXT claims ${n} elements`, at);
    this.count(n, at);
    const out: NestedNumbers[] = new Array<NestedNumbers>(n);
    for (let i = 0; i < n; i++) out[i] = this.element(depth);
    const tailAt = this.pos;
    const tail = this.u8();
    if (tail !== 106) this.fail(`improper list: tail is ${describeTag(tail)}, expected NIL_EXT (106)`, tailAt);
    return out;
  }

  private element(depth: number): NestedNumbers {
    const at = this.pos;
    const tag = this.u8();
    switch (tag) {
      case 106:
      case 107:
      case 108:
        return this.list(tag, depth + 1, at);
      case 97: // SMALL_INTEGER_EXT
        return this.u8();
      case 98: { // INTEGER_EXT
        this.need(4);
        const v = this.view.getInt32(this.pos, false);
        this.pos += 4;
        return v;
      }
      case 70: { // NEW_FLOAT_EXT
        this.need(8);
        const v = this.view.getFloat64(this.pos, false);
        this.pos += 8;
        if (!Number.isFinite(v)) this.fail('non-finite float (Erlang has no NaN/Infinity)', at);
        return v;
      }
      case 99: { // FLOAT_EXT: 31 bytes of "%.20e" text, NUL-padded
        this.need(31);
        let s = '';
        for (let i = 0; i < 31; i++) {
          const c = this.bytes[this.pos + i] as number;
          if (c === 0) break;
          s += String.fromCharCode(c);
        }
        this.pos += 31;
        const v = Number(s.trim());
        if (!FLOAT_EXT_RE.test(s) || !Number.isFinite(v)) this.fail(`malformed FLOAT_EXT text ${JSON.stringify(s)}`, at);
        return v;
      }
      case 110: // SMALL_BIG_EXT
        return this.big(this.u8(), at);
      case 111: // LARGE_BIG_EXT
        return this.big(this.u32(), at);
      default:
        return this.fail(`refusing term ${describeTag(tag)}: only lists of numbers are accepted`, at);
    }
  }

  /** Bignum: sign byte, then n magnitude bytes little-endian. > 7 bytes cannot be a safe integer. */
  private big(n: number, at: number): number {
    if (n > 7) this.fail(`bignum of ${n} bytes is outside the safe integer range ±(2^53−1)`, at);
    const sign = this.u8();
    if (sign > 1) this.fail(`bignum with bad sign byte ${sign}`, at);
    this.need(n);
    let v = 0;
    for (let i = n - 1; i >= 0; i--) v = v * 256 + (this.bytes[this.pos + i] as number);
    this.pos += n;
    if (!Number.isSafeInteger(v)) this.fail('bignum is outside the safe integer range ±(2^53−1)', at);
    return sign === 1 && v !== 0 ? -v : v;
  }
}
