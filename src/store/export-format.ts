/**
 * The export format: one JSON object per event per line, every column of
 * `events` under its column name plus the event's chain hash. The payload
 * stays the stored JSON text (a string), because the chain hashes exactly
 * those bytes.
 */
import type { EventRow } from './event-codec.js';

export interface ExportedEvent {
  readonly revision: number;
  readonly commit_id: number;
  readonly session_id: string;
  readonly variable_id: string | null;
  readonly kind: string;
  readonly version: number | null;
  readonly time: number;
  readonly actor: string;
  readonly payload: string;
  readonly hash: string | null;
}

export function toExported(row: readonly [...EventRow, string | null]): ExportedEvent {
  const [revision, commitId, sessionId, variableId, kind, version, time, actor, payload, hash] = row;
  return { revision, commit_id: commitId, session_id: sessionId, variable_id: variableId, kind, version, time, actor, payload, hash };
}

const isInt = (v: unknown): v is number => Number.isSafeInteger(v);
const isText = (v: unknown): v is string => typeof v === 'string';

/** Parses one exported line back into a row and its hash; throws with what is wrong. */
export function fromExported(line: string): { row: EventRow; hash: string } {
  const e = JSON.parse(line) as Partial<Record<keyof ExportedEvent, unknown>>;
  const ok =
    isInt(e.revision) &&
    isInt(e.commit_id) &&
    isText(e.session_id) &&
    (e.variable_id === null || isText(e.variable_id)) &&
    isText(e.kind) &&
    (e.version === null || isInt(e.version)) &&
    isInt(e.time) &&
    isText(e.actor) &&
    isText(e.payload) &&
    isText(e.hash);
  if (!ok) throw new Error('not an exported event (each line needs revision, commit_id, session_id, variable_id, kind, version, time, actor, payload, hash)');
  return {
    row: [e.revision, e.commit_id, e.session_id, e.variable_id, e.kind, e.version, e.time, e.actor, e.payload] as EventRow,
    hash: e.hash as string,
  };
}
