/**
 * Constraint rules: which bounds fit which type (checked once, at
 * registration) and whether a value honours them (checked on every write).
 */
import { DomainError } from './errors.js';
import { describeValue, formatShape, quote } from './describe.js';
import { compilePattern } from './pattern.js';
import { checkTensorShape } from './tensor-shape.js';
import type { Constraints, Value, VariableType } from './types.js';

type ConstraintKey = keyof Constraints;

const ALLOWED: Readonly<Record<VariableType, readonly ConstraintKey[]>> = {
  float: ['min', 'max'],
  integer: ['min', 'max'],
  string: ['minLength', 'maxLength', 'pattern'],
  boolean: [],
  choice: ['choices'],
  module: ['choices'],
  embedding: ['dimensions'],
  tensor: ['shape'],
};

/** Wire names, so messages speak the caller's language. */
const WIRE_NAME: Readonly<Record<ConstraintKey, string>> = {
  min: 'min',
  max: 'max',
  minLength: 'min_length',
  maxLength: 'max_length',
  pattern: 'pattern',
  choices: 'choices',
  dimensions: 'dimensions',
  shape: 'shape',
};

const MAX_CHOICES = 1024;

const invalid = (message: string) => new DomainError('invalid_value', message);

function isSet(constraints: Constraints, key: ConstraintKey): boolean {
  const v = constraints[key];
  if (v === undefined) return false;
  return Array.isArray(v) ? v.length > 0 : true;
}

/**
 * Validates the constraints of a variable being registered. Throws
 * `invalid_value` for a bound that does not fit the type, `min > max`, a bad
 * pattern, or a choice variable without choices.
 */
export function checkConstraints(type: VariableType, c: Constraints): void {
  for (const key of Object.keys(WIRE_NAME) as ConstraintKey[]) {
    if (isSet(c, key) && !ALLOWED[type].includes(key)) {
      throw invalid(`Constraint ${WIRE_NAME[key]} does not apply to ${type} variables`);
    }
  }
  if (c.min !== undefined && Number.isNaN(c.min)) throw invalid('Constraint min must be a number');
  if (c.max !== undefined && Number.isNaN(c.max)) throw invalid('Constraint max must be a number');
  if (c.min !== undefined && c.max !== undefined && c.min > c.max) {
    throw invalid(`Constraint min ${c.min} is greater than max ${c.max}`);
  }
  if (c.minLength !== undefined && c.maxLength !== undefined && c.minLength > c.maxLength) {
    throw invalid(`Constraint min_length ${c.minLength} is greater than max_length ${c.maxLength}`);
  }
  if (c.pattern !== undefined) compilePattern(c.pattern);
  if (type === 'choice' && !isSet(c, 'choices')) throw invalid('A choice variable needs at least one choice');
  if (c.choices && c.choices.length > MAX_CHOICES) throw invalid(`Too many choices: more than ${MAX_CHOICES}`);
  if (c.dimensions !== undefined && c.dimensions < 1) throw invalid('Constraint dimensions must be at least 1');
  if (c.shape && c.shape.length > 0) {
    checkTensorShape(c.shape, 'Constraint shape');
    if (c.shape.some((d) => d < 1)) throw invalid(`Constraint shape has an empty dimension: ${formatShape(c.shape)}`);
  }
}

/** `value` is described only for an error message: formatting every accepted number cost more than the check. */
function checkRange(value: Value, isNumber: boolean, c: Constraints, compare: (bound: number) => number): void {
  if (!isNumber) {
    if (c.min !== undefined || c.max !== undefined) throw invalid(`Value ${describeValue(value)} is not allowed when min or max is set`);
    return;
  }
  if (c.min !== undefined && compare(c.min) < 0) throw invalid(`Value ${describeValue(value)} is below minimum ${c.min}`);
  if (c.max !== undefined && compare(c.max) > 0) throw invalid(`Value ${describeValue(value)} is above maximum ${c.max}`);
}

/** Compares a bigint with a double without losing precision for large values. */
function compareBigint(value: bigint, bound: number): number {
  if (bound === Infinity) return -1;
  if (bound === -Infinity) return 1;
  const floor = BigInt(Math.floor(bound));
  if (value < floor) return -1;
  if (value > floor) return 1;
  return Number.isInteger(bound) ? 0 : -1;
}

/**
 * Checks a value already converted to the variable's stored shape against
 * its constraints. Throws `invalid_value` with the DESIGN.md message.
 */
export function checkValue(type: VariableType, c: Constraints, value: Value): void {
  switch (value.kind) {
    case 'float':
      checkRange(value, Number.isFinite(value.value), c, (b) => value.value - b);
      return;
    case 'integer':
      checkRange(value, true, c, (b) => compareBigint(value.value, b));
      return;
    case 'string': {
      const s = value.value;
      if (type === 'string') {
        // Code points, not UTF-16 units; counted only when a bound needs them.
        const length = c.minLength !== undefined || c.maxLength !== undefined ? [...s].length : 0;
        if (c.minLength !== undefined && length < c.minLength) throw invalid(`String too short: ${length} < ${c.minLength}`);
        if (c.maxLength !== undefined && length > c.maxLength) throw invalid(`String too long: ${length} > ${c.maxLength}`);
        if (c.pattern !== undefined && !compilePattern(c.pattern).matches(s)) {
          throw invalid(`Value ${quote(s)} does not match pattern ${quote(c.pattern)}`);
        }
      } else if (c.choices && c.choices.length > 0 && !c.choices.includes(s)) {
        throw invalid(`Value ${quote(s)} not in allowed choices: ${c.choices.map(quote).join(', ')}`);
      }
      return;
    }
    case 'boolean':
      return;
    case 'vector':
      if (c.dimensions !== undefined && value.values.length !== c.dimensions) {
        throw invalid(`Wrong dimensions: ${value.values.length} != ${c.dimensions}`);
      }
      return;
    case 'tensor':
      if (c.shape && c.shape.length > 0 && formatShape(value.shape) !== formatShape(c.shape)) {
        throw invalid(`Wrong shape: ${formatShape(value.shape)} != ${formatShape(c.shape)}`);
      }
      return;
    default: {
      const exhaustive: never = value;
      throw new Error(`unhandled value ${String(exhaustive)}`);
    }
  }
}
