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

/** Where lagging watchers catch up from: the log, and past session states (from the nearest snapshot). */
export interface WatchLog {
  readLog(options: ReadOptions): AsyncGenerator<LogBatch>;
  /** The session as it was at a revision (undefined before it existed); the caller owns the result. */
  pastSession(sessionId: SessionId, at: Revision): Promise<SessionState | undefined>;
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
  /** Sessions whose lagging watchers are being fed from the log right now (one read serves them all). */
  private readonly catchingUp = new Set<SessionId>();

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
    watcher.synced = watcher.position >= this.options.head();
    this.pump(watcher);
    if (!watcher.synced) this.catchUp(subscription.sessionId);
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
      watcher.synced = false;
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
        if (!watcher.synced) this.catchUp(watcher.subscription.sessionId);
        return;
      }
    } catch (error) {
      this.options.onError?.(error);
    }
  }

  /**
   * Feeds a session's lagging watchers from the log, after etcd's unsynced
   * group: one read, from the lowest position among them, serves them all,
   * folded once from the session's state at that position (from the nearest
   * snapshot, never from revision 0). A watcher whose buffer fills drops out
   * until it drains; one that reaches the head turns synced. At most one
   * catch-up per session runs at a time.
   */
  private catchUp(sessionId: SessionId): void {
    if (this.catchingUp.has(sessionId)) return;
    this.catchingUp.add(sessionId);
    void this.catchUpSession(sessionId)
      .catch((error) => this.options.onError?.(error))
      .finally(() => this.catchingUp.delete(sessionId));
  }

  /** Watchers of the session the log should feed now. */
  private lagging(sessionId: SessionId): Watcher[] {
    return [...(this.bySession.get(sessionId) ?? [])].filter(
      (w) => !w.synced && !w.closed && !w.ending && !w.waitingForDrain && w.queue.length === 0,
    );
  }

  private async catchUpSession(sessionId: SessionId): Promise<void> {
    for (let group = this.lagging(sessionId); group.length > 0; group = this.lagging(sessionId)) {
      const from = Math.min(...group.map((w) => w.position)) as Revision;
      const start = from > 0 ? await this.options.log.pastSession(sessionId, from) : undefined;
      const fold = new Map<string, MutableSession>();
      if (start) fold.set(sessionId, start as MutableSession);
      let active = group;
      for await (const batch of this.options.log.readLog({ after: from, sessionId, batchSize: this.catchUpBatch })) {
        if (batch.kind === 'caught_up') {
          // Synced only if the read covers everything applied so far; otherwise read again.
          if (batch.head >= this.options.head()) {
            for (const watcher of active) {
              if (watcher.closed || watcher.ending) continue;
              watcher.position = Math.max(watcher.position, batch.head) as Revision;
              watcher.synced = true;
            }
          }
          break;
        }
        const commits = commitChanges(batch.events.map((event) => applyInPlace(fold, event)));
        for (const watcher of active) {
          for (const commit of commits) {
            if (commit.revision <= watcher.position) continue;
            if (watcher.closed || watcher.ending || watcher.queuedBytes >= this.maxBufferBytes) break;
            const matching = commit.changes.filter(watcher.subscription.matches);
            if (matching.length > 0) this.enqueue(watcher, commit.revision, matching);
            watcher.position = commit.revision;
          }
        }
        // A watcher that cannot take more waits for its client; the rest read on.
        active = active.filter((w) => !w.closed && !w.ending && w.queuedBytes < this.maxBufferBytes);
        for (const watcher of group) this.pump(watcher);
        if (active.length === 0) break;
      }
      for (const watcher of group) this.pump(watcher);
    }
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
