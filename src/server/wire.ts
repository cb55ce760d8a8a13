/**
 * Translation between the generated wire types and the domain. Every field a
 * caller sends is checked here or in the domain; nothing unchecked goes in.
 */
import {
  DomainError,
  parseVersion,
  variableCount,
  type Constraints,
  type Metadata,
  type Value,
  type VariableState,
  type VariableType,
  type Version,
} from '../domain/index.js';
import type { HistoryEntry, SessionView } from '../service/ledger-service.js';
import {
  HistoryKind,
  SessionState as WireSessionState,
  type HistoryEntry as WireHistoryEntry,
  VariableType as WireType,
  type Constraints as WireConstraints,
  type Session as WireSession,
  type Value as WireValue,
  type Variable as WireVariable,
} from '../gen/varledger/v1/ledger.js';

const TYPE_FROM_WIRE: ReadonlyMap<number, VariableType> = new Map([
  [WireType.VARIABLE_TYPE_FLOAT, 'float'],
  [WireType.VARIABLE_TYPE_INTEGER, 'integer'],
  [WireType.VARIABLE_TYPE_STRING, 'string'],
  [WireType.VARIABLE_TYPE_BOOLEAN, 'boolean'],
  [WireType.VARIABLE_TYPE_CHOICE, 'choice'],
  [WireType.VARIABLE_TYPE_MODULE, 'module'],
  [WireType.VARIABLE_TYPE_EMBEDDING, 'embedding'],
  [WireType.VARIABLE_TYPE_TENSOR, 'tensor'],
]);

const TYPE_TO_WIRE: Readonly<Record<VariableType, WireType>> = {
  float: WireType.VARIABLE_TYPE_FLOAT,
  integer: WireType.VARIABLE_TYPE_INTEGER,
  string: WireType.VARIABLE_TYPE_STRING,
  boolean: WireType.VARIABLE_TYPE_BOOLEAN,
  choice: WireType.VARIABLE_TYPE_CHOICE,
  module: WireType.VARIABLE_TYPE_MODULE,
  embedding: WireType.VARIABLE_TYPE_EMBEDDING,
  tensor: WireType.VARIABLE_TYPE_TENSOR,
};

const badRequest = (message: string) => new DomainError('invalid_request', message);

export function typeFromWire(type: WireType): VariableType {
  if (type === WireType.VARIABLE_TYPE_UNSPECIFIED) throw badRequest('type is required');
  const domain = TYPE_FROM_WIRE.get(type);
  if (!domain) throw badRequest(`Unknown variable type ${type}`);
  return domain;
}

export function valueFromWire(value: WireValue | undefined, field: string): Value {
  const kind = value?.kind;
  if (!kind) throw badRequest(`${field} is required: set one of float_value, integer_value, string_value, bool_value, vector_value, tensor_value`);
  switch (kind.$case) {
    case 'floatValue':
      return { kind: 'float', value: kind.floatValue };
    case 'integerValue':
      return { kind: 'integer', value: kind.integerValue };
    case 'stringValue':
      return { kind: 'string', value: kind.stringValue };
    case 'boolValue':
      return { kind: 'boolean', value: kind.boolValue };
    case 'vectorValue':
      return { kind: 'vector', values: kind.vectorValue.values };
    case 'tensorValue':
      return { kind: 'tensor', shape: kind.tensorValue.shape, data: kind.tensorValue.data, dtype: kind.tensorValue.dtype };
    default: {
      const exhaustive: never = kind;
      throw badRequest(`Unknown value kind ${JSON.stringify(exhaustive)}`);
    }
  }
}

/**
 * The generated wire types declare mutable arrays and maps, but replies are
 * only encoded, never changed: the state's own arrays and maps are handed to
 * the encoder as they are instead of copied (an embedding read would
 * otherwise copy every element once more per call).
 */
const encodeOnly = <T>(items: readonly T[]): T[] => items as T[];
const encodeOnlyMap = (map: Metadata): { [key: string]: string } => map as { [key: string]: string };

export function valueToWire(value: Value): WireValue {
  switch (value.kind) {
    case 'float':
      return { kind: { $case: 'floatValue', floatValue: value.value } };
    case 'integer':
      return { kind: { $case: 'integerValue', integerValue: value.value } };
    case 'string':
      return { kind: { $case: 'stringValue', stringValue: value.value } };
    case 'boolean':
      return { kind: { $case: 'boolValue', boolValue: value.value } };
    case 'vector':
      return { kind: { $case: 'vectorValue', vectorValue: { values: encodeOnly(value.values) } } };
    case 'tensor':
      return { kind: { $case: 'tensorValue', tensorValue: { shape: encodeOnly(value.shape), data: encodeOnly(value.data), dtype: value.dtype } } };
    default: {
      const exhaustive: never = value;
      throw new Error(`unhandled value ${String(exhaustive)}`);
    }
  }
}

export function constraintsFromWire(c: WireConstraints | undefined): Constraints {
  if (!c) return {};
  return {
    ...(c.min !== undefined && { min: c.min }),
    ...(c.max !== undefined && { max: c.max }),
    ...(c.minLength !== undefined && { minLength: c.minLength }),
    ...(c.maxLength !== undefined && { maxLength: c.maxLength }),
    ...(c.pattern !== undefined && { pattern: c.pattern }),
    ...(c.choices.length > 0 && { choices: c.choices }),
    ...(c.dimensions !== undefined && { dimensions: c.dimensions }),
    ...(c.shape.length > 0 && { shape: c.shape }),
  };
}

export function constraintsToWire(c: Constraints): WireConstraints {
  return {
    min: c.min,
    max: c.max,
    minLength: c.minLength,
    maxLength: c.maxLength,
    pattern: c.pattern,
    choices: encodeOnly(c.choices ?? []),
    dimensions: c.dimensions,
    shape: encodeOnly(c.shape ?? []),
  };
}

export function metadataFromWire(metadata: { [key: string]: string } | undefined): Metadata {
  return metadata ?? {};
}

export function expectedVersionFromWire(raw: bigint | undefined): Version | undefined {
  return raw === undefined ? undefined : parseVersion(raw);
}

export function variableToWire(v: VariableState): WireVariable {
  return {
    id: v.id,
    sessionId: v.sessionId,
    name: v.name,
    type: TYPE_TO_WIRE[v.type],
    value: valueToWire(v.value),
    constraints: constraintsToWire(v.constraints),
    metadata: encodeOnlyMap(v.metadata),
    description: v.description,
    version: BigInt(v.version),
    createdRevision: BigInt(v.createdRevision),
    modifiedRevision: BigInt(v.modifiedRevision),
    createdAt: new Date(v.createdAt),
    updatedAt: new Date(v.updatedAt),
    modifiedBy: v.modifiedBy,
  };
}

const STATE_TO_WIRE = {
  active: WireSessionState.SESSION_STATE_ACTIVE,
  closed: WireSessionState.SESSION_STATE_CLOSED,
  expired: WireSessionState.SESSION_STATE_EXPIRED,
} as const;

export function sessionToWire({ session, expiresAt }: SessionView): WireSession {
  return {
    sessionId: session.id,
    metadata: encodeOnlyMap(session.metadata),
    ttlSeconds: session.ttlSeconds,
    state: STATE_TO_WIRE[session.status],
    createdAt: new Date(session.createdAt),
    expiresAt: new Date(expiresAt),
    variableCount: variableCount(session),
    createdRevision: BigInt(session.createdRevision),
    modifiedRevision: BigInt(session.modifiedRevision),
  };
}

const HISTORY_KIND = {
  variable_registered: HistoryKind.HISTORY_KIND_REGISTERED,
  variable_set: HistoryKind.HISTORY_KIND_SET,
  variable_rolled_back: HistoryKind.HISTORY_KIND_ROLLED_BACK,
} as const;

export function historyEntryToWire(entry: HistoryEntry): WireHistoryEntry {
  return {
    version: BigInt(entry.version),
    value: valueToWire(entry.value),
    revision: BigInt(entry.revision),
    time: new Date(entry.time),
    actor: entry.actor,
    metadata: encodeOnlyMap(entry.metadata),
    kind: HISTORY_KIND[entry.kind],
  };
}
