/**
 * Snakepit/DSPex `binary_value` payloads: large embeddings and tensors sent
 * as bytes with JSON metadata `{"shape", "dtype", "binary_format"}`, where
 * binary_format is "pickle" (Python workers) or "erlang_binary" (Elixir).
 *
 * Decoding goes through the restricted decoders (lists of numbers only);
 * encoding produces the same formats for replies, in the simplest form the
 * real Python/Erlang decoders accept.
 */
import { checkTensorShape } from '../domain/index.js';
import { decodeErlangTermNumbers } from './etf-decoder.js';
import {
  BinaryDecodeError,
  DEFAULT_DECODE_LIMITS,
  decodePickledNumbers,
  type BinaryDecodeLimits,
  type NestedNumbers,
} from './pickle-decoder.js';

export { BinaryDecodeError, DEFAULT_DECODE_LIMITS, decodePickledNumbers } from './pickle-decoder.js';
export type { BinaryDecodeLimits, NestedNumbers } from './pickle-decoder.js';
export { decodeErlangTermNumbers } from './etf-decoder.js';

/** The binary_format values Snakepit uses. */
export type BinaryFormat = 'pickle' | 'erlang_binary';

/**
 * Decodes a `binary_value` with the restricted decoder for `format`
 * ("pickle" or "erlang_binary", matched exactly). The top level is a list.
 *
 * @throws BinaryDecodeError when the format is unknown, or whenever the
 *   chosen decoder refuses the bytes (see decodePickledNumbers and
 *   decodeErlangTermNumbers).
 */
export function decodeBinaryNumbers(bytes: Uint8Array, format: string, limits?: BinaryDecodeLimits): NestedNumbers[] {
  switch (format) {
    case 'pickle':
      return decodePickledNumbers(bytes, limits);
    case 'erlang_binary':
      return decodeErlangTermNumbers(bytes, limits);
    default:
      throw new BinaryDecodeError(`unknown binary_format ${JSON.stringify(format)} (expected "pickle" or "erlang_binary")`);
  }
}

/** A tensor in row-major order. */
export interface FlatTensor {
  readonly shape: number[];
  readonly data: number[];
}

/**
 * Flattens nested lists into row-major data plus their shape, checking that
 * the nesting is rectangular (every list at a level has the same length and
 * numbers appear only at the innermost level). A bare number has shape [].
 *
 * When `expectedShape` is given the inferred shape must equal it, except that
 * an empty list cannot show its inner dimensions: `[]` matches [0, 768] and
 * `[[], []]` matches [2, 0, 5] (any shape with the same leading dims and a 0
 * where the nesting ends); the returned shape is then `expectedShape`.
 *
 * @throws BinaryDecodeError when the nesting is ragged or mixes numbers and
 *   lists at one level, is deeper than DEFAULT_DECODE_LIMITS.maxDepth, or does
 *   not match `expectedShape`; RangeError when `expectedShape` holds anything
 *   but non-negative safe integers.
 */
export function flattenTensor(nested: NestedNumbers, expectedShape?: readonly number[]): FlatTensor {
  if (expectedShape !== undefined) {
    for (const d of expectedShape) {
      if (!Number.isSafeInteger(d) || d < 0) throw new RangeError(`shape dimensions must be non-negative integers, got ${JSON.stringify(expectedShape)}`);
    }
  }
  // The first-element chain gives the only shape this could be.
  const shape: number[] = [];
  let cur: NestedNumbers | undefined = nested;
  while (Array.isArray(cur)) {
    if (shape.length >= DEFAULT_DECODE_LIMITS.maxDepth) {
      throw new BinaryDecodeError(`tensor nested deeper than ${DEFAULT_DECODE_LIMITS.maxDepth}`);
    }
    shape.push(cur.length);
    cur = cur[0];
  }
  const data: number[] = [];
  const walk = (node: NestedNumbers, dim: number, path: string): void => {
    if (dim === shape.length) {
      if (typeof node !== 'number') throw new BinaryDecodeError(`ragged tensor: expected a number at ${path}, found a list`);
      data.push(node);
      return;
    }
    if (!Array.isArray(node)) throw new BinaryDecodeError(`ragged tensor: expected a list at ${path}, found a number`);
    if (node.length !== shape[dim]) {
      throw new BinaryDecodeError(`ragged tensor: list at ${path} has ${node.length} items, expected ${String(shape[dim])}`);
    }
    node.forEach((child, i) => walk(child, dim + 1, `${path}[${i}]`));
  };
  walk(nested, 0, '$');

  if (expectedShape === undefined || sameShape(shape, expectedShape)) return { shape, data };
  // An empty innermost list hides the dimensions below it.
  const last = shape.length - 1;
  if (
    last >= 0 && shape[last] === 0 && expectedShape.length > shape.length &&
    sameShape(shape, expectedShape.slice(0, shape.length))
  ) {
    return { shape: [...expectedShape], data };
  }
  throw new BinaryDecodeError(`tensor shape ${JSON.stringify(shape)} does not match the declared shape ${JSON.stringify(expectedShape)}`);
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * Inverse of flattenTensor: builds nested lists of `shape` from row-major
 * `data`. Shape [] yields the single number. Its work is the shape's nested
 * size (lists plus numbers), which the tensor rule bounds, so it is checked
 * before anything is built: a value stored before the rule existed (say
 * [4294967295, 0]) is refused instead of exhausting memory.
 *
 * @throws DomainError `invalid_value` when the shape breaks the tensor rule
 *   (src/domain/tensor-shape.ts); RangeError when its element count differs
 *   from `data.length`.
 */
export function nestTensor(data: ArrayLike<number>, shape: readonly number[]): NestedNumbers {
  if (shape.length > 0) checkTensorShape(shape);
  let size = 1;
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) throw new RangeError(`shape dimensions must be non-negative integers, got ${JSON.stringify(shape)}`);
    size *= d;
  }
  if (size !== data.length) throw new RangeError(`shape ${JSON.stringify(shape)} needs ${size} values, got ${data.length}`);
  let next = 0;
  const build = (dim: number): NestedNumbers => {
    if (dim === shape.length) return data[next++] as number;
    const out: NestedNumbers[] = [];
    for (let i = 0; i < (shape[dim] as number); i++) out.push(build(dim + 1));
    return out;
  };
  return build(0);
}

/**
 * The JSON text of `JSON.stringify(nestTensor(data, shape))`, written as
 * text: no nested arrays are allocated, and a shape with a zero dimension
 * repeats one string instead of building each empty list. Linear in the
 * output, which the tensor rule bounds.
 *
 * @throws as nestTensor.
 */
export function nestedTensorJson(data: readonly number[], shape: readonly number[]): string {
  if (shape.length === 0) return JSON.stringify(nestTensor(data, shape));
  checkTensorShape(shape);
  const size = shape.reduce((a, b) => a * b, 1);
  if (size !== data.length) throw new RangeError(`shape ${JSON.stringify(shape)} needs ${size} values, got ${data.length}`);
  const zeroAt = shape.indexOf(0);
  if (zeroAt >= 0) {
    // Everything from the empty dimension up is one string repeated.
    let text = '[]';
    for (let dim = zeroAt - 1; dim >= 0; dim--) text = `[${Array<string>(shape[dim] as number).fill(text).join(',')}]`;
    return text;
  }
  let next = 0;
  const build = (dim: number): string => {
    const length = shape[dim] as number;
    if (dim === shape.length - 1) {
      const row = JSON.stringify(data.slice(next, next + length));
      next += length;
      return row;
    }
    const parts = new Array<string>(length);
    for (let i = 0; i < length; i++) parts[i] = build(dim + 1);
    return `[${parts.join(',')}]`;
  };
  return build(0);
}

/** Thrown by the encoders for values they cannot represent. */
export class BinaryEncodeError extends Error {
  override readonly name = 'BinaryEncodeError';
}

/** Options for the encoders. */
export interface BinaryEncodeOptions {
  /**
   * When true, numbers that are safe integers (other than −0) are written as
   * integers (Python int / Erlang integer); otherwise every number is written
   * as a float, which is what float tensors and embeddings want. Default false.
   */
  readonly integersAsInts?: boolean;
}

/** Growable byte buffer. */
class ByteWriter {
  private buf = new Uint8Array(256);
  private view = new DataView(this.buf.buffer);
  len = 0;

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.len++] = v;
  }

  bytes(v: readonly number[]): void {
    this.ensure(v.length);
    for (const b of v) this.buf[this.len++] = b;
  }

  u16be(v: number): void {
    this.ensure(2);
    this.view.setUint16(this.len, v, false);
    this.len += 2;
  }

  u32be(v: number): void {
    this.ensure(4);
    this.view.setUint32(this.len, v, false);
    this.len += 4;
  }

  i32(v: number, littleEndian: boolean): void {
    this.ensure(4);
    this.view.setInt32(this.len, v, littleEndian);
    this.len += 4;
  }

  f64be(v: number): void {
    this.ensure(8);
    this.view.setFloat64(this.len, v, false);
    this.len += 8;
  }

  result(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

/** Walks `nested` (top must be a list), rejecting non-numbers and over-deep (or cyclic) input. */
function encodeTree(
  nested: unknown,
  onList: (list: readonly unknown[], recurse: (v: unknown) => void) => void,
  onNumber: (n: number) => void,
): void {
  if (!Array.isArray(nested)) throw new BinaryEncodeError('top-level value must be a list');
  const visit = (v: unknown, depth: number): void => {
    if (typeof v === 'number') return onNumber(v);
    if (!Array.isArray(v)) throw new BinaryEncodeError(`cannot encode ${typeof v}: only (nested) lists of numbers`);
    if (depth > DEFAULT_DECODE_LIMITS.maxDepth) {
      throw new BinaryEncodeError(`lists nested deeper than ${DEFAULT_DECODE_LIMITS.maxDepth} (or cyclic)`);
    }
    onList(v, (child) => visit(child, depth + 1));
  };
  visit(nested, 1);
}

function isIntegral(n: number, opts?: BinaryEncodeOptions): boolean {
  return opts?.integersAsInts === true && Number.isSafeInteger(n) && !Object.is(n, -0);
}

/** Minimal little-endian two's complement bytes of n, as Python's encode_long (LONG1). */
function twosComplementLE(n: number): number[] {
  let v = BigInt(n);
  const out: number[] = [];
  for (;;) {
    const byte = Number(v & 0xffn);
    out.push(byte);
    v >>= 8n; // arithmetic shift: ends at 0 or -1
    if ((v === 0n && (byte & 0x80) === 0) || (v === -1n && (byte & 0x80) !== 0)) return out;
  }
}

/**
 * Encodes nested lists of numbers as a protocol-2 pickle (loadable by
 * `pickle.loads` on any Python 3, and by decodePickledNumbers): PROTO 2,
 * EMPTY_LIST, MARK, items, APPENDS (batches of 1000, as Python does), STOP.
 * Numbers become BINFLOAT (big-endian double, so NaN/±Infinity/−0 survive),
 * or ints with `integersAsInts`. No memo is written.
 *
 * @throws BinaryEncodeError when the top level is not a list, an element is
 *   neither a number nor a list, or nesting exceeds
 *   DEFAULT_DECODE_LIMITS.maxDepth (which also catches cycles).
 */
export function encodePickledNumbers(nested: NestedNumbers[], options?: BinaryEncodeOptions): Uint8Array {
  const w = new ByteWriter();
  w.bytes([0x80, 2]); // PROTO 2
  encodeTree(
    nested,
    (list, recurse) => {
      w.u8(0x5d); // EMPTY_LIST
      for (let start = 0; start < list.length; start += 1000) {
        const batch = list.slice(start, start + 1000);
        if (batch.length === 1) {
          recurse(batch[0]);
          w.u8(0x61); // APPEND
        } else {
          w.u8(0x28); // MARK
          for (const v of batch) recurse(v);
          w.u8(0x65); // APPENDS
        }
      }
    },
    (n) => {
      if (!isIntegral(n, options)) {
        w.u8(0x47); // BINFLOAT
        w.f64be(n);
      } else if (n >= 0 && n < 0x100) {
        w.bytes([0x4b, n]); // BININT1
      } else if (n >= 0 && n < 0x10000) {
        w.bytes([0x4d, n & 0xff, n >> 8]); // BININT2 (LE)
      } else if (n >= -0x80000000 && n <= 0x7fffffff) {
        w.u8(0x4a); // BININT (LE)
        w.i32(n, true);
      } else {
        const b = twosComplementLE(n);
        w.bytes([0x8a, b.length, ...b]); // LONG1
      }
    },
  );
  w.u8(0x2e); // STOP
  return w.result();
}

/**
 * Encodes nested lists of numbers in Erlang External Term Format, as
 * `:erlang.binary_to_term/1` (and decodeErlangTermNumbers) reads it: 131,
 * then LIST_EXT (108, u32 length, elements, NIL_EXT 106) per list, NIL_EXT for
 * an empty list, NEW_FLOAT_EXT (70, big-endian double) per number, or
 * SMALL_INTEGER_EXT / INTEGER_EXT / SMALL_BIG_EXT with `integersAsInts`.
 *
 * @throws BinaryEncodeError when the top level is not a list, an element is
 *   neither a number nor a list, a float is NaN or ±Infinity (Erlang cannot
 *   represent them), or nesting exceeds DEFAULT_DECODE_LIMITS.maxDepth.
 */
export function encodeErlangTermNumbers(nested: NestedNumbers[], options?: BinaryEncodeOptions): Uint8Array {
  const w = new ByteWriter();
  w.u8(131);
  encodeTree(
    nested,
    (list, recurse) => {
      if (list.length === 0) return w.u8(106); // NIL_EXT
      w.u8(108); // LIST_EXT
      w.u32be(list.length);
      for (const v of list) recurse(v);
      w.u8(106); // proper tail
    },
    (n) => {
      if (!isIntegral(n, options)) {
        if (!Number.isFinite(n)) throw new BinaryEncodeError(`Erlang floats cannot be ${n}`);
        w.u8(70); // NEW_FLOAT_EXT
        w.f64be(n);
      } else if (n >= 0 && n < 0x100) {
        w.bytes([97, n]); // SMALL_INTEGER_EXT
      } else if (n >= -0x80000000 && n <= 0x7fffffff) {
        w.u8(98); // INTEGER_EXT (BE)
        w.i32(n, false);
      } else {
        const mag: number[] = [];
        for (let m = Math.abs(n); m > 0; m = Math.floor(m / 256)) mag.push(m % 256);
        w.bytes([110, mag.length, n < 0 ? 1 : 0, ...mag]); // SMALL_BIG_EXT, magnitude LE
      }
    },
  );
  return w.result();
}
