/**
 * The in-memory projection: every session's current state, folded from the
 * log. Reads of current state never touch SQL. Each session state is
 * immutable, so a reader that took one keeps a consistent snapshot while
 * writes replace it.
 */
import { evolve, foldSessions, type Revision, type SessionId, type SessionState, type StoredEvent } from '../domain/index.js';
import type { EventStore } from '../store/event-store.js';

export class Projection {
  private constructor(
    private readonly byId: Map<string, SessionState>,
    private headRevision: Revision,
    /** Revision of the snapshot the fold started from; 0 when none. */
    readonly snapshotRevision: Revision,
  ) {}

  /**
   * The newest intact snapshot plus a fold of the log after it (the whole
   * log when there is none). A snapshot ahead of the log is ignored.
   */
  static load(store: EventStore): Projection {
    const logHead = store.head();
    const snapshot = store.snapshots.loadLatest(logHead);
    let head = snapshot?.revision ?? (0 as Revision);
    const sessions = foldSessions(
      (function* track() {
        for (const event of store.readAll(head)) {
          head = event.revision;
          yield event;
        }
      })(),
      snapshot?.sessions,
    );
    return new Projection(sessions, head, snapshot?.revision ?? (0 as Revision));
  }

  /** Every session, in no particular order. */
  sessions(): IterableIterator<SessionState> {
    return this.byId.values();
  }

  /** The revision of the newest event folded in. */
  get head(): Revision {
    return this.headRevision;
  }

  session(id: SessionId): SessionState | undefined {
    return this.byId.get(id);
  }

  /** All sessions, in id order. */
  sessionsInOrder(): SessionState[] {
    return [...this.byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  get sessionCount(): number {
    return this.byId.size;
  }

  /**
   * Folds events that directly follow the head. Returns each touched
   * session's state from before them (undefined for a session they created),
   * which watchers need to report previous values.
   */
  apply(events: readonly StoredEvent[]): Map<SessionId, SessionState | undefined> {
    const before = new Map<SessionId, SessionState | undefined>();
    let start = 0;
    while (start < events.length) {
      const first = events[start] as StoredEvent;
      if (first.revision !== this.headRevision + 1) {
        throw new Error(`projection at ${this.headRevision} cannot apply revision ${first.revision}`);
      }
      // Group the run of consecutive events of one session into one evolve.
      let end = start + 1;
      while (end < events.length && (events[end] as StoredEvent).sessionId === first.sessionId) end++;
      const run = events.slice(start, end);
      const prior = this.byId.get(first.sessionId);
      if (!before.has(first.sessionId)) before.set(first.sessionId, prior);
      this.byId.set(first.sessionId, evolve(prior, run));
      this.headRevision = (run[run.length - 1] as StoredEvent).revision;
      start = end;
    }
    return before;
  }
}
