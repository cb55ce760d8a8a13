/** varledger's variables, sessions and history in Snakepit's message shapes. */
import { DomainError, VARIABLE_TYPES, type Constraints, type Value, type VariableState, type VariableType } from '../domain/index.js';
import { Variable_Source, type OptimizationStatus, type Variable, type VariableHistoryEntry } from '../gen/snakepit/bridge/snakepit_bridge.js';
import type { HistoryEntry } from '../service/ledger-service.js';
import { encodeValue, type EncodedValue, type ValueEncoding } from './any-codec.js';
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

// A recorded value and a variable's constraints are immutable objects (the
// projection replaces, never edits, them), so the encoding of a large value
// (an embedding's or a tensor's JSON or pickle, a long text) is made once and
// reused by every read until the variable changes. Numbers, booleans and
// short strings are encoded per reply: their cache entry (a WeakMap
// ephemeron the GC must trace) cost ~0.7 µs, more than it saved on a hit
// (~0.25 µs), and a value read once after each set always missed.
const encodedValues = new WeakMap<Value, EncodedValue & { readonly type: VariableType; readonly encoding: ValueEncoding }>();
const constraintsJson = new WeakMap<Constraints, { readonly type: VariableType; readonly json: string }>();

const CACHED_STRING_LENGTH = 256;

const worthCaching = (value: Value): boolean =>
  value.kind === 'vector' || value.kind === 'tensor' || (value.kind === 'string' && value.value.length >= CACHED_STRING_LENGTH);

function encodedValueOf(type: VariableType, value: Value, encoding: ValueEncoding): EncodedValue {
  if (!worthCaching(value)) return encodeValue(type, value, encoding);
  const cached = encodedValues.get(value);
  if (cached?.type === type && cached.encoding === encoding) return cached;
  const { any, binary } = encodeValue(type, value, encoding);
  // A literal, not `{ ...encodeValue(…), type, encoding }`: a spread that adds keys cost ~1 µs (Node 20).
  const encoded = { any, binary, type, encoding };
  encodedValues.set(value, encoded);
  return encoded;
}

function constraintsJsonOf(type: VariableType, constraints: Constraints): string {
  const cached = constraintsJson.get(constraints);
  if (cached?.type === type) return cached.json;
  const json = constraintsToJson(type, constraints);
  constraintsJson.set(constraints, { type, json });
  return json;
}

/** Read-only on the wire: varledger never optimises. */
const NOT_OPTIMIZING: OptimizationStatus = Object.freeze({ optimizing: false, optimizerId: '', startedAt: undefined });

export function variableToBridge(v: VariableState, encodings: EncodingMemory): Variable {
  const { any, binary } = encodedValueOf(v.type, v.value, encodings.encodingOf(v.sessionId, v.id));
  return {
    id: v.id,
    name: v.name,
    type: v.type,
    value: any,
    constraintsJson: constraintsJsonOf(v.type, v.constraints),
    // Only read by the encoder: the frozen projection object serves as is.
    metadata: v.metadata as { [key: string]: string },
    source: sourceOf(v),
    lastUpdatedAt: new Date(v.updatedAt),
    version: v.version,
    accessControlJson: '',
    optimizationStatus: NOT_OPTIMIZING,
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
