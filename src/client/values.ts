/**
 * Plain TypeScript values ⇄ the wire `Value` oneof.
 *
 * Integers: writes accept `number` or `bigint`; reads return a `number` when
 * the value is a safe integer (|n| ≤ 2^53 − 1) and a `bigint` otherwise, so
 * 64-bit seeds and ids survive while counters stay ordinary numbers.
 * Whether a JS number travels as a float or an integer is decided by the
 * variable's type when the client knows it; otherwise it travels as a float
 * (the server turns integral floats into integers for integer variables).
 */
import * as wire from '../gen/varledger/v1/ledger.js';
import type { Constraints, VariableType } from '../domain/types.js';

/** A tensor: row-major `data` whose length is the product of `shape`. */
export interface Tensor {
  readonly shape: readonly number[];
  readonly data: readonly number[];
  /** e.g. "float32"; empty or absent when unspecified. */
  readonly dtype?: string;
}

/**
 * A variable's value as plain TypeScript: float → number, integer → number
 * (bigint beyond 2^53), string/choice/module → string, boolean → boolean,
 * embedding → number[], tensor → `Tensor`.
 */
export type VariableValue = number | bigint | string | boolean | readonly number[] | Tensor;

const TYPE_TO_WIRE: Readonly<Record<VariableType, wire.VariableType>> = {
  float: wire.VariableType.VARIABLE_TYPE_FLOAT,
  integer: wire.VariableType.VARIABLE_TYPE_INTEGER,
  string: wire.VariableType.VARIABLE_TYPE_STRING,
  boolean: wire.VariableType.VARIABLE_TYPE_BOOLEAN,
  choice: wire.VariableType.VARIABLE_TYPE_CHOICE,
  module: wire.VariableType.VARIABLE_TYPE_MODULE,
  embedding: wire.VariableType.VARIABLE_TYPE_EMBEDDING,
  tensor: wire.VariableType.VARIABLE_TYPE_TENSOR,
};
const TYPE_FROM_WIRE = new Map<wire.VariableType, VariableType>(
  Object.entries(TYPE_TO_WIRE).map(([name, code]) => [code, name as VariableType]),
);

export const typeToWire = (type: VariableType): wire.VariableType => {
  const code = TYPE_TO_WIRE[type];
  // An unknown name goes out as UNSPECIFIED and the server refuses it clearly.
  return code ?? wire.VariableType.VARIABLE_TYPE_UNSPECIFIED;
};

export function typeFromWire(code: wire.VariableType): VariableType {
  const type = TYPE_FROM_WIRE.get(code);
  if (!type) throw new TypeError(`varledger: unknown variable type ${code} from the server`);
  return type;
}

const isTensor = (value: unknown): value is Tensor =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && 'shape' in value && 'data' in value;

/** A JS integer as a bigint, or undefined when `value` is not integral. */
function asBigInt(value: number | bigint): bigint | undefined {
  if (typeof value === 'bigint') return value;
  return Number.isInteger(value) ? BigInt(value) : undefined;
}

/**
 * The wire form of a plain value. `type`, when known, picks float or integer
 * for numbers; the server does every other conversion and constraint check.
 */
export function toWireValue(value: VariableValue, type?: VariableType): wire.Value {
  switch (typeof value) {
    case 'bigint':
      return { kind: { $case: 'integerValue', integerValue: value } };
    case 'number': {
      const integer = type === 'integer' ? asBigInt(value) : undefined;
      return integer !== undefined
        ? { kind: { $case: 'integerValue', integerValue: integer } }
        : { kind: { $case: 'floatValue', floatValue: value } };
    }
    case 'string':
      return { kind: { $case: 'stringValue', stringValue: value } };
    case 'boolean':
      return { kind: { $case: 'boolValue', boolValue: value } };
    default:
      if (Array.isArray(value)) return { kind: { $case: 'vectorValue', vectorValue: { values: [...(value as number[])] } } };
      if (isTensor(value)) {
        return { kind: { $case: 'tensorValue', tensorValue: { shape: [...value.shape], data: [...value.data], dtype: value.dtype ?? '' } } };
      }
      throw new TypeError(`varledger: cannot send ${describe(value)} as a variable value`);
  }
}

const describe = (value: unknown): string => (value === null ? 'null' : typeof value === 'object' ? 'this object' : typeof value);

/** The plain form of a wire value; `undefined` only for a value the server left unset. */
export function fromWireValue(value: wire.Value | undefined): VariableValue | undefined {
  const kind = value?.kind;
  if (!kind) return undefined;
  switch (kind.$case) {
    case 'floatValue':
      return kind.floatValue;
    case 'integerValue': {
      const n = kind.integerValue;
      return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
    }
    case 'stringValue':
      return kind.stringValue;
    case 'boolValue':
      return kind.boolValue;
    case 'vectorValue':
      return kind.vectorValue.values;
    case 'tensorValue': {
      const { shape, data, dtype } = kind.tensorValue;
      return dtype ? { shape, data, dtype } : { shape, data };
    }
    default: {
      const _exhaustive: never = kind;
      return _exhaustive;
    }
  }
}

export function constraintsToWire(constraints: Constraints | undefined): wire.Constraints | undefined {
  if (!constraints) return undefined;
  return { ...constraints, choices: [...(constraints.choices ?? [])], shape: [...(constraints.shape ?? [])] };
}

/** Only the bounds that are set; empty lists are left out. */
export function constraintsFromWire(constraints: wire.Constraints | undefined): Constraints {
  if (!constraints) return {};
  const { choices, shape, ...bounds } = constraints;
  const result: { -readonly [K in keyof Constraints]: Constraints[K] } = {};
  for (const [key, bound] of Object.entries(bounds) as [keyof typeof bounds, number | string | undefined][]) {
    if (bound !== undefined) (result as Record<string, unknown>)[key] = bound;
  }
  if (choices.length > 0) result.choices = choices;
  if (shape.length > 0) result.shape = shape;
  return result;
}
