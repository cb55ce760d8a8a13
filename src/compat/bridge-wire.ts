/** varledger's variables, sessions and history in Snakepit's message shapes. */
import { DomainError, VARIABLE_TYPES, type VariableState, type VariableType } from '../domain/index.js';
import { Variable_Source, type Variable, type VariableHistoryEntry } from '../gen/snakepit/bridge/snakepit_bridge.js';
import type { HistoryEntry } from '../service/ledger-service.js';
import { encodeValue } from './any-codec.js';
import { constraintsToJson } from './constraints-json.js';
import type { EncodingMemory } from './encoding-memory.js';

export function typeFromBridge(raw: string): VariableType {
  if (raw === '') throw new DomainError('invalid_request', 'type is required');
  const type = raw.toLowerCase();
  if (!(VARIABLE_TYPES as readonly string[]).includes(type)) {
    throw new DomainError('invalid_request', `Unknown variable type ${JSON.stringify(raw)}; use one of ${VARIABLE_TYPES.join(', ')}`);
  }
  return type as VariableType;
}

/** Snakepit's `source` comes from the variable's `source` metadata, as its own server does. */
function sourceOf(v: VariableState): Variable_Source {
  return v.metadata['source']?.toLowerCase() === 'python' ? Variable_Source.PYTHON : Variable_Source.ELIXIR;
}

export function variableToBridge(v: VariableState, encodings: EncodingMemory): Variable {
  const { any, binary } = encodeValue(v.type, v.value, encodings.encodingOf(v.sessionId, v.id));
  return {
    id: v.id,
    name: v.name,
    type: v.type,
    value: any,
    constraintsJson: constraintsToJson(v.type, v.constraints),
    metadata: { ...v.metadata },
    source: sourceOf(v),
    lastUpdatedAt: new Date(v.updatedAt),
    version: v.version,
    accessControlJson: '',
    optimizationStatus: { optimizing: false, optimizerId: '', startedAt: undefined },
    binaryValue: binary,
  };
}

/** History entries have no binary field, so their values are always JSON. */
export function historyEntryToBridge(type: VariableType, e: HistoryEntry): VariableHistoryEntry {
  return {
    version: e.version,
    value: encodeValue(type, e.value, 'json').any,
    timestamp: new Date(e.time),
    changedBy: e.actor,
    metadata: { ...e.metadata },
  };
}
