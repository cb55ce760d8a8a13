/**
 * Session liveness: when an idle session expires. Activity (any call that
 * uses a session) is kept in memory per process; a session's own events
 * count as activity for every process, since every process folds them.
 * Expiry itself is a conditional append (see LedgerService.expireIfIdle):
 * it fails if the session changed in the log after the state it was decided
 * from, so a session another process just wrote to is never expired.
 */
import type { SessionId, SessionState } from '../domain/index.js';
import type { Clock } from './clock.js';

export class SessionLiveness {
  /** Last call per session. */
  private readonly activity = new Map<string, number>();
  /** After a restart every live session's idle timer starts afresh. */
  private readonly startedAt: number;

  constructor(private readonly clock: Clock) {
    this.startedAt = clock.now();
  }

  now(): number {
    return this.clock.now();
  }

  touch(sessionId: SessionId): void {
    this.activity.set(sessionId, this.clock.now());
  }

  /** Forgets an ended session. */
  forget(sessionId: SessionId): void {
    this.activity.delete(sessionId);
  }

  expiresAt(session: SessionState): number {
    const lastActive = Math.max(this.activity.get(session.id) ?? 0, session.modifiedAt, this.startedAt);
    return lastActive + session.ttlSeconds * 1000;
  }

  isIdle(session: SessionState): boolean {
    return session.status === 'active' && this.clock.now() >= this.expiresAt(session);
  }
}
