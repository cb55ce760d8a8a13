/**
 * The in-memory projection: every live session's current state, folded
 * from the log. Reads of current state never touch the store.
 *
 * An ended session leaves it (memory stays bounded by live sessions): its
 * state is read from the log or its snapshot row on demand (see
 * EndedSessions), folded from the session's own events (indexed by session).
 * Only a session that a snapshot this process builds on holds a row for
 * (it was live then) stays, in compact form (`endedForm`), until the next
 * snapshot writes its ended row: else that snapshot would still say it is
 * active. Those are at most the sessions live at that snapshot, so memory
 * stays bounded by live sessions even when no snapshot is ever written
 * (`--snapshot-every 0`); a session created after it has no row to correct
 * and leaves at once.
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

/**
 * Sessions let go without a row, as one span: from the earliest creation to
 * the latest end among them. A snapshot at a revision inside it may hold an
 * active row of one of them; one outside cannot. Two numbers, however many.
 */
interface DroppedSpan {
  readonly created: number;
  readonly ended: number;
}
const NONE_DROPPED: DroppedSpan = { created: Number.POSITIVE_INFINITY, ended: Number.NEGATIVE_INFINITY };
const widen = (span: DroppedSpan, created: number, ended: number): DroppedSpan => ({
  created: Math.min(span.created, created),
  ended: Math.max(span.ended, ended),
});
const join = (a: DroppedSpan, b: DroppedSpan): DroppedSpan => widen(a, b.created, b.ended);

export class Projection {
  private constructor(
    private readonly byId: Map<string, MutableSession>,
    private headRevision: Revision,
    /** Revision of the snapshot the fold started from; 0 when none. */
    readonly snapshotRevision: Revision,
    /** Sessions changed since the last snapshot written (or loaded): the next one writes only these. */
    private readonly changed: Set<SessionId>,
    /** Sessions that ended since the last snapshot and have a row in it, compact, until a snapshot writes them. */
    private readonly endedUnsaved: Map<string, SessionState>,
    /**
     * The newest snapshot this process's snapshots build on (loaded, adopted,
     * written or being written): a session created after it has no row in it.
     */
    private rowsUpTo: Revision,
    /** Sessions let go without a row since the current snapshot began (see mayAdopt). */
    private droppedSince: DroppedSpan,
  ) {}

  /**
   * Another process writes to this log, so it may write snapshots too, with
   * active rows for sessions this one would let go unseen: from then on
   * every ended session is held until a snapshot of ours (or one we take as
   * basis) has its ended row, as with a single writer only before.
   */
  private othersMayHoldRows = false;
  /** Let go without a row before the current snapshot began; forgotten once it is written (or skipped for a newer one). */
  private droppedBefore = NONE_DROPPED;
  /**
   * Sessions `apply` ended and let go at once, until the caller releases
   * them (releaseJustEnded, after the round's replies and change feed):
   * the reply to the command that ended one reads it here.
   */
  private readonly justEnded = new Map<string, SessionState>();

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
    // Not only the snapshot loaded: a newer one that did not verify still holds rows (active ones) a later snapshot must supersede.
    const rowsUpTo = Math.max(snapshot?.revision ?? 0, await store.snapshots.newest()) as Revision;
    let dropped = NONE_DROPPED;
    // A snapshot holds ended sessions' rows too (old ones their states): they do not stay in memory.
    for (const [id, session] of sessions) if (session.status !== 'active') sessions.delete(id);
    for await (const batch of store.read({ after: head, batchSize: LOAD_BATCH })) {
      if (batch.kind === 'caught_up') break;
      foldSessions(batch.events, sessions, { freeze: false });
      head = (batch.events[batch.events.length - 1] as StoredEvent).revision;
      for (const event of batch.events) {
        changed.add(event.sessionId);
        if (event.kind === 'session_closed' || event.kind === 'session_expired') {
          const session = sessions.get(event.sessionId) as SessionState;
          sessions.delete(event.sessionId);
          if (session.createdRevision <= rowsUpTo) {
            endedUnsaved.set(event.sessionId, endedForm(session));
          } else {
            changed.delete(event.sessionId);
            dropped = widen(dropped, session.createdRevision, event.revision);
          }
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
      rowsUpTo,
      dropped,
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

  /** An ended session's compact form, while the projection still holds it for the next snapshot (or `apply` just ended it). */
  endedSession(id: SessionId): SessionState | undefined {
    return this.endedUnsaved.get(id) ?? this.justEnded.get(id);
  }

  /** The caller of `apply` is done with the sessions it ended (replies built, change feed published). */
  releaseJustEnded(): void {
    this.justEnded.clear();
  }

  /** Live sessions held. */
  get sessionCount(): number {
    return this.byId.size;
  }

  /** Ended sessions held until the next snapshot writes them (0 right after one), or until the caller of `apply` releases them (0 between rounds). */
  get endedHeldCount(): number {
    return this.endedUnsaved.size + this.justEnded.size;
  }

  /**
   * A snapshot at `revision` is about to read the states (before its write
   * yields): from now on a session created at or below it may get a row in
   * it, so it stays when it ends, until a later snapshot writes it ended.
   */
  snapshotStarting(revision: Revision): void {
    if (revision > this.rowsUpTo) this.rowsUpTo = revision;
    this.droppedBefore = join(this.droppedBefore, this.droppedSince);
    this.droppedSince = NONE_DROPPED;
  }

  /** Another process appends to the log or writes snapshots (see othersMayHoldRows). */
  othersWrite(): void {
    this.othersMayHoldRows = true;
  }

  /**
   * Holds an ended session (read from the store) until the next snapshot
   * writes it ended: another process's snapshot has its active row. With
   * every such session of that snapshot held, those let go before no longer
   * stand in the way of building on it (see mayAdopt).
   */
  holdEnded(session: SessionState): void {
    if (this.byId.has(session.id)) return;
    this.endedUnsaved.set(session.id, session);
    this.changed.add(session.id);
  }

  /** Every session let go that a snapshot about to be the basis may hold live is held again (holdEnded). */
  droppedResolved(): void {
    this.droppedBefore = NONE_DROPPED;
    this.droppedSince = NONE_DROPPED;
  }

  /**
   * May another process's snapshot at `revision` become the basis of ours?
   * Not if this process let go, without a row, a session created at or
   * below it: that snapshot may hold the session's active row, which ours,
   * written over it, would then carry on as if still live.
   */
  mayAdopt(revision: Revision): boolean {
    const span = join(this.droppedBefore, this.droppedSince);
    // One let go that was live at `revision` (created at or before, ended after) may have an active row there.
    return !(span.created <= revision && revision < span.ended);
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

  /**
   * A snapshot at `revision` was written, or taken as the basis (another
   * process wrote it): sessions not changed since are no longer news.
   */
  snapshotted(revision: Revision): void {
    if (revision > this.rowsUpTo) this.rowsUpTo = revision;
    // Those let go before the snapshot began ended at or below it: every later basis is newer than their end.
    this.droppedBefore = NONE_DROPPED;
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
      // An ended session leaves: memory stays bounded by live sessions (and those a snapshot must write ended).
      if (event.kind === 'session_closed' || event.kind === 'session_expired') {
        this.ended(endedForm(this.byId.get(event.sessionId) as SessionState));
        this.byId.delete(event.sessionId);
      } else if (event.kind === 'log_compacted') {
        for (const id of event.sessions) {
          this.endedUnsaved.delete(id);
          this.justEnded.delete(id);
          this.changed.delete(id as SessionId);
        }
      }
    }
    return applied;
  }

  /** Holds an ended session for the next snapshot only if a snapshot it builds on has the session's (active) row. */
  private ended(session: SessionState): void {
    if (this.othersMayHoldRows || session.createdRevision <= this.rowsUpTo) {
      this.endedUnsaved.set(session.id, session);
      return;
    }
    this.changed.delete(session.id);
    this.justEnded.set(session.id, session);
    this.droppedSince = widen(this.droppedSince, session.createdRevision, session.modifiedRevision);
  }
}
