/**
 * Tool parameters and results in Snakepit's encodings.
 *
 * Parameters arrive as `map<string, google.protobuf.Any>`:
 *  - `type.googleapis.com/snakepit.<type>` (+ `.binary` with
 *    `binary_parameters[name]`) are decoded exactly like variable values
 *    (any-codec.ts) and converted to `<type>` when it is a variable type, so
 *    `"NaN"` as a float is NaN and a 64-bit integer keeps its digits;
 *  - anything else (Snakepit's own clients send
 *    `google.protobuf.StringValue` / `google.protobuf.Value` holding raw JSON)
 *    is the JSON text of the value; a packed StringValue / BoolValue wrapper
 *    (what Snakepit's later `call_elixir_tool` sends for strings and booleans)
 *    is read too.
 * The hub gets plain JSON-like values: numbers (bigint only for integers
 * beyond 2^53), strings, booleans, arrays, objects; tensors as
 * `{shape, data, dtype}` with nested data.
 *
 * Results and chunks go back as JSON text; a result is an Any with
 * Snakepit's server convention: type_url `google.protobuf.StringValue` and the
 * raw JSON bytes as its value (what Snakepit's Python clients decode).
 */
import { convertValue, DomainError, VARIABLE_TYPES, type Value, type VariableType } from '../domain/index.js';
import type { Any } from '../gen/google/protobuf/any.js';
import { decodeAny, TYPE_URL_PREFIX } from './any-codec.js';
import { nestTensor } from './binary-values.js';

export const RESULT_TYPE_URL = 'type.googleapis.com/google.protobuf.StringValue';
const STRING_VALUE_URL = 'type.googleapis.com/google.protobuf.StringValue';
const BOOL_VALUE_URL = 'type.googleapis.com/google.protobuf.BoolValue';

const bad = (message: string) => new DomainError('invalid_request', message);

function plainOf(value: Value): unknown {
  switch (value.kind) {
    case 'float':
    case 'string':
    case 'boolean':
      return value.value;
    case 'integer': {
      const n = Number(value.value);
      return Number.isSafeInteger(n) ? n : value.value;
    }
    case 'vector':
      return [...value.values];
    case 'tensor':
      return { shape: [...value.shape], data: nestTensor(value.data, value.shape), dtype: value.dtype };
    default: {
      const exhaustive: never = value;
      throw new Error(`unhandled value ${String(exhaustive)}`);
    }
  }
}

const variableTypeOf = (typeUrl: string): VariableType | undefined => {
  if (!typeUrl.startsWith(TYPE_URL_PREFIX)) return undefined;
  const type = typeUrl.slice(TYPE_URL_PREFIX.length).replace(/\.binary$/, '');
  return (VARIABLE_TYPES as readonly string[]).includes(type) ? (type as VariableType) : undefined;
};

/** Reads a protobuf varint at `offset`; undefined when malformed. */
function varint(bytes: Uint8Array, offset: number): { value: number; next: number } | undefined {
  let value = 0;
  for (let i = 0, shift = 1; i < 5 && offset + i < bytes.length; i++, shift *= 128) {
    const byte = bytes[offset + i] as number;
    value += (byte & 0x7f) * shift;
    if ((byte & 0x80) === 0) return { value, next: offset + i + 1 };
  }
  return undefined;
}

/** A packed google.protobuf.StringValue / BoolValue, or undefined if the bytes are not one. */
function unwrap(typeUrl: string, bytes: Uint8Array): unknown {
  if (typeUrl === STRING_VALUE_URL) {
    if (bytes.length === 0) return '';
    if (bytes[0] !== 0x0a) return undefined;
    const length = varint(bytes, 1);
    if (!length || length.next + length.value !== bytes.length) return undefined;
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(length.next));
    } catch {
      return undefined;
    }
  }
  if (typeUrl === BOOL_VALUE_URL) {
    if (bytes.length === 0) return false;
    if (bytes.length === 2 && bytes[0] === 0x08 && (bytes[1] === 0 || bytes[1] === 1)) return bytes[1] === 1;
  }
  return undefined;
}

function decodeJsonParameter(field: string, any: Any): unknown {
  let text: string | undefined;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(any.value);
  } catch {
    text = undefined;
  }
  if (text !== undefined) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      // not JSON: maybe a packed wrapper
    }
  }
  const unwrapped = unwrap(any.typeUrl, any.value);
  if (unwrapped !== undefined) return unwrapped;
  throw bad(`${field} does not hold valid JSON (type_url ${JSON.stringify(any.typeUrl)})`);
}

/** One parameter, decoded. Throws `invalid_request` / `invalid_value` naming it. */
export function decodeToolParameter(name: string, any: Any | undefined, binary: Uint8Array | undefined): unknown {
  const field = `parameters[${name}]`;
  if (!any || (any.typeUrl === '' && any.value.length === 0)) throw bad(`${field} is empty`);
  const type = variableTypeOf(any.typeUrl);
  if (type !== undefined || any.typeUrl.endsWith('.binary')) {
    const decoded = decodeAny(any, binary, field).value;
    if (type === undefined) return plainOf(decoded);
    try {
      return plainOf(convertValue(type, decoded));
    } catch (error) {
      if (error instanceof DomainError) throw new DomainError(error.code, `${field}: ${error.message}`);
      throw error;
    }
  }
  return decodeJsonParameter(field, any);
}

/** All parameters of an ExecuteTool / ExecuteElixirTool request. */
export function decodeToolParameters(
  parameters: { readonly [name: string]: Any },
  binaryParameters: { readonly [name: string]: Uint8Array } = {},
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, any] of Object.entries(parameters)) out[name] = decodeToolParameter(name, any, binaryParameters[name]);
  for (const name of Object.keys(binaryParameters)) {
    if (!(name in parameters)) {
      throw bad(`binary_parameters[${name}] has no parameters[${name}] describing it (a snakepit.<type>.binary Any)`);
    }
  }
  return out;
}

/** Thrown when a tool's result or chunk cannot be written as JSON. */
export class UnencodableResultError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnencodableResultError';
  }
}

function floatJson(n: number): string {
  if (Number.isNaN(n)) return '"NaN"';
  if (n === Infinity) return '"Infinity"';
  if (n === -Infinity) return '"-Infinity"';
  return JSON.stringify(n);
}

/**
 * JSON text of a tool's result or chunk, in Snakepit's conventions: bigints
 * keep all digits, non-finite floats are "NaN" / "Infinity" / "-Infinity",
 * undefined is null, byte arrays are arrays of numbers.
 */
export function toolJson(value: unknown): string {
  const ancestors = new Set<object>();
  const write = (v: unknown): string | undefined => {
    switch (typeof v) {
      case 'undefined':
      case 'function':
      case 'symbol':
        return undefined;
      case 'bigint':
        return v.toString();
      case 'number':
        return floatJson(v);
      case 'string':
      case 'boolean':
        return JSON.stringify(v);
      default:
        break;
    }
    if (v === null) return 'null';
    const obj = v as object;
    if (ancestors.has(obj)) throw new UnencodableResultError('the value refers to itself');
    ancestors.add(obj);
    try {
      if (ArrayBuffer.isView(obj)) return JSON.stringify(Array.from(new Uint8Array(obj.buffer, obj.byteOffset, obj.byteLength)));
      if (Array.isArray(obj)) return `[${obj.map((item) => write(item) ?? 'null').join(',')}]`;
      const toJSON = (obj as { toJSON?: unknown }).toJSON;
      if (typeof toJSON === 'function') return write(toJSON.call(obj));
      if (obj instanceof Map) return write(Object.fromEntries(obj));
      if (obj instanceof Set) return write([...obj]);
      const parts: string[] = [];
      for (const [key, item] of Object.entries(obj)) {
        const json = write(item);
        if (json !== undefined) parts.push(`${JSON.stringify(key)}:${json}`);
      }
      return `{${parts.join(',')}}`;
    } finally {
      ancestors.delete(obj);
    }
  };
  return write(value) ?? 'null';
}

/** A tool's result as Snakepit's server sends it. */
export function resultAny(value: unknown): Any {
  return { typeUrl: RESULT_TYPE_URL, value: Buffer.from(toolJson(value), 'utf8') };
}

/** A tool's default value as a ParameterSpec.default_value. */
export const defaultAny = (value: unknown): Any | undefined => (value === undefined ? undefined : resultAny(value));

/** A ParameterSpec.default_value or validation_json `default`, decoded; undefined when absent or unreadable. */
export function defaultOf(any: Any | undefined, validationJson: string): unknown {
  if (any && any.value.length > 0) {
    try {
      return decodeToolParameter('default', any, undefined);
    } catch {
      return undefined;
    }
  }
  if (validationJson === '') return undefined;
  try {
    const parsed = JSON.parse(validationJson) as unknown;
    return parsed !== null && typeof parsed === 'object' && 'default' in parsed ? (parsed as { default: unknown }).default : undefined;
  } catch {
    return undefined;
  }
}
