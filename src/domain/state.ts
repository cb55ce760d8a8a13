/** The projection of one session, folded from its events by `evolve`. */
import type { Revision, SessionId, VariableId, Version } from './ids.js';
import type { Constraints, Metadata, Value, VariableType } from './types.js';

export type SessionStatus = 'active' | 'closed' | 'expired';

export interface VariableState {
  readonly id: VariableId;
  readonly sessionId: SessionId;
  readonly name: string;
  readonly type: VariableType;
  readonly value: Value;
  readonly constraints: Constraints;
  readonly metadata: Metadata;
  readonly description: string;
  readonly version: Version;
  readonly createdRevision: Revision;
  readonly modifiedRevision: Revision;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly modifiedBy: string;
}

export interface SessionState {
  readonly id: SessionId;
  readonly metadata: Metadata;
  readonly ttlSeconds: number;
  readonly status: SessionStatus;
  readonly createdAt: number;
  readonly createdRevision: Revision;
  /** Revision of the newest event of this session. */
  readonly modifiedRevision: Revision;
  /** Time of the newest event of this session. */
  readonly modifiedAt: number;
  /** Live variables only; a deleted variable leaves both maps. */
  readonly variables: ReadonlyMap<VariableId, VariableState>;
  readonly names: ReadonlyMap<string, VariableId>;
  /**
   * Set only on the compact form an ended session is reported and stored
   * in (see `endedForm`): its variables are dropped (reads of an ended
   * session go to the log) and this keeps their count.
   */
  readonly endedVariableCount?: number;
}

/** How many variables the session has (had, when it ended). */
export const variableCount = (session: SessionState): number => session.endedVariableCount ?? session.variables.size;

/**
 * The compact form of an ended session: everything but its variables. Its
 * snapshot row holds it, and it is what GetSession and the like report; the
 * projection drops ended sessions (memory bounded by live data), and their
 * variables, at any revision, are folded from the log on demand.
 */
export function endedForm(session: SessionState): SessionState {
  if (session.status === 'active' || session.endedVariableCount !== undefined) return session;
  return { ...session, variables: new Map(), names: new Map(), endedVariableCount: session.variables.size };
}

/** Finds a live variable by id first, then by name. */
export function findVariable(session: SessionState, identifier: string): VariableState | undefined {
  const byId = session.variables.get(identifier as VariableId);
  if (byId) return byId;
  const id = session.names.get(identifier);
  return id === undefined ? undefined : session.variables.get(id);
}
