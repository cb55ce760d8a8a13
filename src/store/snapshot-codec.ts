/**
 * JSON form of a session's state inside a snapshot. Values and constraints
 * use the event payload encoding (value-codec.ts), so a snapshot row is as
 * readable in the sqlite3 shell as an event.
 */
import type { Metadata, Revision, SessionId, SessionState, SessionStatus, VariableId, VariableState, VariableType, Version } from '../domain/index.js';
import { decodeConstraints, decodeValue, encodeConstraints, encodeValue, type EncodedConstraints, type EncodedValue } from './value-codec.js';

interface EncodedVariable {
  id: string;
  name: string;
  type: VariableType;
  value: EncodedValue;
  constraints: EncodedConstraints;
  metadata: Metadata;
  description: string;
  version: number;
  created_revision: number;
  modified_revision: number;
  created_at: number;
  updated_at: number;
  modified_by: string;
}

interface EncodedSession {
  id: string;
  metadata: Metadata;
  ttl_seconds: number;
  status: SessionStatus;
  created_at: number;
  created_revision: number;
  modified_revision: number;
  modified_at: number;
  variables: EncodedVariable[];
  /** Ended sessions are stored in their compact form: no variables, their count. */
  ended_variable_count?: number;
}

export function encodeSession(s: SessionState): string {
  const encoded: EncodedSession = {
    id: s.id,
    metadata: s.metadata,
    ttl_seconds: s.ttlSeconds,
    status: s.status,
    created_at: s.createdAt,
    created_revision: s.createdRevision,
    modified_revision: s.modifiedRevision,
    modified_at: s.modifiedAt,
    variables: [...s.variables.values()].map((v) => ({
      id: v.id,
      name: v.name,
      type: v.type,
      value: encodeValue(v.value),
      constraints: encodeConstraints(v.constraints),
      metadata: v.metadata,
      description: v.description,
      version: v.version,
      created_revision: v.createdRevision,
      modified_revision: v.modifiedRevision,
      created_at: v.createdAt,
      updated_at: v.updatedAt,
      modified_by: v.modifiedBy,
    })),
    ...(s.endedVariableCount !== undefined && { ended_variable_count: s.endedVariableCount }),
  };
  return JSON.stringify(encoded);
}

/** A fresh, unfrozen session state (foldSessions may continue from it). */
export function decodeSession(text: string): SessionState {
  const e = JSON.parse(text) as EncodedSession;
  const sessionId = e.id as SessionId;
  const variables = new Map<VariableId, VariableState>();
  const names = new Map<string, VariableId>();
  for (const v of e.variables) {
    const id = v.id as VariableId;
    variables.set(id, {
      id,
      sessionId,
      name: v.name,
      type: v.type,
      value: decodeValue(v.value),
      constraints: decodeConstraints(v.constraints),
      metadata: { ...v.metadata },
      description: v.description,
      version: v.version as Version,
      createdRevision: v.created_revision as Revision,
      modifiedRevision: v.modified_revision as Revision,
      createdAt: v.created_at,
      updatedAt: v.updated_at,
      modifiedBy: v.modified_by,
    });
    names.set(v.name, id);
  }
  return {
    id: sessionId,
    metadata: { ...e.metadata },
    ttlSeconds: e.ttl_seconds,
    status: e.status,
    createdAt: e.created_at,
    createdRevision: e.created_revision as Revision,
    modifiedRevision: e.modified_revision as Revision,
    modifiedAt: e.modified_at,
    variables,
    names,
    ...(e.ended_variable_count !== undefined && { endedVariableCount: e.ended_variable_count }),
  };
}
