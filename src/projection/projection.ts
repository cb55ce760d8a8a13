/**
 * The in-memory projection: every live session's current state, folded
 * from the log. Reads of current state never touch the store.
 *
 * An ended session leaves it (memory stays bounded by live sessions): its
 * state is read from the log or its snapshot row on demand (see
 * EndedSessions). Only until the next snapshot has written its row does the
 * projection hold its compact form (`endedForm`), as the one thing that
 * snapshot must write for it.
 *
 * Session states are changed in place, so a write costs the same in a
 * session of ten variables or of a hundred thousand: no map is copied.
 * Variable states are never changed, only replaced, so what `apply` reports
 * as a variable's state before and after an event stays true. A reader that
 * needs a session as it was must copy what it needs before it yields to the
 * event loop (every read in this process does its work synchronously).
 */
import {
  applyInPlace,
  endedForm,
  foldSessions,
  type AppliedEvent,
  type MutableSession,
  type Revision,
  type SessionId,
  type SessionState,
  type StoredEvent,
} from '../domain/index.js';
import type { EventStore } from '../store/event-store.js';

const LOAD_BATCH = 10_000;

export class Projection {
  private constructor(
    private readonly byId: Map<string, MutableSession>,
    private headRevision: Revision,
    /** Revision of the snapshot the fold started from; 0 when none. */
    readonly snapshotRevision: Revision,
    /** Sessions changed since the last snapshot written (or loaded): the next one writes only these. */
    private readonly changed: Set<SessionId>,
    /** Sessions that ended since the last snapshot, compact, until a snapshot writes them. */
    private readonly endedUnsaved: Map<string, SessionState>,
  ) {}

  /**
   * The newest intact snapshot plus a fold of the log after it (the whole
   * log when there is none). A snapshot ahead of the log is ignored.
   */
  static async load(store: EventStore): Promise<Projection> {
    const logHead = await store.head();
    const snapshot = await store.snapshots.loadLatest(logHead);
    const sessions = snapshot?.sessions ?? new Map<string, SessionState>();
    let head = snapshot?.revision ?? (0 as Revision);
    const changed = new Set<SessionId>();
    const endedUnsaved = new Map<string, SessionState>();
    // A snapshot holds ended sessions' rows too (old ones their states): they do not stay in memory.
    for (const [id, session] of sessions) if (session.status !== 'active') sessions.delete(id);
    for await (const batch of store.read({ after: head, batchSize: LOAD_BATCH })) {
      if (batch.kind === 'caught_up') break;
      foldSessions(batch.events, sessions, { freeze: false });
      head = (batch.events[batch.events.length - 1] as StoredEvent).revision;
      for (const event of batch.events) {
        changed.add(event.sessionId);
        if (event.kind === 'session_closed' || event.kind === 'session_expired') {
          endedUnsaved.set(event.sessionId, endedForm(sessions.get(event.sessionId) as SessionState));
          sessions.delete(event.sessionId);
        } else if (event.kind === 'log_compacted') {
          for (const id of event.sessions) endedUnsaved.delete(id);
        }
      }
    }
    return new Projection(
      sessions as unknown as Map<string, MutableSession>,
      head,
      snapshot?.revision ?? (0 as Revision),
      changed,
      endedUnsaved,
    );
  }

  /** Every live session, in no particular order. */
  sessions(): IterableIterator<SessionState> {
    return this.byId.values() as IterableIterator<SessionState>;
  }

  /** What the next whole snapshot must write: every live session and those ended since the last one. */
  *unsavedSessions(): IterableIterator<SessionState> {
    yield* this.sessions();
    yield* this.endedUnsaved.values();
  }

  /** The revision of the newest event folded in. */
  get head(): Revision {
    return this.headRevision;
  }

  /** A live session (active, or ended by an event not applied yet); ended ones are not here. */
  session(id: SessionId): SessionState | undefined {
    return this.byId.get(id) as SessionState | undefined;
  }

  /** An ended session's compact form, while the projection still holds it for the next snapshot. */
  endedSession(id: SessionId): SessionState | undefined {
    return this.endedUnsaved.get(id);
  }

  /** Live sessions held. */
  get sessionCount(): number {
    return this.byId.size;
  }

  /** Ended sessions held until the next snapshot writes them (0 right after one). */
  get endedHeldCount(): number {
    return this.endedUnsaved.size;
  }

  /** The sessions changed since the last `snapshotted` revision (a snapshot writes only these). */
  changedSessions(): SessionState[] {
    const states: SessionState[] = [];
    for (const id of this.changed) {
      const session = (this.byId.get(id) as SessionState | undefined) ?? this.endedUnsaved.get(id);
      if (session) states.push(session);
    }
    return states;
  }

  /** A snapshot at `revision` was written: sessions not changed since are no longer news. */
  snapshotted(revision: Revision): void {
    for (const id of this.changed) {
      const session = (this.byId.get(id) as SessionState | undefined) ?? this.endedUnsaved.get(id);
      if (!session || session.modifiedRevision <= revision) this.changed.delete(id);
    }
    // Their rows are written: from now on they are read from the store.
    for (const [id, session] of this.endedUnsaved) if (session.modifiedRevision <= revision) this.endedUnsaved.delete(id);
  }

  /**
   * Folds events that follow the head, in place. Returns each event
   * with the variable it touched before and after: the change feed.
   */
  apply(events: readonly StoredEvent[]): AppliedEvent[] {
    const applied: AppliedEvent[] = [];
    for (const event of events) {
      // Gapless but for revisions retention removed (always before the log_compacted event that removed them).
      if (event.revision <= this.headRevision) {
        throw new Error(`projection at ${this.headRevision} cannot apply revision ${event.revision}`);
      }
      applied.push(applyInPlace(this.byId, event));
      this.changed.add(event.sessionId);
      this.headRevision = event.revision;
      // An ended session leaves: memory stays bounded by live sessions (and those ended since the last snapshot).
      if (event.kind === 'session_closed' || event.kind === 'session_expired') {
        this.endedUnsaved.set(event.sessionId, endedForm(this.byId.get(event.sessionId) as SessionState));
        this.byId.delete(event.sessionId);
      } else if (event.kind === 'log_compacted') {
        for (const id of event.sessions) {
          this.endedUnsaved.delete(id);
          this.changed.delete(id as SessionId);
        }
      }
    }
    return applied;
  }
}
