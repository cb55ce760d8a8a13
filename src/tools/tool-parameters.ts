/**
 * Checks tool declarations (from modules and workers) and the parameters of
 * each call against them. Every error names the parameter at fault.
 */
import { DomainError } from '../domain/index.js';
import type { ToolParameter, ToolParameterType } from './tool-types.js';

export const TOOL_PARAMETER_TYPES: readonly ToolParameterType[] = ['string', 'integer', 'float', 'boolean', 'embedding', 'json'];

const TOOL_NAME = /^[A-Za-z_][A-Za-z0-9_.:-]{0,127}$/;

const invalid = (message: string) => new DomainError('invalid_request', message);

export function checkToolName(name: unknown): string {
  if (typeof name !== 'string' || !TOOL_NAME.test(name)) {
    throw invalid(`Invalid tool name ${JSON.stringify(name)}: letters, digits, _ . : - (at most 128), not starting with a digit`);
  }
  return name;
}

/** Why `value` does not fit `type`, or undefined when it does. */
function mismatch(type: ToolParameterType, value: unknown): string | undefined {
  switch (type) {
    case 'string':
      return typeof value === 'string' ? undefined : 'a string';
    case 'integer':
      return (typeof value === 'number' && Number.isSafeInteger(value)) || typeof value === 'bigint' ? undefined : 'an integer';
    case 'float':
      return typeof value === 'number' && Number.isFinite(value) ? undefined : 'a number';
    case 'boolean':
      return typeof value === 'boolean' ? undefined : 'a boolean';
    case 'embedding':
      return Array.isArray(value) && value.every((x) => typeof x === 'number' && Number.isFinite(x)) ? undefined : 'an array of numbers';
    case 'json':
      return undefined;
    default: {
      const exhaustive: never = type;
      return `of unknown type ${String(exhaustive)}`;
    }
  }
}

const shown = (value: unknown): string => {
  // bigints (64-bit integers from the Snakepit bridge) have no JSON form.
  const text = typeof value === 'bigint' ? `${value}n` : (JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)) ?? String(value));
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
};

/** Checks a tool's declared parameters: names, types, defaults that fit. */
export function checkParameterSpecs(tool: string, parameters: readonly ToolParameter[]): ToolParameter[] {
  const seen = new Set<string>();
  return parameters.map((p) => {
    if (typeof p.name !== 'string' || p.name === '') throw invalid(`Tool ${tool}: a parameter has no name`);
    if (seen.has(p.name)) throw invalid(`Tool ${tool}: parameter ${p.name} is declared twice`);
    seen.add(p.name);
    if (!TOOL_PARAMETER_TYPES.includes(p.type)) {
      throw invalid(`Tool ${tool}: parameter ${p.name} has unknown type ${shown(p.type)}; one of ${TOOL_PARAMETER_TYPES.join(', ')}`);
    }
    if (p.default !== undefined) {
      const wrong = mismatch(p.type, p.default);
      if (wrong) throw invalid(`Tool ${tool}: the default of parameter ${p.name} must be ${wrong}`);
    }
    return { ...p };
  });
}

/**
 * The call's parameters with defaults applied. Unknown names, missing
 * required ones and values of the wrong type are INVALID_ARGUMENT.
 */
export function validateParameters(tool: string, declared: readonly ToolParameter[], given: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const known = new Set(declared.map((p) => p.name));
  for (const name of Object.keys(given)) {
    if (!known.has(name)) throw invalid(`Unknown parameter ${name} for tool ${tool}`);
  }
  const params: Record<string, unknown> = {};
  for (const p of declared) {
    const value = given[p.name] ?? p.default;
    if (value === undefined || value === null) {
      if (p.required) throw invalid(`Missing required parameter ${p.name} of tool ${tool}`);
      continue;
    }
    const wrong = mismatch(p.type, value);
    if (wrong) throw invalid(`Parameter ${p.name} of tool ${tool} must be ${wrong}, got ${shown(value)}`);
    params[p.name] = value;
  }
  return params;
}
