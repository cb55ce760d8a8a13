/** Jittered exponential backoff, and a sleep that an AbortSignal cuts short. */

export interface BackoffOptions {
  /** Delay before the first retry, in ms (before jitter). Default 10. */
  readonly initialMs?: number;
  /** Upper bound of any delay, in ms. Default 1000. */
  readonly maxMs?: number;
  /** Growth per attempt. Default 2. */
  readonly multiplier?: number;
}

/**
 * The delay before retry number `attempt` (0-based): exponential growth
 * capped at `maxMs`, then "equal jitter" — a uniform pick from the upper
 * half — so competing writers spread out instead of colliding again in step.
 */
export function backoffDelay(attempt: number, options: BackoffOptions = {}, random: () => number = Math.random): number {
  const { initialMs = 10, maxMs = 1000, multiplier = 2 } = options;
  const ceiling = Math.min(maxMs, initialMs * multiplier ** attempt);
  return ceiling / 2 + random() * (ceiling / 2);
}

/** Resolves after `ms`, or as soon as `signal` aborts (it never rejects). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
