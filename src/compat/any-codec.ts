/**
 * Values as Snakepit encodes them: a google.protobuf.Any whose type_url is
 * `type.googleapis.com/snakepit.<type>` and whose `value` is the JSON text of
 * the value, or — for large embeddings and tensors —
 * `type.googleapis.com/snakepit.<type>.binary` with JSON metadata (shape,
 * dtype, binary_format) and the numbers in a separate bytes field.
 *
 * Decoding yields a domain Value for the service to convert to the variable's
 * type (so "NaN" → float, 3 → integer or float, …); it never checks the type.
 */
import { DomainError, LIMITS, STORED_KIND, TENSOR_DTYPES, VARIABLE_TYPES, type Value, type VariableType } from '../domain/index.js';
import type { Any } from '../gen/google/protobuf/any.js';
import {
  BinaryDecodeError,
  decodeBinaryNumbers,
  encodeErlangTermNumbers,
  encodePickledNumbers,
  flattenTensor,
  nestTensor,
  nestedTensorJson,
  type NestedNumbers,
} from './binary-values.js';

export const TYPE_URL_PREFIX = 'type.googleapis.com/snakepit.';
const BINARY_SUFFIX = '.binary';

/** How a client sent a value; replies use the same. */
export type BinaryFormat = 'pickle' | 'erlang_binary';
export type ValueEncoding = 'json' | BinaryFormat;

/** The decoders stop at the tensor rule's bounds, before building more than a tensor may hold. */
const TENSOR_DECODE_LIMITS = { maxElements: LIMITS.tensorSize, maxDepth: LIMITS.tensorRank } as const;

const badValue = (message: string) => new DomainError('invalid_value', message);
const INTEGER_JSON = /^-?\d+$/;

export interface DecodedValue {
  readonly value: Value;
  readonly encoding: ValueEncoding;
}

/** Reads an Any (+ its binary companion) sent by a Snakepit client. Throws `invalid_request` / `invalid_value`. */
export function decodeAny(any: Any | undefined, binary: Uint8Array | undefined, field: string): DecodedValue {
  if (!any || (any.typeUrl === '' && any.value.length === 0)) {
    throw new DomainError('invalid_request', `${field} is required`);
  }
  const text = utf8(any.value, field);
  if (any.typeUrl.endsWith(BINARY_SUFFIX)) return decodeBinary(any.typeUrl, text, binary, field);
  return { value: fromJson(parseJson(text, field), text.trim(), field), encoding: 'json' };
}

/** One decoder for every value: constructing one per call cost more than decoding a short value. */
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function utf8(bytes: Uint8Array, field: string): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    throw new DomainError('invalid_request', `${field} is not valid UTF-8 JSON`);
  }
}

function parseJson(text: string, field: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new DomainError('invalid_request', `${field} does not hold valid JSON`);
  }
}

/** The type named by a type_url: the last dotted segment before any `.binary`. */
function typeOfUrl(typeUrl: string): string {
  const path = typeUrl.slice(typeUrl.lastIndexOf('/') + 1).replace(/\.binary$/, '');
  return path.slice(path.lastIndexOf('.') + 1);
}

function isNumberArray(raw: unknown): raw is number[] {
  return Array.isArray(raw) && raw.every((v) => typeof v === 'number');
}

function isNested(raw: unknown): boolean {
  return Array.isArray(raw) && raw.some(Array.isArray);
}

function tensorOf(nested: unknown, shape: readonly number[] | undefined, dtype: unknown, field: string): Value {
  let flat: { shape: number[]; data: number[] };
  try {
    flat = flattenTensor(nested as NestedNumbers, shape);
  } catch (error) {
    throw badValue(`${field}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const known = typeof dtype === 'string' && (TENSOR_DTYPES as readonly string[]).includes(dtype);
  return { kind: 'tensor', shape: flat.shape, data: flat.data, dtype: known ? dtype : '' };
}

function fromJson(raw: unknown, text: string, field: string): Value {
  if (typeof raw === 'string') return { kind: 'string', value: raw };
  if (typeof raw === 'boolean') return { kind: 'boolean', value: raw };
  if (typeof raw === 'number') {
    // JSON numbers beyond 2^53 lose digits in JSON.parse: read integers from the text.
    return INTEGER_JSON.test(text) ? { kind: 'integer', value: BigInt(text) } : { kind: 'float', value: raw };
  }
  if (isNumberArray(raw)) return { kind: 'vector', values: raw };
  if (isNested(raw)) return tensorOf(raw, undefined, undefined, field);
  if (raw !== null && typeof raw === 'object' && 'data' in raw) {
    const t = raw as { shape?: unknown; data: unknown; dtype?: unknown };
    const shape = isNumberArray(t.shape) ? t.shape : undefined;
    return tensorOf(t.data, shape, t.dtype, field);
  }
  throw badValue(`${field} holds JSON varledger cannot store: ${text.slice(0, 80)}`);
}

function decodeBinary(typeUrl: string, text: string, binary: Uint8Array | undefined, field: string): DecodedValue {
  if (!binary || binary.length === 0) {
    throw new DomainError('invalid_request', `${field} is a .binary value but its binary data is empty`);
  }
  const meta = parseJson(text, field);
  const m = (meta !== null && typeof meta === 'object' ? meta : {}) as { shape?: unknown; dtype?: unknown; binary_format?: unknown };
  const format = m.binary_format === undefined ? 'pickle' : m.binary_format;
  if (format !== 'pickle' && format !== 'erlang_binary') {
    throw new DomainError('invalid_request', `${field}: unknown binary_format ${JSON.stringify(format)}; use pickle or erlang_binary`);
  }
  let nested: unknown;
  try {
    nested = decodeBinaryNumbers(binary, format, TENSOR_DECODE_LIMITS);
  } catch (error) {
    if (error instanceof BinaryDecodeError) throw new DomainError('invalid_request', `${field}: ${error.message}`);
    throw error;
  }
  const shape = isNumberArray(m.shape) ? m.shape : undefined;
  if (typeOfUrl(typeUrl) === 'tensor') return { value: tensorOf(nested, shape, m.dtype, field), encoding: format };
  const flat = tensorOf(nested, undefined, undefined, field);
  if (flat.kind !== 'tensor' || flat.shape.length !== 1) throw badValue(`${field}: an embedding must be a flat list of numbers`);
  return { value: { kind: 'vector', values: flat.data }, encoding: format };
}

// ── encoding ────────────────────────────────────────────────────────────

export interface EncodedValue {
  readonly any: Any;
  /** Empty unless the value is sent as `.binary`. */
  readonly binary: Buffer;
}

const EMPTY = Buffer.alloc(0);
const INTEGER_DTYPES: ReadonlySet<string> = new Set(['int8', 'int16', 'int32', 'int64', 'uint8']);

/** Each type's URL made once: a URL built per value is a rope the protobuf writer flattens per value. */
const JSON_TYPE_URLS = urlsByType('');
const BINARY_TYPE_URLS = urlsByType(BINARY_SUFFIX);

function urlsByType(suffix: string): Readonly<Record<VariableType, string>> {
  return Object.fromEntries(VARIABLE_TYPES.map((type) => [type, `${TYPE_URL_PREFIX}${type}${suffix}`])) as Record<VariableType, string>;
}

function jsonAny(type: VariableType, json: string): Any {
  return { typeUrl: JSON_TYPE_URLS[type], value: Buffer.from(json, 'utf8') };
}

function floatJson(n: number): string {
  if (Number.isNaN(n)) return '"NaN"';
  if (n === Infinity) return '"Infinity"';
  if (n === -Infinity) return '"-Infinity"';
  return JSON.stringify(n);
}

/** The JSON text Snakepit expects for a value. */
export function valueJson(value: Value): string {
  switch (value.kind) {
    case 'float':
      return floatJson(value.value);
    case 'integer':
      return value.value.toString();
    case 'string':
    case 'boolean':
      return JSON.stringify(value.value);
    case 'vector':
      return JSON.stringify(value.values);
    case 'tensor':
      // Nested like numpy's tolist(), which is what Python workers send.
      return `{"shape":${JSON.stringify(value.shape)},"data":${nestedTensorJson(value.data, value.shape)}}`;
    default: {
      const exhaustive: never = value;
      throw new Error(`unhandled value ${String(exhaustive)}`);
    }
  }
}

/**
 * Encodes a variable's value as Snakepit does: JSON, or `.binary` in the
 * given format for embeddings and tensors.
 */
export function encodeValue(type: VariableType, value: Value, encoding: ValueEncoding): EncodedValue {
  const numbers = value.kind === 'vector' ? value.values : value.kind === 'tensor' ? value.data : undefined;
  if (encoding === 'json' || numbers === undefined || STORED_KIND[type] !== value.kind) {
    return { any: jsonAny(type, valueJson(value)), binary: EMPTY };
  }
  const shape = value.kind === 'tensor' ? value.shape : [numbers.length];
  const dtype = value.kind === 'tensor' && value.dtype !== '' ? value.dtype : 'float64';
  const meta = JSON.stringify({ shape, dtype, binary_format: encoding, type });
  const nested = value.kind === 'tensor' ? (nestTensor(value.data, value.shape) as NestedNumbers[]) : [...numbers];
  const options = { integersAsInts: INTEGER_DTYPES.has(dtype) };
  const bytes = encoding === 'pickle' ? encodePickledNumbers(nested, options) : encodeErlangTermNumbers(nested, options);
  return {
    any: { typeUrl: BINARY_TYPE_URLS[type], value: Buffer.from(meta, 'utf8') },
    binary: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
  };
}
