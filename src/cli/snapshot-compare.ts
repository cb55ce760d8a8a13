/**
 * Compares a stored snapshot with a fresh fold of the log at its revision.
 * Both sides go through `encodeSession`, so the comparison is of the form a
 * snapshot is stored in, and a difference can be named by its JSON path.
 */
import { endedForm, type SessionState } from '../domain/index.js';
import { decodeSession, encodeSession } from '../store/snapshot-codec.js';

export interface StoredSnapshot {
  readonly revision: number;
  readonly rows: ReadonlyArray<readonly [sessionId: string, state: string]>;
  /** Rows match the snapshot's session count and checksum. */
  readonly intact: boolean;
}

/** The first path at which two JSON values differ, e.g. `variables[0].value.float`. */
function firstDifference(a: unknown, b: unknown, path: string): string | undefined {
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) {
    return JSON.stringify(a) === JSON.stringify(b) ? undefined : path || '(whole)';
  }
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const key of keys) {
    const step = Array.isArray(a) ? `${path}[${key}]` : path ? `${path}.${key}` : key;
    const found = firstDifference((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], step);
    if (found) return found;
  }
  return undefined;
}

/** Normalises a stored row through the codec; undefined if it does not decode. */
function reencode(state: string): string | undefined {
  try {
    return encodeSession(decodeSession(state));
  } catch {
    return undefined;
  }
}

/** What is wrong with a snapshot compared with the fresh fold, or undefined if nothing. */
export function compareSnapshot(snapshot: StoredSnapshot, fresh: ReadonlyMap<string, SessionState>): string | undefined {
  const stored = new Map(snapshot.rows.map(([id, state]) => [id, state]));
  for (const [id, session] of fresh) {
    // An ended session needs a row only to supersede an active one of it (projection.ts): without one it is read from the log.
    if (!stored.has(id) && session.status === 'active') return `session ${id} is missing from it`;
  }
  for (const [id, state] of stored) {
    const session = fresh.get(id);
    if (!session) return `it holds session ${id}, which the log does not have at that revision`;
    // Snapshots hold ended sessions in their compact form.
    const expected = encodeSession(endedForm(session));
    const actual = reencode(state);
    if (actual === undefined) return `session ${id} does not decode`;
    if (actual !== expected) {
      const where = firstDifference(JSON.parse(actual), JSON.parse(expected), '');
      return `session ${id} differs from the log at ${where ?? '(whole)'}`;
    }
  }
  if (!snapshot.intact) return 'its rows do not match its checksum';
  return undefined;
}
