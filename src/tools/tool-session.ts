/**
 * The session as a server-side tool sees it: plain JavaScript values in and
 * out, every write recorded with the tool as actor.
 */
import { parseIdentifier, parseRevision, parseSessionId, type Value } from '../domain/index.js';
import type { LedgerService } from '../service/ledger-service.js';
import type { ToolSessionContext } from './tool-types.js';

/**
 * The actor of a server-side tool's writes: the tool, and with auth on the
 * principal who called it first (`alice/tool:bump`), so the log says on whose
 * behalf the tool wrote.
 */
export const toolActor = (toolName: string, principal?: string): string => (principal === undefined ? `tool:${toolName}` : `${principal}/tool:${toolName}`);

/** A stored value as plain JavaScript: integers as numbers when exact, else bigint. */
export function valueToJs(value: Value): unknown {
  switch (value.kind) {
    case 'float':
    case 'string':
    case 'boolean':
      return value.value;
    case 'integer':
      return Number.isSafeInteger(Number(value.value)) ? Number(value.value) : value.value;
    case 'vector':
      return [...value.values];
    case 'tensor':
      return { shape: [...value.shape], data: [...value.data], dtype: value.dtype };
    default: {
      const exhaustive: never = value;
      throw new Error(`unhandled value ${JSON.stringify(exhaustive)}`);
    }
  }
}

/**
 * A JavaScript value as the closest wire value; the ledger then converts it
 * to the variable's type (an integral number fits a float variable, etc.)
 * and refuses what does not fit, as it does for any caller.
 */
export function valueFromJs(input: unknown): Value {
  if (typeof input === 'bigint') return { kind: 'integer', value: input };
  if (typeof input === 'number') return Number.isSafeInteger(input) ? { kind: 'integer', value: BigInt(input) } : { kind: 'float', value: input };
  if (typeof input === 'string') return { kind: 'string', value: input };
  if (typeof input === 'boolean') return { kind: 'boolean', value: input };
  if (Array.isArray(input)) return { kind: 'vector', values: input as number[] };
  if (typeof input === 'object' && input !== null && 'shape' in input && 'data' in input) {
    const t = input as { shape: number[]; data: number[]; dtype?: string };
    return { kind: 'tensor', shape: t.shape, data: t.data, dtype: t.dtype ?? 'float64' };
  }
  throw new TypeError(`Cannot store ${JSON.stringify(input) ?? String(input)} in a variable`);
}

export function toolSessionContext(service: LedgerService, sessionId: string, toolName: string, principal?: string): ToolSessionContext {
  const session = parseSessionId(sessionId);
  const actor = toolActor(toolName, principal);
  return {
    sessionId,
    get: async (name) => valueToJs((await service.getVariable(session, parseIdentifier(name), parseRevision(0))).value),
    set: async (name, value, metadata = {}) => {
      await service.set({ sessionId: session, identifier: parseIdentifier(name), value: valueFromJs(value), metadata }, actor);
    },
  };
}
