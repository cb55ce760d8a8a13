/**
 * Per-principal limits: a token bucket for calls, a token bucket for the
 * request bytes of writing calls (refilled over a minute), and a count of
 * live sessions each principal created. A refused call gets how long to wait.
 * The clock is injected, so tests move time by hand.
 *
 * The session count includes places reserved by calls admitted as creating
 * but not answered yet: such a call may wait for a store lookup and then a
 * round before its session is in the log, and without the reservation every
 * create admitted meanwhile would see the old count (concurrent creates
 * could all pass, and the principal end up over its limit).
 */
import type { Limits } from './access.js';

class TokenBucket {
  private tokens: number;
  private updated: number;

  constructor(
    private capacity: number,
    private perMs: number,
    now: number,
  ) {
    this.tokens = capacity;
    this.updated = now;
  }

  /** Adopt new limits (the auth file changed) without forgetting what was spent. */
  resize(capacity: number, perMs: number): void {
    this.capacity = capacity;
    this.perMs = perMs;
    this.tokens = Math.min(this.tokens, capacity);
  }

  /** Takes `cost` tokens, or returns the ms until they would be there. A cost above capacity waits for a full bucket. */
  take(cost: number, now: number): number {
    this.tokens = Math.min(this.capacity, this.tokens + Math.max(0, now - this.updated) * this.perMs);
    this.updated = now;
    const needed = Math.min(cost, this.capacity);
    if (this.tokens >= needed) {
      this.tokens -= needed;
      return 0;
    }
    return Math.ceil((needed - this.tokens) / this.perMs);
  }
}

/** What was exceeded and how long to wait before trying again (0: unknown, e.g. sessions). */
export interface LimitBreach {
  readonly limit: 'requests' | 'bytes' | 'sessions';
  readonly message: string;
  readonly retryAfterMs: number;
}

/** A session place held for one call that may create a session, until the call is answered. */
export interface SessionReservation {
  /** Gives the place back; idempotent. The session, if the call created it, is counted as live by then. */
  release(): void;
}

class Reservation implements SessionReservation {
  constructor(
    readonly sessionId: string,
    private readonly heldIn: Set<Reservation>,
  ) {}
  release(): void {
    this.heldIn.delete(this);
  }
}

interface PrincipalState {
  readonly requests: TokenBucket;
  readonly bytes: TokenBucket;
}

export class PrincipalLimiter {
  private readonly states = new Map<string, PrincipalState>();
  /** Live sessions each principal created. */
  private readonly created = new Map<string, Set<string>>();
  /** Session → its creator, to release the count when it ends. */
  private readonly creators = new Map<string, string>();
  /** Places held by calls admitted as creating, not answered yet, per principal. */
  private readonly reserved = new Map<string, Set<Reservation>>();

  constructor(private readonly now: () => number) {}

  private state(name: string, limits: Limits): PrincipalState {
    const now = this.now();
    const requestRate = limits.requestsPerSecond / 1000;
    const byteRate = limits.bytesPerMinute / 60_000;
    let state = this.states.get(name);
    if (!state) {
      state = {
        requests: new TokenBucket(limits.burst, requestRate, now),
        bytes: new TokenBucket(limits.bytesPerMinute, byteRate, now),
      };
      this.states.set(name, state);
    } else {
      state.requests.resize(limits.burst, requestRate);
      state.bytes.resize(limits.bytesPerMinute, byteRate);
    }
    return state;
  }

  /** One call. */
  takeRequest(name: string, limits: Limits): LimitBreach | undefined {
    const wait = this.state(name, limits).requests.take(1, this.now());
    if (wait === 0) return undefined;
    return { limit: 'requests', retryAfterMs: wait, message: `${name} is over its limit of ${limits.requestsPerSecond} calls per second` };
  }

  /** The request bytes of a writing call. */
  takeBytes(name: string, limits: Limits, bytes: number): LimitBreach | undefined {
    const wait = this.state(name, limits).bytes.take(bytes, this.now());
    if (wait === 0) return undefined;
    return { limit: 'bytes', retryAfterMs: wait, message: `${name} is over its limit of ${limits.bytesPerMinute} bytes written per minute` };
  }

  /**
   * Before a call that would create session `sessionId` ('' when the server
   * picks the id): a place held until the call releases it, or the breach
   * when live sessions plus places held would exceed the limit.
   */
  reserveNewSession(name: string, limits: Limits, sessionId: string): SessionReservation | LimitBreach {
    const live = this.created.get(name)?.size ?? 0;
    let held = this.reserved.get(name);
    if (live + (held?.size ?? 0) >= limits.sessions) {
      return { limit: 'sessions', retryAfterMs: 0, message: `${name} already has ${live} live sessions, its limit; close one first` };
    }
    if (!held) this.reserved.set(name, (held = new Set()));
    const reservation = new Reservation(sessionId, held);
    held.add(reservation);
    return reservation;
  }

  /** A session was created (seen in the log) by `name`. */
  sessionCreated(name: string, sessionId: string): void {
    let sessions = this.created.get(name);
    if (!sessions) this.created.set(name, (sessions = new Set()));
    sessions.add(sessionId);
    this.creators.set(sessionId, name);
    // Counted as live now: the place its call held is not needed twice (a server-picked id keeps its place until the answer).
    const held = this.reserved.get(name);
    if (held) for (const reservation of held) if (reservation.sessionId === sessionId) held.delete(reservation);
  }

  /** A session closed or expired. */
  sessionEnded(sessionId: string): void {
    const creator = this.creators.get(sessionId);
    if (creator === undefined) return;
    this.creators.delete(sessionId);
    this.created.get(creator)?.delete(sessionId);
  }
}
