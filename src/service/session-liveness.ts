/**
 * Session liveness: when an idle session expires, decided from state every
 * process on the log sees.
 *
 * - Each process notes a session's last call in memory, and records it in
 *   the store (`EventStore.touch`) at most every ttl/4 per session, so a
 *   session used through one process is known to be in use by all.
 * - A recorded time may lag the real last call by up to ttl/4 (the next
 *   call would have recorded again), so a session counts as idle only
 *   ttl + ttl/4 after its recorded use (and ttl after any event of it, or
 *   after this process's own last call).
 * - Expiry is then a conditional append (LedgerService.expireIfIdle): it
 *   fails if the session got an event or a newer recorded use after the
 *   state it was decided from, so a session in use is never expired, and an
 *   idle one is expired once, by whichever process claims it first.
 *
 * Time comes only from the injected Clock.
 */
import type { SessionId, SessionState } from '../domain/index.js';
import type { EventStore } from '../store/event-store.js';
import type { Clock } from './clock.js';

/** Recorded use lags the real last call by at most this share of the TTL. */
const RECORD_EVERY_TTL_FRACTION = 4;

export class SessionLiveness {
  /** Last call per session, in this process. */
  private readonly activity = new Map<string, number>();
  /** Last time this process recorded a session's use in the store. */
  private readonly recorded = new Map<string, number>();
  /** After a restart every live session's idle timer starts afresh. */
  private readonly startedAt: number;
  /** Recordings on their way to the store (close waits for them). */
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly clock: Clock,
    private readonly store: EventStore,
    private readonly onError: (error: unknown) => void,
  ) {
    this.startedAt = clock.now();
  }

  now(): number {
    return this.clock.now();
  }

  /** Notes a call that used the session; records it for other processes when the last record is ttl/4 old. */
  touch(session: SessionState): void {
    const now = this.clock.now();
    this.activity.set(session.id, now);
    const last = this.recorded.get(session.id) ?? -Infinity;
    if (now - last < (session.ttlSeconds * 1000) / RECORD_EVERY_TTL_FRACTION) return;
    this.recorded.set(session.id, now);
    const write = this.store
      .touch(session.id, now)
      .catch(this.onError)
      .finally(() => this.pending.delete(write));
    this.pending.add(write);
  }

  /** Forgets an ended session. */
  forget(sessionId: SessionId): void {
    this.activity.delete(sessionId);
    this.recorded.delete(sessionId);
  }

  /** When the session expires as far as this process knows (no store read). */
  expiresAt(session: SessionState): number {
    const lastActive = Math.max(this.activity.get(session.id) ?? 0, session.modifiedAt, this.startedAt);
    return lastActive + session.ttlSeconds * 1000;
  }

  /** Idle as far as this process knows: worth asking the store. */
  seemsIdle(session: SessionState): boolean {
    return session.status === 'active' && this.clock.now() >= this.expiresAt(session);
  }

  /** Idle given the newest use any process recorded (`recordedAt`, from the store). */
  isIdle(session: SessionState, recordedAt: number | undefined): boolean {
    if (!this.seemsIdle(session)) return false;
    // Nobody recorded a use newer than ours: this process's own last call is the last one known.
    const own = this.recorded.get(session.id);
    if (recordedAt === undefined || (own !== undefined && recordedAt <= own)) return true;
    const ttl = session.ttlSeconds * 1000;
    return this.clock.now() >= recordedAt + ttl / RECORD_EVERY_TTL_FRACTION + ttl;
  }

  /** Waits for recordings under way. */
  async flush(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }
}
