/**
 * Restricted pickle decoder: accepts ONLY (nested) lists of numbers.
 *
 * Snakepit/DSPex Python workers send embeddings and tensors as
 * `pickle.dumps(list_of_floats)`. A general unpickler is remote code
 * execution (GLOBAL + REDUCE calls any importable callable), so this is a tiny
 * VM over the opcodes a list of numbers needs; every other opcode is refused
 * before anything is read past it. Nothing is ever looked up, imported,
 * called or constructed except plain arrays and numbers.
 *
 * Decisions (see the JSDoc on {@link decodePickledNumbers}):
 *  - bools (NEWTRUE/NEWFALSE, and protocol 0's `I01`/`I00`) are REJECTED:
 *    a list holding True is not a list of numbers, and coercing silently would
 *    hide a caller bug;
 *  - tuples are REJECTED (no TUPLE* opcodes): Snakepit sends lists, and
 *    keeping the grammar to lists keeps the accepted language minimal;
 *  - None, strings, bytes, dicts, sets, globals, persistent ids, extension
 *    codes and out-of-band buffers are REJECTED.
 *
 * This file also holds the pieces shared with the ETF decoder
 * ({@link BinaryDecodeError}, {@link BinaryDecodeLimits}), because the compat
 * layer is deliberately limited to three files.
 */

/** A number, or a list of (nested lists of) numbers. */
export type NestedNumbers = number | NestedNumbers[];

/** Resource limits shared by both decoders; every field is optional. */
export interface BinaryDecodeLimits {
  /** Largest accepted input (and, for compressed ETF, decompressed) size in bytes. Default 64 MiB. */
  readonly maxInputBytes?: number;
  /**
   * Most values (numbers plus nested lists, not counting the top-level list)
   * in the decoded tree, counted after expanding shared references.
   * Default 10,000,000.
   */
  readonly maxElements?: number;
  /** Deepest list nesting; the top-level list is depth 1. Default 32. */
  readonly maxDepth?: number;
}

/** The defaults used for any limit not given. */
export const DEFAULT_DECODE_LIMITS: Readonly<Required<BinaryDecodeLimits>> = Object.freeze({
  maxInputBytes: 64 * 1024 * 1024,
  maxElements: 10_000_000,
  maxDepth: 32,
});

/**
 * Thrown for any input the restricted decoders refuse: unsupported
 * opcode/tag, malformed or truncated data, trailing bytes, out-of-range
 * integers, or a limit exceeded. `offset` is the byte position where the
 * problem was found, when known.
 */
export class BinaryDecodeError extends Error {
  override readonly name = 'BinaryDecodeError';
  constructor(
    message: string,
    readonly offset?: number,
  ) {
    super(offset === undefined ? message : `${message} (at byte ${offset})`);
  }
}

/** Fills in defaults and validates caller-supplied limits. Shared with the ETF decoder. */
export function resolveLimits(limits?: BinaryDecodeLimits): Required<BinaryDecodeLimits> {
  const r = { ...DEFAULT_DECODE_LIMITS, ...stripUndefined(limits) };
  for (const [k, v] of Object.entries(r)) {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`limit ${k} must be a non-negative safe integer, got ${String(v)}`);
  }
  return r;
}

function stripUndefined(limits?: BinaryDecodeLimits): BinaryDecodeLimits {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(limits ?? {})) if (v !== undefined) out[k] = v as number;
  return out;
}

// Every opcode pickle defines (pickletools.opcodes), so refusals name it.
const OPCODE_NAMES: ReadonlyMap<number, string> = new Map(
  Object.entries({
    '(': 'MARK', ')': 'EMPTY_TUPLE', '.': 'STOP', '0': 'POP', '1': 'POP_MARK', '2': 'DUP',
    B: 'BINBYTES', C: 'SHORT_BINBYTES', F: 'FLOAT', G: 'BINFLOAT', I: 'INT', J: 'BININT',
    K: 'BININT1', L: 'LONG', M: 'BININT2', N: 'NONE', P: 'PERSID', Q: 'BINPERSID',
    R: 'REDUCE', S: 'STRING', T: 'BINSTRING', U: 'SHORT_BINSTRING', V: 'UNICODE',
    X: 'BINUNICODE', ']': 'EMPTY_LIST', a: 'APPEND', b: 'BUILD', c: 'GLOBAL', d: 'DICT',
    '}': 'EMPTY_DICT', e: 'APPENDS', g: 'GET', h: 'BINGET', i: 'INST', j: 'LONG_BINGET',
    l: 'LIST', o: 'OBJ', p: 'PUT', q: 'BINPUT', r: 'LONG_BINPUT', s: 'SETITEM', t: 'TUPLE',
    u: 'SETITEMS', '\x80': 'PROTO', '\x81': 'NEWOBJ', '\x82': 'EXT1', '\x83': 'EXT2',
    '\x84': 'EXT4', '\x85': 'TUPLE1', '\x86': 'TUPLE2', '\x87': 'TUPLE3', '\x88': 'NEWTRUE',
    '\x89': 'NEWFALSE', '\x8a': 'LONG1', '\x8b': 'LONG4', '\x8c': 'SHORT_BINUNICODE',
    '\x8d': 'BINUNICODE8', '\x8e': 'BINBYTES8', '\x8f': 'EMPTY_SET', '\x90': 'ADDITEMS',
    '\x91': 'FROZENSET', '\x92': 'NEWOBJ_EX', '\x93': 'STACK_GLOBAL', '\x94': 'MEMOIZE',
    '\x95': 'FRAME', '\x96': 'BYTEARRAY8', '\x97': 'NEXT_BUFFER', '\x98': 'READONLY_BUFFER',
  }).map(([ch, name]) => [ch.charCodeAt(0), name]),
);

function describeOpcode(op: number): string {
  const name = OPCODE_NAMES.get(op) ?? 'unknown opcode';
  const printable = op >= 0x20 && op < 0x7f ? ` '${String.fromCharCode(op)}'` : '';
  return `${name} (0x${op.toString(16).padStart(2, '0')}${printable})`;
}

/**
 * A list under construction. Pickle shares a list by memo reference (GET),
 * so we track, per list, its expanded size and height: that is what limits
 * "billion laughs" style sharing (a list of 1000 references to a list of 1000
 * references ...) without ever expanding it.
 *
 * `frozen` makes sharing safe: a list becomes frozen once it is fetched from
 * the memo or appended into another list, and appending INTO a frozen list is
 * refused. Python's pickler only shares complete lists, so real pickles never
 * hit this; but every cycle needs such an append (the only way to a second
 * reference to a list is GET, and a list reachable from a child was itself
 * appended somewhere), so cycles are impossible, and the stats of a frozen
 * list never change after a parent has added them up.
 */
class PList {
  readonly items: (number | PList)[] = [];
  frozen = false;
  /** Numbers plus lists below this one, with shared lists counted every time they occur. */
  count = 0;
  /** 1 for a list holding no lists. */
  height = 1;
}

type Value = number | PList;

/** Longest text line (protocol 0/1 INT, LONG, FLOAT, PUT, GET) we read; real ones are < 30 bytes. */
const MAX_LINE = 64;
const INT_RE = /^[+-]?\d+$/;
const FLOAT_RE = /^[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf|infinity|nan)$/i;

/**
 * Decodes a pickle (protocols 0–5) that holds a list of numbers, or nested
 * lists of numbers, e.g. `pickle.dumps([0.1, 0.2])` or
 * `pickle.dumps(ndarray.tolist())`.
 *
 * Accepted: ints (returned as numbers; must be safe integers, |n| ≤ 2^53−1),
 * floats (including NaN, ±Infinity and −0), lists, and memo references to
 * lists (shared sub-lists are returned as independent copies, so the result
 * is a plain tree). The top level must be a list.
 *
 * Never executes or constructs anything else. The result is a fresh tree of
 * plain arrays and numbers.
 *
 * @throws BinaryDecodeError when the input uses any other opcode (GLOBAL,
 *   STACK_GLOBAL, REDUCE, BUILD, INST, OBJ, NEWOBJ, PERSID, EXT*, tuples,
 *   dicts, strings, bytes, None, bools, ...), when an integer is outside the
 *   safe range, when the input is truncated, has bytes after STOP, underflows
 *   the stack, has unbalanced MARKs, references a missing memo key, would form
 *   a cycle, is not a list at the top, or exceeds a limit.
 * @throws RangeError when a given limit is not a non-negative safe integer.
 */
export function decodePickledNumbers(bytes: Uint8Array, limits?: BinaryDecodeLimits): NestedNumbers[] {
  const lim = resolveLimits(limits);
  if (bytes.length > lim.maxInputBytes) {
    throw new BinaryDecodeError(`pickle is ${bytes.length} bytes, over the ${lim.maxInputBytes}-byte limit`);
  }
  const top = new PickleVm(bytes, lim).run();
  return materialize(top);
}

/** Expands the (possibly shared) PList graph into a fresh tree; bounded by maxElements via PList.count. */
function materialize(list: PList): NestedNumbers[] {
  return list.items.map((v) => (typeof v === 'number' ? v : materialize(v)));
}

class PickleVm {
  private pos = 0;
  private stack: Value[] = [];
  private readonly metastack: Value[][] = [];
  private readonly memo = new Map<number, Value>();
  /** Values pushed so far: bounds stack memory (a valid pickle pushes each non-top value once). */
  private pushes = 0;
  private readonly view: DataView;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly lim: Required<BinaryDecodeLimits>,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  run(): PList {
    for (;;) {
      if (this.pos >= this.bytes.length) throw new BinaryDecodeError('truncated pickle: no STOP opcode', this.pos);
      const at = this.pos;
      const op = this.bytes[this.pos++] as number;
      switch (op) {
        case 0x80: { // PROTO
          const v = this.u8();
          if (v > 5) throw new BinaryDecodeError(`unsupported pickle protocol ${v}`, at);
          break;
        }
        case 0x95: { // FRAME: an 8-byte length prefix; frames are only a read-ahead hint, so just check it fits.
          this.need(8);
          const n = this.view.getBigUint64(this.pos, true);
          this.pos += 8;
          if (n > BigInt(this.bytes.length - this.pos)) throw new BinaryDecodeError(`truncated pickle: FRAME of ${n} bytes`, at);
          break;
        }
        case 0x5d: // EMPTY_LIST
          this.push(new PList(), at);
          break;
        case 0x28: // MARK
          if (this.metastack.length >= this.lim.maxDepth + 1) {
            throw new BinaryDecodeError(`MARK nesting exceeds the depth limit of ${this.lim.maxDepth}`, at);
          }
          this.metastack.push(this.stack);
          this.stack = [];
          break;
        case 0x6c: { // LIST: MARK items LIST -> [items]
          const items = this.popMark(op, at);
          const list = new PList();
          for (const v of items) this.append(list, v, at);
          this.push(list, at);
          break;
        }
        case 0x61: { // APPEND
          const v = this.pop(op, at);
          this.append(this.targetList(op, at), v, at);
          break;
        }
        case 0x65: { // APPENDS
          const items = this.popMark(op, at);
          const list = this.targetList(op, at);
          for (const v of items) this.append(list, v, at);
          break;
        }
        case 0x47: // BINFLOAT: big-endian IEEE 754 double
          this.need(8);
          this.push(this.view.getFloat64(this.pos, false), at);
          this.pos += 8;
          break;
        case 0x4a: // BININT: signed 32-bit LE
          this.need(4);
          this.push(this.view.getInt32(this.pos, true), at);
          this.pos += 4;
          break;
        case 0x4b: // BININT1: unsigned 8-bit
          this.push(this.u8(), at);
          break;
        case 0x4d: // BININT2: unsigned 16-bit LE
          this.need(2);
          this.push(this.view.getUint16(this.pos, true), at);
          this.pos += 2;
          break;
        case 0x8a: // LONG1: 1-byte length, little-endian two's complement
          this.push(this.long(this.u8(), at), at);
          break;
        case 0x8b: { // LONG4: 4-byte length (only small values survive the range check)
          this.need(4);
          const n = this.view.getInt32(this.pos, true);
          this.pos += 4;
          if (n < 0) throw new BinaryDecodeError('LONG4 with negative length', at);
          this.push(this.long(n, at), at);
          break;
        }
        case 0x49: { // INT: decimal text; protocol 0 spells True/False as I01/I00
          const line = this.line(op, at);
          if (line === '01' || line === '00') throw new BinaryDecodeError('bool (INT 01/00) is not accepted; send numbers', at);
          this.push(this.textInt(line, op, at), at);
          break;
        }
        case 0x4c: { // LONG: decimal text with optional trailing L
          const line = this.line(op, at);
          this.push(this.textInt(line.endsWith('L') ? line.slice(0, -1) : line, op, at), at);
          break;
        }
        case 0x46: { // FLOAT: repr() text
          const line = this.line(op, at);
          if (!FLOAT_RE.test(line)) throw new BinaryDecodeError(`malformed FLOAT text ${JSON.stringify(line)}`, at);
          const lower = line.toLowerCase().replace(/^\+/, '');
          this.push(lower.endsWith('nan') ? NaN : lower.endsWith('inf') || lower.endsWith('infinity')
            ? (lower.startsWith('-') ? -Infinity : Infinity) : Number(line), at);
          break;
        }
        case 0x94: // MEMOIZE: memo[len(memo)] = top
          this.put(this.memo.size, at);
          break;
        case 0x71: // BINPUT
          this.put(this.u8(), at);
          break;
        case 0x72: // LONG_BINPUT
          this.need(4);
          this.put(this.view.getUint32(this.pos, true), at);
          this.pos += 4;
          break;
        case 0x70: // PUT: decimal text index
          this.put(this.memoIndex(this.line(op, at), op, at), at);
          break;
        case 0x68: // BINGET
          this.get(this.u8(), at);
          break;
        case 0x6a: // LONG_BINGET
          this.need(4);
          this.get(this.view.getUint32(this.pos, true), at);
          this.pos += 4;
          break;
        case 0x67: // GET
          this.get(this.memoIndex(this.line(op, at), op, at), at);
          break;
        case 0x88: // NEWTRUE
        case 0x89: // NEWFALSE
          throw new BinaryDecodeError(`bool (${describeOpcode(op)}) is not accepted; send numbers`, at);
        case 0x2e: // STOP
          return this.stop(at);
        default:
          throw new BinaryDecodeError(
            `refusing pickle opcode ${describeOpcode(op)}: only lists of numbers are accepted`,
            at,
          );
      }
    }
  }

  private stop(at: number): PList {
    if (this.metastack.length > 0) throw new BinaryDecodeError('STOP with an unclosed MARK', at);
    if (this.stack.length !== 1) {
      throw new BinaryDecodeError(`STOP with ${this.stack.length} values on the stack (expected exactly 1)`, at);
    }
    if (this.pos !== this.bytes.length) {
      throw new BinaryDecodeError(`${this.bytes.length - this.pos} trailing bytes after STOP`, this.pos);
    }
    const top = this.stack[0];
    if (!(top instanceof PList)) throw new BinaryDecodeError('top-level pickled value is a number, not a list', at);
    return top;
  }

  private need(n: number): void {
    if (this.bytes.length - this.pos < n) {
      throw new BinaryDecodeError(`truncated pickle: need ${n} more bytes`, this.pos);
    }
  }

  private u8(): number {
    this.need(1);
    return this.bytes[this.pos++] as number;
  }

  /** A newline-terminated ASCII argument of a text opcode, without the newline. */
  private line(op: number, at: number): string {
    const end = Math.min(this.bytes.length, this.pos + MAX_LINE + 1);
    for (let i = this.pos; i < end; i++) {
      if (this.bytes[i] === 0x0a) {
        let s = '';
        for (let j = this.pos; j < i; j++) s += String.fromCharCode(this.bytes[j] as number);
        this.pos = i + 1;
        return s;
      }
    }
    if (end === this.bytes.length) throw new BinaryDecodeError(`truncated pickle: unterminated ${describeOpcode(op)} argument`, at);
    throw new BinaryDecodeError(`${describeOpcode(op)} argument longer than ${MAX_LINE} bytes`, at);
  }

  private textInt(s: string, op: number, at: number): number {
    if (!INT_RE.test(s)) throw new BinaryDecodeError(`malformed ${describeOpcode(op)} text ${JSON.stringify(s)}`, at);
    const n = Number(s);
    if (!Number.isSafeInteger(n)) throw new BinaryDecodeError(`integer ${s} is outside the safe range ±(2^53−1)`, at);
    return n;
  }

  private memoIndex(s: string, op: number, at: number): number {
    if (!/^\d+$/.test(s)) throw new BinaryDecodeError(`malformed ${describeOpcode(op)} memo index ${JSON.stringify(s)}`, at);
    const n = Number(s);
    if (!Number.isSafeInteger(n)) throw new BinaryDecodeError(`memo index ${s} out of range`, at);
    return n;
  }

  /** Little-endian two's complement integer of n bytes; anything wider than 8 bytes cannot be a safe integer. */
  private long(n: number, at: number): number {
    if (n > 8) throw new BinaryDecodeError(`LONG of ${n} bytes is outside the safe integer range ±(2^53−1)`, at);
    this.need(n);
    let v = 0n;
    for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(this.bytes[this.pos + i] as number);
    if (n > 0 && ((this.bytes[this.pos + n - 1] as number) & 0x80) !== 0) v -= 1n << BigInt(8 * n);
    this.pos += n;
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw new BinaryDecodeError(`integer ${v} is outside the safe range ±(2^53−1)`, at);
    }
    return Number(v);
  }

  private push(v: Value, at: number): void {
    if (++this.pushes > this.lim.maxElements + 1) {
      throw new BinaryDecodeError(`pickle holds more than ${this.lim.maxElements} elements`, at);
    }
    this.stack.push(v);
  }

  private pop(op: number, at: number): Value {
    const v = this.stack.pop();
    if (v === undefined) throw new BinaryDecodeError(`stack underflow at ${describeOpcode(op)}`, at);
    return v;
  }

  /** Items pushed since the last MARK; restores the enclosing stack. */
  private popMark(op: number, at: number): Value[] {
    const outer = this.metastack.pop();
    if (outer === undefined) throw new BinaryDecodeError(`${describeOpcode(op)} without a matching MARK`, at);
    const items = this.stack;
    this.stack = outer;
    return items;
  }

  private targetList(op: number, at: number): PList {
    const t = this.stack[this.stack.length - 1];
    if (t === undefined) throw new BinaryDecodeError(`stack underflow at ${describeOpcode(op)}`, at);
    if (!(t instanceof PList)) throw new BinaryDecodeError(`${describeOpcode(op)} target is not a list`, at);
    return t;
  }

  private append(list: PList, v: Value, at: number): void {
    if (list.frozen) {
      throw new BinaryDecodeError('append into a list that is already referenced elsewhere (cyclic or mutated shared list)', at);
    }
    if (typeof v === 'number') {
      list.count += 1;
    } else {
      v.frozen = true;
      list.count += 1 + v.count;
      list.height = Math.max(list.height, v.height + 1);
      if (list.height > this.lim.maxDepth) {
        throw new BinaryDecodeError(`lists nested deeper than the limit of ${this.lim.maxDepth}`, at);
      }
    }
    if (list.count > this.lim.maxElements) {
      throw new BinaryDecodeError(`pickle holds more than ${this.lim.maxElements} elements`, at);
    }
    list.items.push(v);
  }

  private put(index: number, at: number): void {
    const top = this.stack[this.stack.length - 1];
    if (top === undefined) throw new BinaryDecodeError('memo store with an empty stack', at);
    if (!this.memo.has(index) && this.memo.size > this.lim.maxElements) {
      throw new BinaryDecodeError(`memo holds more than ${this.lim.maxElements} entries`, at);
    }
    this.memo.set(index, top);
  }

  private get(index: number, at: number): void {
    const v = this.memo.get(index);
    if (v === undefined) throw new BinaryDecodeError(`memo key ${index} not found`, at);
    if (v instanceof PList) v.frozen = true;
    this.push(v, at);
  }
}
