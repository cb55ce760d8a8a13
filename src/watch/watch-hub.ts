/**
 * The watch hub, after etcd's watchable store. A watcher at the head is
 * "synced" and fed live from each commit; one that falls behind (its bounded
 * buffer is full because its client reads slowly, or it asked to start at an
 * old revision) is "unsynced" and fed from the log in batches until it
 * reaches the head again. Writers never wait for watchers, and a watcher
 * never holds more than `maxBufferBytes` of queued messages.
 */
import { applyInPlace, type AppliedEvent, type MutableSession, type Revision, type SessionId, type SessionState } from '../domain/index.js';
import type { LogBatch, ReadOptions } from '../store/event-store.js';
import { commitChanges, isTerminal, type Change, type CommitChanges } from './changes.js';

/** The change feed's batches, as the hub needs them. */
export interface AppliedBatch {
  readonly applied: readonly AppliedEvent[];
}

/** Where lagging watchers catch up from: the log, and sessions' stored states (from the nearest snapshot). */
export interface WatchLog {
  readLog(options: ReadOptions): AsyncGenerator<LogBatch>;
  /**
   * Where a fold of the session reaching revision `at` starts: a stored
   * state (owned by the caller) and the revision it holds from, or no state
   * and the revision before the session's creation.
   */
  foldStart(sessionId: SessionId, at: Revision): Promise<{ after: Revision; session?: SessionState }>;
}

/** Where a watcher's messages go; the gRPC stream in production. */
export interface WatchSink {
  /** Sends one encoded message; false asks the hub to wait for `onDrain`. */
  write(bytes: Uint8Array): boolean;
  onDrain(listener: () => void): () => void;
  /** Ends the stream cleanly (after a session closed or expired). */
  end(): void;
  /** Ends the stream with an error the client can resume after (server shutdown). */
  abort(reason: string): void;
}

/** Encodes one message: a commit's matching changes (or none: progress) at a revision. */
export type WatchEncoder = (revision: Revision, changes: readonly Change[]) => Uint8Array;

export interface WatchHubOptions {
  readonly log: WatchLog;
  /** The newest revision folded into the projection. */
  readonly head: () => Revision;
  readonly encode: WatchEncoder;
  /** Queued bytes per watcher before it falls back to the log. */
  readonly maxBufferBytes?: number;
  /** A watcher that got nothing for this long is sent a progress message; 0 disables. */
  readonly progressIntervalMs?: number;
  /** Events read from the log per catch-up step. */
  readonly catchUpBatch?: number;
  /** Reports errors that must not reach writers. */
  readonly onError?: (error: unknown) => void;
  /**
   * Joins queued messages into one, so a busy watcher gets one write per
   * event-loop turn instead of one per commit. For protobuf, concatenation:
   * encoded messages concatenated decode as one message whose repeated
   * `events` append and whose `revision` is the last. Without it, each
   * message is written on its own.
   */
  readonly merge?: (parts: readonly Uint8Array[]) => Uint8Array;
}

export interface Subscription {
  readonly sessionId: SessionId;
  readonly matches: (change: Change) => boolean;
  readonly sink: WatchSink;
  /** Every change at or below this revision is already accounted for. */
  readonly position: Revision;
  /** Sent first: `include_initial` snapshot at `position`. */
  readonly initial?: readonly Change[];
}

/** The hub at one moment, for metrics. */
export interface WatchStats {
  readonly watchers: number;
  /** Watchers behind the head, being fed from the log (unsynced). */
  readonly lagging: number;
  /** Revisions between the head and the furthest-behind lagging watcher; 0 when all are synced. */
  readonly maxLagRevisions: number;
  /** Encoded messages queued for all watchers, not yet written to their streams. */
  readonly bufferedBytes: number;
}

export const DEFAULT_MAX_BUFFER_BYTES = 4 * 1024 * 1024;
export const DEFAULT_PROGRESS_INTERVAL_MS = 10_000;
const DEFAULT_CATCH_UP_BATCH = 1_000;
/** Largest message made by merging queued ones. */
const MAX_MERGED_BYTES = 1024 * 1024;

class Watcher {
  synced = false;
  readonly queue: Uint8Array[] = [];
  queuedBytes = 0;
  waitingForDrain = false;
  ending = false;
  closed = false;
  lastSentAt = performance.now();
  stopDrain: () => void = () => {};

  constructor(
    readonly subscription: Subscription,
    public position: Revision,
  ) {}
}

export class WatchHub {
  private readonly bySession = new Map<SessionId, Set<Watcher>>();
  private readonly maxBufferBytes: number;
  private readonly progressIntervalMs: number;
  private readonly catchUpBatch: number;
  private progressTimer: NodeJS.Timeout | undefined;
  /** Watchers with live commits queued since the last flush. */
  private readonly dirty = new Set<Watcher>();
  private flushScheduled = false;
  private count = 0;
  /** etcd's unsynced group: watchers behind the head, fed from the log. */
  private readonly unsynced = new Set<Watcher>();
  /** A catch-up pass is scheduled or running (one at a time: one read serves every lagging watcher). */
  private catchingUp = false;
  /** Someone fell behind during a pass: look again when it ends. */
  private catchUpAgain = false;

  constructor(private readonly options: WatchHubOptions) {
    this.maxBufferBytes = options.maxBufferBytes ?? DEFAULT_MAX_BUFFER_BYTES;
    this.progressIntervalMs = options.progressIntervalMs ?? DEFAULT_PROGRESS_INTERVAL_MS;
    this.catchUpBatch = options.catchUpBatch ?? DEFAULT_CATCH_UP_BATCH;
  }

  /** Live watchers. */
  get size(): number {
    return this.count;
  }

  /** Counts over every watcher: call it when scraped, not per commit (it walks them all). */
  stats(): WatchStats {
    const head = this.options.head();
    let lagging = 0;
    let maxLagRevisions = 0;
    let bufferedBytes = 0;
    for (const watchers of this.bySession.values()) {
      for (const watcher of watchers) {
        bufferedBytes += watcher.queuedBytes;
        // A synced watcher has every change of its session up to the head queued or sent; its
        // position only moves with its own session, so head − position is no lag for it.
        if (watcher.synced) continue;
        lagging++;
        maxLagRevisions = Math.max(maxLagRevisions, head - watcher.position);
      }
    }
    return { watchers: this.count, lagging, maxLagRevisions, bufferedBytes };
  }

  /** True while a progress timer is armed (it is only while watchers exist). */
  get hasTimer(): boolean {
    return this.progressTimer !== undefined;
  }

  /** Starts a watcher; returns the function that stops it and frees everything it holds. */
  subscribe(subscription: Subscription): () => void {
    const watcher = new Watcher(subscription, subscription.position);
    let watchers = this.bySession.get(subscription.sessionId);
    if (!watchers) this.bySession.set(subscription.sessionId, (watchers = new Set()));
    watchers.add(watcher);
    this.count++;
    this.armProgressTimer();
    watcher.stopDrain = subscription.sink.onDrain(() => {
      watcher.waitingForDrain = false;
      this.pump(watcher);
    });
    if (subscription.initial) this.enqueue(watcher, subscription.position, subscription.initial);
    this.setSynced(watcher, watcher.position >= this.options.head());
    this.pump(watcher);
    if (!watcher.synced) this.catchUp();
    return () => this.remove(watcher);
  }

  /** Feeds an applied batch (from the change feed) to the synced watchers of the sessions it touched. Never throws. */
  publish(notice: AppliedBatch): void {
    try {
      const bySession = new Map<SessionId, AppliedEvent[]>();
      for (const applied of notice.applied) {
        const sessionId = applied.event.sessionId;
        if (!this.bySession.has(sessionId)) continue;
        let list = bySession.get(sessionId);
        if (!list) bySession.set(sessionId, (list = []));
        list.push(applied);
      }
      for (const [sessionId, applied] of bySession) {
        const watchers = this.bySession.get(sessionId);
        if (!watchers || watchers.size === 0) continue;
        const commits = commitChanges(applied);
        const cache = new Map<CommitChanges, Map<string, Uint8Array>>();
        for (const watcher of watchers) {
          if (!watcher.synced || watcher.closed || watcher.ending) continue;
          for (const commit of commits) {
            if (commit.revision <= watcher.position) continue;
            if (!this.offer(watcher, commit, cache)) break;
          }
          this.schedule(watcher);
        }
      }
    } catch (error) {
      this.options.onError?.(error);
    }
  }

  /** Stops every watcher (at shutdown), telling each client why. */
  closeAll(reason: string): void {
    for (const watchers of [...this.bySession.values()]) {
      for (const watcher of [...watchers]) {
        this.remove(watcher);
        watcher.subscription.sink.abort(reason);
      }
    }
  }

  /** Queues a live commit unless the buffer is full, in which case the watcher goes unsynced. */
  private offer(watcher: Watcher, commit: CommitChanges, cache: Map<CommitChanges, Map<string, Uint8Array>>): boolean {
    const matching = commit.changes.filter(watcher.subscription.matches);
    if (matching.length === 0) {
      watcher.position = commit.revision;
      return true;
    }
    let perCommit = cache.get(commit);
    if (!perCommit) cache.set(commit, (perCommit = new Map()));
    // Watchers with the same filter result share one encoding of the message.
    const key = matching.length === commit.changes.length ? '*' : matching.map((c) => c.revision).join(',');
    let bytes = perCommit.get(key);
    if (!bytes) perCommit.set(key, (bytes = this.options.encode(commit.revision, matching)));
    if (watcher.queue.length > 0 && watcher.queuedBytes + bytes.length > this.maxBufferBytes) {
      this.setSynced(watcher, false);
      return false;
    }
    this.push(watcher, commit.revision, bytes, matching);
    return true;
  }

  private enqueue(watcher: Watcher, revision: Revision, changes: readonly Change[]): void {
    this.push(watcher, revision, this.options.encode(revision, changes), changes);
  }

  private push(watcher: Watcher, revision: Revision, bytes: Uint8Array, changes: readonly Change[]): void {
    watcher.queue.push(bytes);
    watcher.queuedBytes += bytes.length;
    watcher.position = revision;
    if (changes.some(isTerminal)) watcher.ending = true;
  }

  /**
   * Flushes live commits once per event-loop turn: commits that arrive in
   * the same turn (concurrent writers) then reach each watcher in one write.
   * Writers never wait for it; their replies are already on their way.
   */
  private schedule(watcher: Watcher): void {
    this.dirty.add(watcher);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      const watchers = [...this.dirty];
      this.dirty.clear();
      for (const w of watchers) this.pump(w);
    });
  }

  /** Takes the next write off the queue: one message, or all that fit merged into one. */
  private takeNext(watcher: Watcher): Uint8Array {
    const first = watcher.queue.shift() as Uint8Array;
    watcher.queuedBytes -= first.length;
    const { merge } = this.options;
    if (!merge || watcher.queue.length === 0) return first;
    const parts = [first];
    let size = first.length;
    while (watcher.queue.length > 0 && size + (watcher.queue[0] as Uint8Array).length <= MAX_MERGED_BYTES) {
      const next = watcher.queue.shift() as Uint8Array;
      watcher.queuedBytes -= next.length;
      parts.push(next);
      size += next.length;
    }
    return parts.length === 1 ? first : merge(parts);
  }

  /** Writes queued messages until the sink pushes back; then ends, or catches up from the log. */
  private pump(watcher: Watcher): void {
    try {
      while (!watcher.closed) {
        while (watcher.queue.length > 0 && !watcher.waitingForDrain) {
          const bytes = this.takeNext(watcher);
          watcher.lastSentAt = performance.now();
          if (!watcher.subscription.sink.write(bytes)) watcher.waitingForDrain = true;
        }
        if (watcher.queue.length > 0 || watcher.waitingForDrain) return;
        if (watcher.ending) {
          watcher.subscription.sink.end();
          this.remove(watcher);
          return;
        }
        if (!watcher.synced) this.catchUp();
        return;
      }
    } catch (error) {
      this.options.onError?.(error);
    }
  }

  private setSynced(watcher: Watcher, synced: boolean): void {
    watcher.synced = synced;
    if (synced) this.unsynced.delete(watcher);
    else this.unsynced.add(watcher);
  }

  /**
   * Feeds lagging watchers from the log, after etcd's unsynced group: one
   * read, from the lowest position among them, of the sessions they watch,
   * serves them all; each session is folded once, from its nearest stored
   * state (a snapshot row, never revision 0), and its changes go to each of
   * its watchers' filters. A pass starts on the next turn so that watchers
   * falling behind together share it. A watcher whose buffer fills drops out
   * until it drains; one that reaches the head turns synced.
   */
  private catchUp(): void {
    if (this.catchingUp) {
      this.catchUpAgain = true;
      return;
    }
    this.catchingUp = true;
    setImmediate(() => {
      void this.catchUpAll()
        .catch((error) => this.options.onError?.(error))
        .finally(() => {
          this.catchingUp = false;
          if (this.catchUpAgain) {
            this.catchUpAgain = false;
            if (this.lagging().length > 0) this.catchUp();
          }
        });
    });
  }

  /** Watchers the log should feed now. */
  private lagging(): Watcher[] {
    return [...this.unsynced].filter((w) => !w.closed && !w.ending && !w.waitingForDrain && w.queue.length === 0);
  }

  private async catchUpAll(): Promise<void> {
    for (let group = this.lagging(); group.length > 0; group = this.lagging()) await this.catchUpPass(group);
  }

  private async catchUpPass(group: readonly Watcher[]): Promise<void> {
    const bySession = new Map<SessionId, Watcher[]>();
    for (const watcher of group) {
      const list = bySession.get(watcher.subscription.sessionId);
      if (list) list.push(watcher);
      else bySession.set(watcher.subscription.sessionId, [watcher]);
    }
    const folds = new Map<SessionId, { fold: Map<string, MutableSession>; after: Revision }>();
    await Promise.all(
      [...bySession].map(async ([sessionId, watchers]) => {
        const start = await this.options.log.foldStart(sessionId, Math.min(...watchers.map((w) => w.position)) as Revision);
        const fold = new Map<string, MutableSession>();
        if (start.session) fold.set(sessionId, start.session as MutableSession);
        folds.set(sessionId, { fold, after: start.after });
      }),
    );
    const from = Math.min(...[...folds.values()].map((f) => f.after)) as Revision;
    const active = new Set(group);
    const sessionIds = [...bySession.keys()];
    for await (const batch of this.options.log.readLog({ after: from, sessionIds, batchSize: this.catchUpBatch })) {
      if (batch.kind === 'caught_up') {
        // Synced only if the read covers everything applied so far; otherwise read again.
        if (batch.head >= this.options.head()) {
          for (const watcher of active) {
            if (watcher.closed || watcher.ending) continue;
            watcher.position = Math.max(watcher.position, batch.head) as Revision;
            this.setSynced(watcher, true);
          }
        }
        break;
      }
      // Each event folded once, into its own session; the changes serve all that session's watchers.
      const applied = new Map<SessionId, AppliedEvent[]>();
      for (const event of batch.events) {
        const start = folds.get(event.sessionId);
        if (!start || event.revision <= start.after) continue;
        const list = applied.get(event.sessionId);
        const change = applyInPlace(start.fold, event);
        if (list) list.push(change);
        else applied.set(event.sessionId, [change]);
      }
      for (const [sessionId, events] of applied) {
        const commits = commitChanges(events);
        for (const watcher of bySession.get(sessionId) ?? []) {
          if (!active.has(watcher)) continue;
          for (const commit of commits) {
            if (commit.revision <= watcher.position) continue;
            if (watcher.closed || watcher.ending || watcher.queuedBytes >= this.maxBufferBytes) break;
            const matching = commit.changes.filter(watcher.subscription.matches);
            if (matching.length > 0) this.enqueue(watcher, commit.revision, matching);
            watcher.position = commit.revision;
          }
        }
      }
      // A watcher that cannot take more waits for its client; the rest read on.
      for (const watcher of active) if (watcher.closed || watcher.ending || watcher.queuedBytes >= this.maxBufferBytes) active.delete(watcher);
      for (const watcher of group) this.pump(watcher);
      if (active.size === 0) break;
    }
    for (const watcher of group) this.pump(watcher);
  }

  private armProgressTimer(): void {
    if (this.progressTimer || this.progressIntervalMs <= 0) return;
    this.progressTimer = setInterval(() => this.sendProgress(), Math.max(1, this.progressIntervalMs / 2));
    this.progressTimer.unref();
  }

  private sendProgress(): void {
    const now = performance.now();
    const head = this.options.head();
    for (const watchers of this.bySession.values()) {
      for (const watcher of watchers) {
        if (!watcher.synced || watcher.queue.length > 0 || watcher.waitingForDrain || watcher.ending) continue;
        if (now - watcher.lastSentAt < this.progressIntervalMs) continue;
        // A synced watcher has seen every change of its session up to the head.
        watcher.position = Math.max(watcher.position, head) as Revision;
        this.enqueue(watcher, watcher.position, []);
        this.pump(watcher);
      }
    }
  }

  private remove(watcher: Watcher): void {
    if (watcher.closed) return;
    watcher.closed = true;
    watcher.stopDrain();
    this.dirty.delete(watcher);
    this.unsynced.delete(watcher);
    watcher.queue.length = 0;
    watcher.queuedBytes = 0;
    const watchers = this.bySession.get(watcher.subscription.sessionId);
    watchers?.delete(watcher);
    if (watchers?.size === 0) this.bySession.delete(watcher.subscription.sessionId);
    this.count--;
    if (this.count === 0 && this.progressTimer) {
      clearInterval(this.progressTimer);
      this.progressTimer = undefined;
    }
  }
}
