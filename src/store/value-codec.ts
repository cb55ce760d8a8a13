/**
 * JSON encoding of values and constraints inside event payloads. Integers
 * are strings (64-bit safe); floats JSON cannot hold (NaN, ±Infinity, -0)
 * and infinite min/max bounds are the strings "NaN" / "Infinity" /
 * "-Infinity" / "-0", so every value survives JSON and stays readable in the
 * sqlite3 shell.
 */
import type { Constraints, Value } from '../domain/index.js';

/** A double as JSON: a number, or a string for what JSON.stringify would lose. */
type EncodedFloat = number | 'NaN' | 'Infinity' | '-Infinity' | '-0';

export type EncodedValue =
  | { float: EncodedFloat }
  | { integer: string }
  | { string: string }
  | { boolean: boolean }
  | { vector: readonly number[] }
  | { tensor: { shape: readonly number[]; data: readonly number[]; dtype: string } };

function encodeFloat(n: number): EncodedFloat {
  if (Object.is(n, -0)) return '-0';
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
  min?: EncodedFloat;
  max?: EncodedFloat;
  min_length?: number;
  max_length?: number;
  pattern?: string;
  choices?: readonly string[];
  dimensions?: number;
  shape?: readonly number[];
}

export function encodeConstraints(c: Constraints): EncodedConstraints {
  const out: EncodedConstraints = {};
  // Bounds may be ±Infinity, which JSON.stringify would turn into null.
  if (c.min !== undefined) out.min = encodeFloat(c.min);
  if (c.max !== undefined) out.max = encodeFloat(c.max);
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
    ...(e.min !== undefined && { min: Number(e.min) }),
    ...(e.max !== undefined && { max: Number(e.max) }),
    ...(e.min_length !== undefined && { minLength: e.min_length }),
    ...(e.max_length !== undefined && { maxLength: e.max_length }),
    ...(e.pattern !== undefined && { pattern: e.pattern }),
    ...(e.choices !== undefined && { choices: e.choices }),
    ...(e.dimensions !== undefined && { dimensions: e.dimensions }),
    ...(e.shape !== undefined && { shape: e.shape }),
  };
}
