/** Short renderings of values for error messages (never the whole embedding). */
import type { Value } from './types.js';

const MAX_SHOWN = 60;

export function quote(text: string): string {
  const shown = text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}…` : text;
  return JSON.stringify(shown);
}

export function describeValue(value: Value): string {
  switch (value.kind) {
    case 'float':
      return String(value.value);
    case 'integer':
      return value.value.toString();
    case 'string':
      return quote(value.value);
    case 'boolean':
      return String(value.value);
    case 'vector':
      return `vector of ${value.values.length}`;
    case 'tensor':
      return `tensor ${formatShape(value.shape)}`;
    default: {
      const exhaustive: never = value;
      return exhaustive;
    }
  }
}

export const formatShape = (shape: readonly number[]): string => `[${shape.join(',')}]`;
