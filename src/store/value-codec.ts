/**
 * JSON encoding of values and constraints inside event payloads. Integers
 * are strings (64-bit safe) and non-finite floats are "NaN" / "Infinity" /
 * "-Infinity", so every value survives JSON and stays readable in the
 * sqlite3 shell.
 */
import type { Constraints, Value } from '../domain/index.js';

export type EncodedValue =
  | { float: number | 'NaN' | 'Infinity' | '-Infinity' }
  | { integer: string }
  | { string: string }
  | { boolean: boolean }
  | { vector: readonly number[] }
  | { tensor: { shape: readonly number[]; data: readonly number[]; dtype: string } };

function encodeFloat(n: number): number | 'NaN' | 'Infinity' | '-Infinity' {
  if (Number.isFinite(n)) return n;
  if (Number.isNaN(n)) return 'NaN';
  return n > 0 ? 'Infinity' : '-Infinity';
}

export function encodeValue(value: Value): EncodedValue {
  switch (value.kind) {
    case 'float':
      return { float: encodeFloat(value.value) };
    case 'integer':
      return { integer: value.value.toString() };
    case 'string':
      return { string: value.value };
    case 'boolean':
      return { boolean: value.value };
    case 'vector':
      return { vector: value.values };
    case 'tensor':
      return { tensor: { shape: value.shape, data: value.data, dtype: value.dtype } };
    default: {
      const exhaustive: never = value;
      throw new Error(`unhandled value ${String(exhaustive)}`);
    }
  }
}

export function decodeValue(encoded: EncodedValue): Value {
  if ('float' in encoded) return { kind: 'float', value: Number(encoded.float) };
  if ('integer' in encoded) return { kind: 'integer', value: BigInt(encoded.integer) };
  if ('string' in encoded) return { kind: 'string', value: encoded.string };
  if ('boolean' in encoded) return { kind: 'boolean', value: encoded.boolean };
  if ('vector' in encoded) return { kind: 'vector', values: encoded.vector };
  if ('tensor' in encoded) return { kind: 'tensor', ...encoded.tensor };
  throw new Error(`undecodable value ${JSON.stringify(encoded)}`);
}

export interface EncodedConstraints {
  min?: number;
  max?: number;
  min_length?: number;
  max_length?: number;
  pattern?: string;
  choices?: readonly string[];
  dimensions?: number;
  shape?: readonly number[];
}

export function encodeConstraints(c: Constraints): EncodedConstraints {
  const out: EncodedConstraints = {};
  if (c.min !== undefined) out.min = c.min;
  if (c.max !== undefined) out.max = c.max;
  if (c.minLength !== undefined) out.min_length = c.minLength;
  if (c.maxLength !== undefined) out.max_length = c.maxLength;
  if (c.pattern !== undefined) out.pattern = c.pattern;
  if (c.choices && c.choices.length > 0) out.choices = c.choices;
  if (c.dimensions !== undefined) out.dimensions = c.dimensions;
  if (c.shape && c.shape.length > 0) out.shape = c.shape;
  return out;
}

export function decodeConstraints(e: EncodedConstraints): Constraints {
  return {
    ...(e.min !== undefined && { min: e.min }),
    ...(e.max !== undefined && { max: e.max }),
    ...(e.min_length !== undefined && { minLength: e.min_length }),
    ...(e.max_length !== undefined && { maxLength: e.max_length }),
    ...(e.pattern !== undefined && { pattern: e.pattern }),
    ...(e.choices !== undefined && { choices: e.choices }),
    ...(e.dimensions !== undefined && { dimensions: e.dimensions }),
    ...(e.shape !== undefined && { shape: e.shape }),
  };
}
