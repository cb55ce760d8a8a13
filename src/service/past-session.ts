/** A session as it was at a past revision, rebuilt from the log. */
import { foldSessions, type Revision, type SessionId, type SessionState } from '../domain/index.js';
import type { EventStore } from '../store/event-store.js';

/**
 * Folds the session's events up to `at`, starting from the nearest intact
 * snapshot at or below it (or from the start of the log). Undefined when the
 * session did not exist yet at `at`.
 */
export function foldSessionAt(store: EventStore, sessionId: SessionId, at: Revision): SessionState | undefined {
  const snapshot = store.snapshots.loadSession(sessionId, at);
  const start = snapshot ? new Map([[sessionId as string, snapshot.session]]) : undefined;
  const events = store.readSession(sessionId, at, snapshot?.revision ?? (0 as Revision));
  return foldSessions(events, start).get(sessionId);
}
