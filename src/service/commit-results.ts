/** The per-operation results of a commit: each successful operation with its variable. */
import { evolve, findVariable, type OperationOutcome, type SessionState, type StoredEvent, type VariableState } from '../domain/index.js';

export type OperationResult = OperationOutcome & { readonly variable?: VariableState };

/**
 * Attaches to each successful operation the variable as that operation left
 * it. When no variable is touched twice that is its state after the whole
 * commit (`after`; a deleted one: as it was `before`); otherwise the commit's
 * events are folded operation by operation. Pure.
 */
export function operationVariables(
  before: SessionState | undefined,
  after: SessionState | undefined,
  outcomes: readonly OperationOutcome[],
  eventCounts: readonly number[],
  stored: readonly StoredEvent[],
): OperationResult[] {
  const touched = new Set<string>();
  let repeated = false;
  for (const o of outcomes) {
    if (!o.ok) continue;
    repeated ||= touched.has(o.variableId);
    touched.add(o.variableId);
  }
  if (!repeated) {
    return outcomes.map((outcome) => {
      if (!outcome.ok) return outcome;
      const variable = (after && findVariable(after, outcome.variableId)) ?? (before && findVariable(before, outcome.variableId));
      return variable ? { ...outcome, variable } : outcome;
    });
  }
  let state = before;
  let offset = 0;
  return outcomes.map((outcome, i) => {
    if (!outcome.ok) return outcome;
    const count = eventCounts[i] ?? 0;
    const slice = stored.slice(offset, offset + count);
    offset += count;
    const prior = state && findVariable(state, outcome.variableId);
    if (slice.length > 0) state = evolve(state, slice);
    const variable = (state && findVariable(state, outcome.variableId)) ?? prior;
    return variable ? { ...outcome, variable } : outcome;
  });
}
