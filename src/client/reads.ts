/**
 * Reads straight from the server, now (`atRevision` 0) or as of a past
 * revision. Shared by `Session` (behind its cache) and `SessionAt`.
 */
import type { Caller } from './caller.js';
import { variableFromWire, type Variable } from './variable.js';

export interface ReadTarget {
  readonly caller: Caller;
  readonly sessionId: string;
  /** 0: the current state. */
  readonly atRevision: bigint;
}

export async function readVariable(target: ReadTarget, identifier: string): Promise<Variable> {
  const { caller, sessionId, atRevision } = target;
  return variableFromWire(await caller.call('getVariable', { sessionId, identifier, atRevision }));
}

/** The variables found, keyed by the identifier as given; missing ones are left out. */
export async function readVariables(target: ReadTarget, identifiers: readonly string[]): Promise<Map<string, Variable>> {
  const { caller, sessionId, atRevision } = target;
  const reply = await caller.call('getVariables', { sessionId, identifiers: [...identifiers], atRevision });
  return new Map(Object.entries(reply.variables).map(([identifier, v]) => [identifier, variableFromWire(v)]));
}

export async function listVariables(target: ReadTarget, pattern = ''): Promise<Variable[]> {
  const { caller, sessionId, atRevision } = target;
  const reply = await caller.call('listVariables', { sessionId, pattern, atRevision });
  return reply.variables.map(variableFromWire);
}

/** `{ name: value }` for the identifiers found. */
export function valuesOf(variables: ReadonlyMap<string, Variable>): Record<string, Variable['value']> {
  const values: Record<string, Variable['value']> = {};
  for (const [identifier, variable] of variables) values[identifier] = variable.value;
  return values;
}
