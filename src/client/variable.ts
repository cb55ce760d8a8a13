/**
 * Plain objects the client hands out: variables, history entries and sessions.
 * Versions and revisions are numbers (2^53 events is beyond any log's reach).
 */
import * as wire from '../gen/varledger/v1/ledger.js';
import type { Constraints, VariableType } from '../domain/types.js';
import { constraintsFromWire, fromWireValue, typeFromWire, type VariableValue } from './values.js';

export interface Variable<T extends VariableValue = VariableValue> {
  readonly id: string;
  readonly sessionId: string;
  readonly name: string;
  readonly type: VariableType;
  readonly value: T;
  readonly constraints: Constraints;
  readonly metadata: Readonly<Record<string, string>>;
  readonly description: string;
  /** 0 at registration, +1 on every set or rollback. */
  readonly version: number;
  readonly createdRevision: number;
  /** The revision of the event that produced this version. */
  readonly modifiedRevision: number;
  readonly createdAt: Date | undefined;
  readonly updatedAt: Date | undefined;
  /** The actor that wrote this version. */
  readonly modifiedBy: string;
}

export function variableFromWire(v: wire.Variable): Variable {
  const value = fromWireValue(v.value);
  if (value === undefined) throw new TypeError(`varledger: the server sent variable ${v.name} without a value`);
  return {
    id: v.id,
    sessionId: v.sessionId,
    name: v.name,
    type: typeFromWire(v.type),
    value,
    constraints: constraintsFromWire(v.constraints),
    metadata: v.metadata,
    description: v.description,
    version: Number(v.version),
    createdRevision: Number(v.createdRevision),
    modifiedRevision: Number(v.modifiedRevision),
    createdAt: v.createdAt,
    updatedAt: v.updatedAt,
    modifiedBy: v.modifiedBy,
  };
}

export type HistoryKind = 'registered' | 'set' | 'rolled_back';

export interface HistoryEntry {
  readonly version: number;
  readonly value: VariableValue | undefined;
  readonly revision: number;
  readonly time: Date | undefined;
  readonly actor: string;
  /** The update's metadata: a `reason`, or `rolled_back_from` / `rolled_back_to`. */
  readonly metadata: Readonly<Record<string, string>>;
  readonly kind: HistoryKind;
}

const HISTORY_KINDS: Partial<Record<wire.HistoryKind, HistoryKind>> = {
  [wire.HistoryKind.HISTORY_KIND_REGISTERED]: 'registered',
  [wire.HistoryKind.HISTORY_KIND_SET]: 'set',
  [wire.HistoryKind.HISTORY_KIND_ROLLED_BACK]: 'rolled_back',
};

export function historyEntryFromWire(e: wire.HistoryEntry): HistoryEntry {
  return {
    version: Number(e.version),
    value: fromWireValue(e.value),
    revision: Number(e.revision),
    time: e.time,
    actor: e.actor,
    metadata: e.metadata,
    kind: HISTORY_KINDS[e.kind] ?? 'set',
  };
}

export type SessionState = 'active' | 'closed' | 'expired';

export interface SessionInfo {
  readonly id: string;
  readonly metadata: Readonly<Record<string, string>>;
  readonly ttlSeconds: number;
  readonly state: SessionState;
  readonly createdAt: Date | undefined;
  readonly expiresAt: Date | undefined;
  readonly variableCount: number;
  readonly createdRevision: number;
  readonly modifiedRevision: number;
}

const SESSION_STATES: Partial<Record<wire.SessionState, SessionState>> = {
  [wire.SessionState.SESSION_STATE_ACTIVE]: 'active',
  [wire.SessionState.SESSION_STATE_CLOSED]: 'closed',
  [wire.SessionState.SESSION_STATE_EXPIRED]: 'expired',
};

export function sessionFromWire(s: wire.Session): SessionInfo {
  return {
    id: s.sessionId,
    metadata: s.metadata,
    ttlSeconds: s.ttlSeconds,
    state: SESSION_STATES[s.state] ?? 'active',
    createdAt: s.createdAt,
    expiresAt: s.expiresAt,
    variableCount: s.variableCount,
    createdRevision: Number(s.createdRevision),
    modifiedRevision: Number(s.modifiedRevision),
  };
}
