/**
 * Snakepit's `constraints_json` ↔ varledger's Constraints. Snakepit names
 * allowed values `choices` (choice), `allowed_values` or `allowed_modules`
 * (module); all three become `choices`. Keys Snakepit knows but varledger
 * does not constrain on are ignored, as Snakepit's own server ignores them.
 */
import { DomainError, type Constraints, type VariableType } from '../domain/index.js';

const invalid = (message: string) => new DomainError('invalid_value', message);

const CHOICE_KEYS = ['choices', 'allowed_values', 'allowed_modules'] as const;

function number(raw: unknown, key: string): number {
  if (typeof raw !== 'number' || Number.isNaN(raw)) throw invalid(`Constraint ${key} must be a number`);
  return raw;
}

function count(raw: unknown, key: string): number {
  if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < 0) throw invalid(`Constraint ${key} must be a whole number`);
  return raw;
}

function strings(raw: unknown, key: string): string[] {
  if (!Array.isArray(raw) || !raw.every((v): v is string => typeof v === 'string')) {
    throw invalid(`Constraint ${key} must be a list of strings`);
  }
  return raw;
}

/** Parses `constraints_json`; empty or `null` means none. Throws `invalid_value`. */
export function constraintsFromJson(json: string): Constraints {
  if (json.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw invalid('constraints_json is not valid JSON');
  }
  if (parsed === null) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) throw invalid('constraints_json must be a JSON object');
  const c = parsed as Record<string, unknown>;
  const present = (key: string) => c[key] !== undefined && c[key] !== null;
  const choiceKey = CHOICE_KEYS.find(present);
  const shape = present('shape') ? c['shape'] : undefined;
  if (shape !== undefined && (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0))) {
    throw invalid('Constraint shape must be a list of whole numbers');
  }
  return {
    ...(present('min') && { min: number(c['min'], 'min') }),
    ...(present('max') && { max: number(c['max'], 'max') }),
    ...(present('min_length') && { minLength: count(c['min_length'], 'min_length') }),
    ...(present('max_length') && { maxLength: count(c['max_length'], 'max_length') }),
    ...(present('pattern') && { pattern: typeof c['pattern'] === 'string' ? c['pattern'] : String(c['pattern']) }),
    ...(choiceKey && { choices: strings(c[choiceKey], choiceKey) }),
    ...(present('dimensions') && { dimensions: count(c['dimensions'], 'dimensions') }),
    ...(shape !== undefined && { shape: shape as number[] }),
  };
}

/** Snakepit's spelling of a variable's constraints. */
export function constraintsToJson(type: VariableType, c: Constraints): string {
  const out: Record<string, unknown> = {};
  if (c.min !== undefined) out['min'] = c.min;
  if (c.max !== undefined) out['max'] = c.max;
  if (c.minLength !== undefined) out['min_length'] = c.minLength;
  if (c.maxLength !== undefined) out['max_length'] = c.maxLength;
  if (c.pattern !== undefined) out['pattern'] = c.pattern;
  if (c.choices && c.choices.length > 0) out[type === 'module' ? 'allowed_modules' : 'choices'] = [...c.choices];
  if (c.dimensions !== undefined) out['dimensions'] = c.dimensions;
  if (c.shape && c.shape.length > 0) out['shape'] = [...c.shape];
  return JSON.stringify(out);
}
