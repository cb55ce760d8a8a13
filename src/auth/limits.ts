/**
 * Per-principal limits: a token bucket for calls, a token bucket for the
 * request bytes of writing calls (refilled over a minute), and a count of
 * live sessions each principal created. A refused call gets how long to wait.
 * The clock is injected, so tests move time by hand.
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

  /** Before a call that would create a session. */
  checkNewSession(name: string, limits: Limits): LimitBreach | undefined {
    const live = this.created.get(name)?.size ?? 0;
    if (live < limits.sessions) return undefined;
    return { limit: 'sessions', retryAfterMs: 0, message: `${name} already has ${live} live sessions, its limit; close one first` };
  }

  /** A session was created (seen in the log) by `name`. */
  sessionCreated(name: string, sessionId: string): void {
    let sessions = this.created.get(name);
    if (!sessions) this.created.set(name, (sessions = new Set()));
    sessions.add(sessionId);
    this.creators.set(sessionId, name);
  }

  /** A session closed or expired. */
  sessionEnded(sessionId: string): void {
    const creator = this.creators.get(sessionId);
    if (creator === undefined) return;
    this.creators.delete(sessionId);
    this.created.get(creator)?.delete(sessionId);
  }
}
