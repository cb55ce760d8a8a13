/** The change feed: what every consumer (watch hubs, web view, metrics) hears once per applied batch. */
import type { AppliedEvent, StoredEvent } from '../domain/index.js';

/**
 * One batch of events the projection has just applied: one or more whole
 * commits, in revision order, ours or another process's.
 *
 * - `events`: the stored events, as in the log.
 * - `applied`: the same events, each with the variable it touched as it was
 *   `previous`ly and as it is after (`variable`; for a delete, as deleted).
 *   These are the projection's own immutable variable states: nothing needs
 *   to fold the events again.
 */
export interface CommitNotice {
  readonly events: readonly StoredEvent[];
  readonly applied: readonly AppliedEvent[];
}

/**
 * Called after each applied batch, never inside a store transaction, in the
 * order the batches were applied. Must not throw (the write is already
 * durable; a throw is caught and reported, and other listeners still run),
 * and must not keep session states across turns of the event loop: copy
 * what is needed.
 */
export type CommitListener = (notice: CommitNotice) => void;

export class ChangeFeed {
  private readonly listeners = new Set<CommitListener>();

  constructor(private readonly onError: (error: unknown) => void) {}

  /** Starts listening; returns the function that stops. */
  subscribe(listener: CommitListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  publish(notice: CommitNotice): void {
    if (notice.events.length === 0) return;
    for (const listener of this.listeners) {
      try {
        listener(notice);
      } catch (error) {
        this.onError(error);
      }
    }
  }

  clear(): void {
    this.listeners.clear();
  }
}
