/**
 * The command pipeline: decide → append → apply → publish.
 *
 * Commands that arrive in the same turn of the event loop (or while the
 * previous round is being written) form one round. Each is decided, outside
 * the store, against the projection at a known head plus the commands of
 * the round decided before it (an overlay: no session is copied); the round
 * goes to the store as one `append` call (SQLite: one transaction, one
 * savepoint per command). Callers hear back only after the store made the
 * round durable and the projection applied it.
 *
 * When the log moved under a command (another process wrote to its session)
 * the store refuses it; the pipeline folds the news and decides it again in
 * the next round, up to MAX_ATTEMPTS times, then gives up with ABORTED.
 * Everything that changes the projection — rounds and catch-ups — runs one
 * at a time, in order.
 */
import {
  applyEvent,
  createSession,
  DomainError,
  isToolEvent,
  overlaySession,
  type AppliedEvent,
  type DecideContext,
  type MutableSession,
  type NewEvent,
  type Revision,
  type SessionId,
  type SessionState,
  type StoredEvent,
} from '../domain/index.js';
import type { Projection } from '../projection/projection.js';
import { AppendConflict, type AppendCommit, type AppendOutcome, type EventStore } from '../store/event-store.js';
import type { ChangeFeed } from './change-feed.js';

/** Decides a command against its session's state; throws a DomainError to refuse it. */
export type Decider = (session: SessionState | undefined, ctx: DecideContext) => NewEvent[];

/** What a command's caller gets: its events as stored and applied (none when it decided nothing). */
export interface Executed {
  readonly stored: readonly StoredEvent[];
  readonly applied: readonly AppliedEvent[];
  /** The session's scalar fields right after this command (its maps are the live ones). */
  readonly session: SessionState | undefined;
}

/** What one round's `append` call did: one transaction holding `committed` logical commits (group commit). */
export interface AppendedRound {
  /** Logical commits written. */
  readonly committed: number;
  /** Commits refused because the log moved under them (decided again later). */
  readonly conflicts: number;
  /** The events written, in revision order. */
  readonly events: readonly StoredEvent[];
  /** How long the store took, the transaction included. */
  readonly seconds: number;
}

export interface PipelineOptions {
  readonly store: EventStore;
  readonly projection: Projection;
  readonly feed: ChangeFeed;
  /**
   * The state of a session the projection does not hold (it holds live
   * sessions only): an ended one read from the store as of `at`, or
   * undefined when there is none. Commands on such sessions are decided
   * against it (a write to a closed session is refused as closed, a create
   * of an ended id as already existing).
   */
  readonly absentSession: (sessionId: SessionId, at: Revision) => Promise<SessionState | undefined>;
  /**
   * False only for an id the log never had (as of the projection's head):
   * such a session is absent for certain, and the round need not wait for
   * `absentSession` (session-id-filter.ts). Default: every id may exist.
   */
  readonly mayExist?: (sessionId: SessionId) => boolean;
  /** Runs after each round, outside any transaction (snapshots). */
  readonly afterRound: () => Promise<void>;
  /** Hears each round the store wrote (metrics); must not throw. */
  readonly onAppended?: (round: AppendedRound) => void;
  /**
   * Commands per round; 1 gives one transaction per write (the benchmarks'
   * baseline). The commands queued are still written back to back in the
   * same turn of the event loop, a round each: a turn costs several times a
   * transaction here, and making every write wait for one would charge the
   * baseline for that rather than for its transactions. Default: no limit.
   */
  readonly maxRoundSize?: number;
}

/** Tries per command before a conflict becomes ABORTED. */
export const MAX_ATTEMPTS = 5;
const CATCH_UP_BATCH = 1_000;

/** Extra conditions of a conditional command (expiry). */
export interface ExecuteOptions {
  /** The append also conflicts if the session's recorded use is newer than this (see AppendCommit). */
  readonly activeNoLaterThan?: () => number;
  /** Runs before the command is decided again after a conflict. */
  readonly beforeRetry?: () => Promise<void>;
}

interface Pending {
  readonly sessionId: SessionId;
  readonly decide: Decider;
  readonly context: () => DecideContext;
  readonly options: ExecuteOptions;
  attempts: number;
  resolve(value: Executed): void;
  reject(error: unknown): void;
}

export class CommandPipeline {
  private queue: Pending[] = [];
  private roundScheduled = false;
  /** The tail of the one-at-a-time chain of rounds and catch-ups. */
  private chain: Promise<void> = Promise.resolve();
  private readonly stopNotifier: () => void;
  private catchUpQueued = false;

  constructor(private readonly options: PipelineOptions) {
    // Another process appended: fold its commits in (between rounds).
    this.stopNotifier = options.store.notifier.subscribe(() => this.requestCatchUp());
  }

  /** Runs one command through the pipeline. */
  execute(sessionId: SessionId, decide: Decider, context: () => DecideContext, options: ExecuteOptions = {}): Promise<Executed> {
    return new Promise((resolve, reject) => {
      this.queue.push({ sessionId, decide, context, options, attempts: 0, resolve, reject });
      this.scheduleRound();
    });
  }

  /** Folds in whatever others appended, then resolves. */
  catchUp(): Promise<void> {
    return this.serially(() => this.catchUpTo(undefined));
  }

  requestCatchUp(): void {
    if (this.catchUpQueued) return;
    this.catchUpQueued = true;
    void this.serially(async () => {
      this.catchUpQueued = false;
      await this.catchUpTo(undefined);
    });
  }

  /** Waits for everything queued so far; then stops listening for others' commits. */
  async close(): Promise<void> {
    this.stopNotifier();
    while (this.queue.length > 0 || this.roundScheduled) {
      // A scheduled round joins the chain on setImmediate: let it, then wait for it.
      await new Promise((resolve) => setImmediate(resolve));
      await this.chain;
    }
    await this.chain;
  }

  private serially(task: () => Promise<void>): Promise<void> {
    const run = this.chain.then(task);
    // Errors go to the task's awaiter; the chain itself carries on.
    this.chain = run.catch(() => {});
    return run;
  }

  private scheduleRound(): void {
    if (this.roundScheduled) return;
    this.roundScheduled = true;
    // setImmediate, not a microtask: every call that arrived in this turn joins the round.
    setImmediate(() => {
      void this.serially(async () => {
        this.roundScheduled = false;
        try {
          do await this.round();
          while (this.options.maxRoundSize !== undefined && this.queue.length > 0);
        } finally {
          if (this.queue.length > 0) this.scheduleRound();
        }
      });
    });
  }

  /** One round; if something unexpected breaks it, its callers hear of it rather than wait forever. */
  private async round(): Promise<void> {
    const taken = this.queue.slice(0, this.options.maxRoundSize ?? this.queue.length);
    try {
      await this.decideAndAppend();
    } catch (error) {
      // A settled promise ignores a second settlement: only the unsettled hear this.
      for (const pending of taken) pending.reject(error);
      throw error;
    }
  }

  private async decideAndAppend(): Promise<void> {
    const limit = this.options.maxRoundSize ?? Number.POSITIVE_INFINITY;
    const batch = this.queue.length <= limit ? this.queue : this.queue.slice(0, limit);
    this.queue = this.queue.length <= limit ? [] : this.queue.slice(limit);
    if (batch.length === 0) return;
    const { projection, store } = this.options;
    if (batch.some((p) => p.attempts > 0)) {
      await this.catchUpTo(undefined);
      for (const pending of batch) if (pending.attempts > 0) await pending.options.beforeRetry?.();
    }
    // Looked up inside the round: nothing changes the projection while it waits, so the answer holds at decidedAt.
    const lookup = this.lookUpAbsent(batch);
    // Most rounds touch only live sessions or new ids: no await (no extra turn) for them.
    const absent = lookup instanceof Promise ? await lookup : lookup;
    const decidedAt = projection.head;
    const overlays = new Map<SessionId, Speculation>();
    const commits: AppendCommit[] = [];
    /** Per pending: its commit's index, or the error its decision threw. */
    const decisions: ({ commit: number } | { error: unknown })[] = [];
    for (const pending of batch) {
      const speculation = overlays.get(pending.sessionId);
      const state = speculation ? speculated(speculation) : (projection.session(pending.sessionId) ?? absent?.get(pending.sessionId));
      let events: NewEvent[];
      try {
        events = pending.decide(state as SessionState | undefined, pending.context());
      } catch (error) {
        decisions.push({ error });
        continue;
      }
      if (events.length === 0) {
        decisions.push({ commit: -1 });
        continue;
      }
      // Applied to an overlay only if a later command of the round is on the same session (most rounds have none).
      if (speculation) speculation.unapplied.push(events);
      else overlays.set(pending.sessionId, { base: state, overlay: undefined, unapplied: [events] });
      decisions.push({ commit: commits.length });
      const activeNoLaterThan = pending.options.activeNoLaterThan?.();
      commits.push({ events, decidedAt, ...(activeNoLaterThan !== undefined && { activeNoLaterThan }) });
    }

    let outcomes;
    const appendStarted = performance.now();
    try {
      outcomes = await store.append(commits);
    } catch (error) {
      for (const pending of batch) pending.reject(error);
      return;
    }
    if (this.options.onAppended && commits.length > 0) report(this.options.onAppended, outcomes, (performance.now() - appendStarted) / 1000);

    // Whatever was decided after a failed commit of the same session was decided on a false premise: retry it.
    const invalidated = new Set<SessionId>();
    const retry: Pending[] = [];
    const settle: (() => void)[] = [];
    const notice: { events: StoredEvent[]; applied: AppliedEvent[] } = { events: [], applied: [] };
    for (let i = 0; i < batch.length; i++) {
      const pending = batch[i] as Pending;
      const decision = decisions[i] as { commit: number } | { error: unknown };
      if (invalidated.has(pending.sessionId)) {
        retry.push(pending);
        continue;
      }
      if ('error' in decision) {
        settle.push(() => pending.reject(decision.error));
        continue;
      }
      if (decision.commit < 0) {
        const session = this.heldOr(pending.sessionId, absent);
        settle.push(() => pending.resolve({ stored: [], applied: [], session }));
        continue;
      }
      const outcome = outcomes[decision.commit];
      if (!outcome || !outcome.ok) {
        invalidated.add(pending.sessionId);
        if (outcome?.error instanceof AppendConflict || !outcome) retry.push(pending);
        else settle.push(() => pending.reject(outcome.error));
        continue;
      }
      const stored = outcome.events;
      const first = (stored[0] as StoredEvent).revision;
      // Someone else committed between our decision and our append (to other sessions): fold it first.
      if (first > projection.head + 1) await this.catchUpTo(first, notice);
      const applied = projection.apply(stored);
      notice.events.push(...stored);
      notice.applied.push(...applied);
      const session = this.heldOr(pending.sessionId, absent);
      const executed: Executed = { stored, applied, session };
      settle.push(() => pending.resolve(executed));
    }
    this.options.feed.publish(notice);
    // Replies are built and the feed has heard: sessions this round ended and let go are the store's to tell now.
    projection.releaseJustEnded();
    for (const done of settle) done();
    for (const pending of retry) {
      pending.attempts++;
      if (pending.attempts >= MAX_ATTEMPTS) {
        pending.reject(
          new DomainError(
            'version_conflict',
            `Write conflict on session ${pending.sessionId}: other writers kept changing it (${MAX_ATTEMPTS} attempts); try again`,
          ),
        );
      } else {
        this.queue.push(pending);
      }
    }
    await this.options.afterRound();
  }

  /**
   * The states of the batch's sessions the projection does not hold, read
   * together; undefined when it holds them all, and no promise when none
   * needs the store (held ended ones, ids the log never had).
   */
  private lookUpAbsent(batch: readonly Pending[]): Map<SessionId, SessionState | undefined> | Promise<Map<SessionId, SessionState | undefined>> | undefined {
    const { projection, mayExist } = this.options;
    let absent: Map<SessionId, SessionState | undefined> | undefined;
    for (const pending of batch) {
      if (projection.session(pending.sessionId) || absent?.has(pending.sessionId)) continue;
      (absent ??= new Map()).set(pending.sessionId, projection.endedSession(pending.sessionId));
    }
    if (!absent) return undefined;
    const at = projection.head;
    const missing = [...absent].filter(([id, held]) => held === undefined && (mayExist?.(id) ?? true)).map(([id]) => id);
    if (missing.length === 0) return absent;
    const known = absent;
    return Promise.all(missing.map((id) => this.options.absentSession(id, at))).then((found) => {
      missing.forEach((id, i) => known.set(id, found[i]));
      return known;
    });
  }

  /** The session after a command: live, just ended (held until snapshotted), or as looked up for the round. */
  private heldOr(sessionId: SessionId, absent: Map<SessionId, SessionState | undefined> | undefined): SessionState | undefined {
    const { projection } = this.options;
    const session = projection.session(sessionId) ?? projection.endedSession(sessionId) ?? absent?.get(sessionId);
    return session && { ...session };
  }

  /**
   * Folds the log after the projection's head, up to (not including) `before`
   * when given, publishing what it applied (into `into` when given, else as
   * its own notice).
   */
  private async catchUpTo(before: Revision | undefined, into?: { events: StoredEvent[]; applied: AppliedEvent[] }): Promise<void> {
    const { projection, store } = this.options;
    const notice = into ?? { events: [], applied: [] };
    for await (const batch of store.read({ after: projection.head, batchSize: CATCH_UP_BATCH })) {
      if (batch.kind === 'caught_up') break;
      const events = before === undefined ? batch.events : batch.events.filter((e) => e.revision < before);
      if (events.length > 0) {
        // Another process wrote these (retention's log_compacted may be this one's): it may write snapshots too.
        if (events.some((e) => e.kind !== 'log_compacted')) projection.othersWrite();
        notice.applied.push(...projection.apply(events));
        notice.events.push(...events);
      }
      if (events.length < batch.events.length) break;
    }
    if (!into) {
      this.options.feed.publish(notice);
      projection.releaseJustEnded();
      await this.options.afterRound();
    }
  }
}

function report(onAppended: (round: AppendedRound) => void, outcomes: readonly AppendOutcome[], seconds: number): void {
  let committed = 0;
  let conflicts = 0;
  const events: StoredEvent[] = [];
  for (const outcome of outcomes) {
    if (outcome.ok) {
      committed++;
      events.push(...outcome.events);
    } else if (outcome.error instanceof AppendConflict) {
      conflicts++;
    }
  }
  onAppended({ committed, conflicts, events, seconds });
}

/** A session as the commands of the round decided so far leave it: the projection's state plus their events. */
interface Speculation {
  readonly base: SessionState | undefined;
  overlay: MutableSession | undefined;
  /** Events decided but not yet applied to `overlay`. */
  readonly unapplied: NewEvent[][];
}

/** The overlay after the round's commands so far: what the next command on the session is decided against. */
function speculated(speculation: Speculation): SessionState | undefined {
  let session = speculation.overlay ?? (speculation.base && overlaySession(speculation.base));
  for (const events of speculation.unapplied) {
    for (const event of events) {
      if (event.kind === 'session_created') session = createSession(event, 0 as Revision);
      else if (session && !isToolEvent(event)) applyEvent(session, event, 0 as Revision);
    }
  }
  speculation.unapplied.length = 0;
  speculation.overlay = session;
  return session as SessionState | undefined;
}
