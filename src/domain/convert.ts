/**
 * Conversion rules: what a caller may send for each variable type, and the
 * stored value it becomes. Anything else is `Cannot convert … to <type>`.
 *
 * - float: floats, integers, numeric strings ("1.5", "NaN", "-Infinity")
 * - integer: integers, integral floats, integer strings ("42")
 * - boolean: booleans, "true" / "false"
 * - string, choice, module: strings
 * - embedding: vectors of finite numbers
 * - tensor: tensors (shape × data must agree, the shape within the tensor
 *   rule of tensor-shape.ts), or a vector as a 1-D tensor
 */
import { DomainError } from './errors.js';
import { describeValue, formatShape } from './describe.js';
import { checkTensorShape, tensorElementCount } from './tensor-shape.js';
import { TENSOR_DTYPES, type TensorDtype, type Value, type VariableType } from './types.js';

const INTEGER_TEXT = /^[+-]?\d{1,20}$/;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const INTEGER_DTYPES: readonly TensorDtype[] = ['int8', 'int16', 'int32', 'int64', 'uint8'];

const cannot = (input: Value, type: VariableType) =>
  new DomainError('invalid_value', `Cannot convert ${describeValue(input)} to ${type}`);

function parseFloatText(text: string): number | undefined {
  const t = text.trim();
  if (t === 'NaN') return NaN;
  if (t === 'Infinity' || t === '+Infinity') return Infinity;
  if (t === '-Infinity') return -Infinity;
  if (t === '') return undefined;
  const n = Number(t);
  return Number.isNaN(n) || !Number.isFinite(n) ? undefined : n;
}

function inInt64(n: bigint): bigint | undefined {
  return n >= INT64_MIN && n <= INT64_MAX ? n : undefined;
}

function toInteger(input: Value): bigint | undefined {
  switch (input.kind) {
    case 'integer':
      return inInt64(input.value);
    case 'float':
      return Number.isInteger(input.value) ? inInt64(BigInt(input.value)) : undefined;
    case 'string': {
      const t = input.value.trim();
      return INTEGER_TEXT.test(t) ? inInt64(BigInt(t)) : undefined;
    }
    default:
      return undefined;
  }
}

function toFloat(input: Value): number | undefined {
  switch (input.kind) {
    case 'float':
      return input.value;
    case 'integer':
      return Number(input.value);
    case 'string':
      return parseFloatText(input.value);
    default:
      return undefined;
  }
}

/**
 * Checks every element is finite, and turns -0 into 0: the log stores arrays
 * as JSON, which cannot keep the sign of zero, and live state must equal a
 * fold of the log.
 */
function finiteElements(values: readonly number[], what: string): readonly number[] {
  let negativeZero = false;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (!Number.isFinite(v)) throw new DomainError('invalid_value', `${what} element ${i} is not a finite number`);
    if (v === 0 && Object.is(v, -0)) negativeZero = true;
  }
  return negativeZero ? values.map((v) => (v === 0 ? 0 : v)) : values;
}

function toTensor(input: Value, type: VariableType): Value {
  if (input.kind === 'vector') {
    checkTensorShape([input.values.length]);
    return { kind: 'tensor', shape: [input.values.length], data: finiteElements(input.values, 'Tensor'), dtype: 'float64' };
  }
  if (input.kind !== 'tensor') throw cannot(input, type);
  const dtype = input.dtype === '' ? 'float64' : input.dtype;
  if (!(TENSOR_DTYPES as readonly string[]).includes(dtype)) {
    throw new DomainError('invalid_value', `Unknown tensor dtype ${JSON.stringify(dtype)}; use one of ${TENSOR_DTYPES.join(', ')}`);
  }
  checkTensorShape(input.shape);
  const size = tensorElementCount(input.shape);
  if (size !== input.data.length) {
    throw new DomainError(
      'invalid_value',
      `Tensor data has ${input.data.length} values but shape ${formatShape(input.shape)} needs ${size}`,
    );
  }
  const data = finiteElements(input.data, 'Tensor');
  if ((INTEGER_DTYPES as readonly string[]).includes(dtype) && !data.every(Number.isInteger)) {
    throw new DomainError('invalid_value', `Tensor of dtype ${dtype} holds a non-integer value`);
  }
  return { kind: 'tensor', shape: input.shape, data, dtype };
}

/**
 * Converts a caller's value into the stored value of `type`. Never touches
 * constraints (see `checkValue`). Throws `invalid_value` when no rule applies.
 */
export function convertValue(type: VariableType, input: Value): Value {
  switch (type) {
    case 'float': {
      // Values are immutable: one already of the stored shape is kept, not copied.
      if (input.kind === 'float') return input;
      const v = toFloat(input);
      if (v === undefined) throw cannot(input, type);
      return { kind: 'float', value: v };
    }
    case 'integer': {
      const v = toInteger(input);
      if (v === undefined) throw cannot(input, type);
      return input.kind === 'integer' ? input : { kind: 'integer', value: v };
    }
    case 'boolean':
      if (input.kind === 'boolean') return input;
      if (input.kind === 'string' && (input.value === 'true' || input.value === 'false')) {
        return { kind: 'boolean', value: input.value === 'true' };
      }
      throw cannot(input, type);
    case 'string':
    case 'choice':
    case 'module':
      if (input.kind === 'string') return input;
      throw cannot(input, type);
    case 'embedding':
      if (input.kind !== 'vector') throw cannot(input, type);
      return { kind: 'vector', values: finiteElements(input.values, 'Embedding') };
    case 'tensor':
      return toTensor(input, type);
    default: {
      const exhaustive: never = type;
      throw new Error(`unhandled type ${String(exhaustive)}`);
    }
  }
}
