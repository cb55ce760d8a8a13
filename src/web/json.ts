/** Domain state → the web API's JSON (api-types.ts): summarised, 64-bit safe. */
import { variableCount, type SessionState, type Value, type VariableState } from '../domain/index.js';
import type { HistoryEntry } from '../service/ledger-service.js';
import type { Change } from '../watch/changes.js';
import type { ChangeJson, FloatJson, HistoryEntryJson, LastChangeJson, SessionJson, ValueJson, VariableJson } from './api-types.js';

/** Characters of a string value sent in lists, histories and live changes. */
export const STRING_PREVIEW = 1000;
/** Leading elements of a vector or tensor sent. */
export const VECTOR_HEAD = 16;
/** Most elements one request may pick by index. */
export const MAX_PICKED = 16;

export interface ValueOptions {
  /** Send whole strings (a single variable's page), not previews. */
  readonly fullStrings?: boolean;
  /** Vector / tensor element indices to include. */
  readonly dims?: readonly number[];
}

const floatJson = (x: number): FloatJson => (Number.isFinite(x) ? x : Number.isNaN(x) ? 'NaN' : x > 0 ? 'Infinity' : '-Infinity');
const element = (x: number | undefined): number | null => (x !== undefined && Number.isFinite(x) ? x : null);

function norm(values: readonly number[]): number | null {
  let sum = 0;
  for (const x of values) sum += x * x;
  return Number.isFinite(sum) ? Math.sqrt(sum) : null;
}

function arrayJson(values: readonly number[], dims: readonly number[] | undefined) {
  return {
    length: values.length,
    norm: norm(values),
    head: values.slice(0, VECTOR_HEAD).map(element),
    ...(dims && dims.length > 0 && { picked: Object.fromEntries(dims.map((d) => [String(d), element(values[d])])) }),
  };
}

export function valueJson(value: Value, options: ValueOptions = {}): ValueJson {
  switch (value.kind) {
    case 'float':
      return { kind: 'float', value: floatJson(value.value) };
    case 'integer':
      return { kind: 'integer', value: value.value.toString() };
    case 'string': {
      const cut = !options.fullStrings && value.value.length > STRING_PREVIEW;
      return { kind: 'string', value: cut ? value.value.slice(0, STRING_PREVIEW) : value.value, length: value.value.length, truncated: cut };
    }
    case 'boolean':
      return { kind: 'boolean', value: value.value };
    case 'vector':
      return { kind: 'vector', ...arrayJson(value.values, options.dims) };
    case 'tensor':
      return { kind: 'tensor', ...arrayJson(value.data, options.dims), shape: value.shape, dtype: value.dtype };
    default: {
      const exhaustive: never = value;
      throw new Error(`unhandled value ${JSON.stringify(exhaustive)}`);
    }
  }
}

export function variableJson(v: VariableState, options: ValueOptions = {}): VariableJson {
  return {
    id: v.id,
    name: v.name,
    type: v.type,
    value: valueJson(v.value, options),
    version: v.version,
    description: v.description,
    constraints: { ...v.constraints },
    metadata: { ...v.metadata },
    createdRevision: v.createdRevision,
    modifiedRevision: v.modifiedRevision,
    createdAt: v.createdAt,
    updatedAt: v.updatedAt,
    modifiedBy: v.modifiedBy,
  };
}

export function sessionJson(session: SessionState, expiresAt: number | null, lastChange: LastChangeJson | undefined): SessionJson {
  return {
    id: session.id,
    status: session.status,
    variableCount: variableCount(session),
    metadata: { ...session.metadata },
    ttlSeconds: session.ttlSeconds,
    createdAt: session.createdAt,
    createdRevision: session.createdRevision,
    modifiedRevision: session.modifiedRevision,
    modifiedAt: session.modifiedAt,
    expiresAt,
    ...(lastChange && { lastChange }),
  };
}

export function historyEntryJson(entry: HistoryEntry, options: ValueOptions = {}): HistoryEntryJson {
  return {
    version: entry.version,
    revision: entry.revision,
    time: entry.time,
    actor: entry.actor,
    kind: entry.kind,
    metadata: { ...entry.metadata },
    value: valueJson(entry.value, options),
  };
}

/** A watch change for the browser; `initial` changes are never sent (pages load state over the API). */
export function changeJson(change: Change): ChangeJson {
  if (change.kind === 'initial') throw new Error('initial changes are not sent to the web view');
  return {
    kind: change.kind,
    revision: change.revision,
    actor: change.actor,
    time: change.time,
    metadata: { ...change.metadata },
    ...(change.variable && { variable: variableJson(change.variable) }),
  };
}
