/**
 * JSON as tools see it: parameters, results and chunks travel as JSON text,
 * and the log keeps a capped summary of each.
 */
import { DomainError } from '../domain/index.js';

/** The log keeps at most this much of a call's parameters or result. */
export const SUMMARY_CAP_CHARS = 1024;

/** bigint (from integer variables) becomes a number when exact, else a decimal string. */
const replacer = (_key: string, value: unknown): unknown =>
  typeof value === 'bigint' ? (Number.isSafeInteger(Number(value)) ? Number(value) : value.toString()) : value;

/** JSON text of any value; undefined and unserialisable values become null. */
export function toJsonText(value: unknown): string {
  try {
    return JSON.stringify(value ?? null, replacer) ?? 'null';
  } catch {
    return 'null';
  }
}

/** JSON text cut to the summary cap, marked with … when cut. */
export function summarize(value: unknown): string {
  const text = toJsonText(value);
  return text.length > SUMMARY_CAP_CHARS ? `${text.slice(0, SUMMARY_CAP_CHARS)}…` : text;
}

/** Parses each parameter's JSON text; a bad one is INVALID_ARGUMENT naming it. */
export function parametersFromJson(texts: Readonly<Record<string, string>>): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  for (const [name, text] of Object.entries(texts)) {
    try {
      params[name] = JSON.parse(text) as unknown;
    } catch {
      throw new DomainError('invalid_request', `Parameter ${name} is not valid JSON text: ${text.slice(0, 100)}`);
    }
  }
  return params;
}

export function parametersToJson(params: Readonly<Record<string, unknown>>): Record<string, string> {
  return Object.fromEntries(Object.entries(params).map(([name, value]) => [name, toJsonText(value)]));
}

/** Parses a result or chunk's JSON text; empty text means no data. */
export function fromJsonText(text: string, what: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new DomainError('invalid_request', `${what} is not valid JSON text`);
  }
}
