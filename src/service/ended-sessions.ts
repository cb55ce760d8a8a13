/**
 * Ended sessions, read from the store on demand: the projection holds live
 * sessions only (memory bounded by live data), yet a closed or expired
 * session still answers GetSession, refuses writes as closed, keeps its id
 * taken, and can be watched from a past revision. Its state is its newest
 * stored snapshot row plus its events after it (indexed by session, so the
 * cost is bounded by that session's size, never by the log's).
 *
 * An ended session never changes again (tool events change no state), so a
 * state read once stays true until retention removes the session: a small
 * LRU keeps the recently asked-for ones, so a client that keeps calling a
 * closed session costs one lookup, not one per call.
 */
import { endedForm, type Revision, type SessionId, type SessionState } from '../domain/index.js';
import type { EventStore } from '../store/event-store.js';
import { foldSessionAt } from './past-session.js';

/** Ended sessions kept after a lookup (compact forms, a few hundred bytes each). */
export const ENDED_CACHE_SIZE = 1_000;

export class EndedSessions {
  /** Insertion order is recency order: a hit moves its entry to the end. */
  private readonly cache = new Map<SessionId, SessionState>();
  /** Bumped when retention removes sessions: a lookup that raced with it does not cache what it found. */
  private removals = 0;

  constructor(
    private readonly store: EventStore,
    private readonly capacity = ENDED_CACHE_SIZE,
    /** False only for an id the log never had (session-id-filter.ts): such a lookup needs no read. */
    private readonly mayExist: (sessionId: SessionId) => boolean = () => true,
  ) {}

  /** A cached ended session, or undefined (no store read). */
  cached(sessionId: SessionId): SessionState | undefined {
    const hit = this.cache.get(sessionId);
    if (hit) {
      this.cache.delete(sessionId);
      this.cache.set(sessionId, hit);
    }
    return hit;
  }

  /**
   * The session as a fold of the store up to `at` (the projection's head,
   * so the answer agrees with the projection): its compact form when it had
   * ended by then, its full state when still active at `at`, undefined when
   * it did not exist (or retention removed it).
   */
  async lookup(sessionId: SessionId, at: Revision): Promise<SessionState | undefined> {
    const hit = this.cached(sessionId);
    if (hit) return hit;
    if (!this.mayExist(sessionId)) return undefined;
    const removals = this.removals;
    const session = await foldSessionAt(this.store, sessionId, at);
    if (!session || session.status === 'active') return session;
    const compact = endedForm(session);
    if (removals === this.removals) this.remember(compact);
    return compact;
  }

  /** Retention removed these sessions: nothing may answer for them any more. */
  forget(sessionIds: readonly string[]): void {
    this.removals++;
    for (const id of sessionIds) this.cache.delete(id as SessionId);
  }

  /** Held entries (tests pin that this stays bounded). */
  get size(): number {
    return this.cache.size;
  }

  private remember(session: SessionState): void {
    this.cache.set(session.id, session);
    if (this.cache.size > this.capacity) {
      const oldest = this.cache.keys().next();
      if (!oldest.done) this.cache.delete(oldest.value);
    }
  }
}
