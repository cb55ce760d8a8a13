/** A session as it was at a past revision, rebuilt from the log. */
import { foldSessions, type Revision, type SessionId, type SessionState } from '../domain/index.js';
import type { EventStore } from '../store/event-store.js';

/**
 * Folds the session's events up to `at`, starting from the nearest intact
 * snapshot at or below it (or from the start of the log). Undefined when the
 * session did not exist yet at `at`.
 */
export async function foldSessionAt(store: EventStore, sessionId: SessionId, at: Revision): Promise<SessionState | undefined> {
  const snapshot = await store.snapshots.loadSession(sessionId, at);
  const start = snapshot ? new Map([[sessionId as string, snapshot.session]]) : undefined;
  const events = await store.readSession(sessionId, at, snapshot?.revision ?? (0 as Revision));
  // Unfrozen: the caller owns it (a watch catch-up folds on from it).
  return foldSessions(events, start, { freeze: false }).get(sessionId);
}
