/**
 * The watch hub, after etcd's watchable store. A watcher at the head is
 * "synced" and fed live from each commit; one that falls behind (its bounded
 * buffer is full because its client reads slowly, or it asked to start at an
 * old revision) is "unsynced" and fed from the log in batches until it
 * reaches the head again. Writers never wait for watchers, and a watcher
 * never holds more than `maxBufferBytes` of queued messages.
 */
import { foldSessions, type Revision, type SessionId, type SessionState } from '../domain/index.js';
import type { CommitNotice } from '../service/ledger-service.js';
import type { EventStore } from '../store/event-store.js';
import { readWholeCommits } from '../store/whole-commits.js';
import { commitChanges, isTerminal, type Change, type CommitChanges } from './changes.js';

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
  readonly store: EventStore;
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
  /** Session state at `position`, kept only while catching up from the log. */
  catchUpState: SessionState | undefined;
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

  constructor(private readonly options: WatchHubOptions) {
    this.maxBufferBytes = options.maxBufferBytes ?? DEFAULT_MAX_BUFFER_BYTES;
    this.progressIntervalMs = options.progressIntervalMs ?? DEFAULT_PROGRESS_INTERVAL_MS;
    this.catchUpBatch = options.catchUpBatch ?? DEFAULT_CATCH_UP_BATCH;
  }

  /** Live watchers. */
  get size(): number {
    return this.count;
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
    return () => this.remove(watcher);
  }

  /** Feeds a commit to the synced watchers of the sessions it touched. Never throws. */
  publish(notice: CommitNotice): void {
    try {
      for (const [sessionId, before] of notice.before) {
        const watchers = this.bySession.get(sessionId);
        if (!watchers || watchers.size === 0) continue;
        const events = notice.events.filter((e) => e.sessionId === sessionId);
        const { commits } = commitChanges(before, events);
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
        if (watcher.synced || !this.catchUp(watcher)) return;
      }
    } catch (error) {
      this.options.onError?.(error);
    }
  }

  /**
   * Reads the watcher's session from the log after its position and queues
   * whole commits until the buffer is full. Returns true when it queued
   * something to write. Runs synchronously, so no commit can slip in between
   * reaching the head and turning synced.
   */
  private catchUp(watcher: Watcher): boolean {
    const { store } = this.options;
    const sessionId = watcher.subscription.sessionId;
    const head = this.options.head();
    let queued = false;
    while (watcher.queuedBytes < this.maxBufferBytes && !watcher.ending) {
      const readSession = (after: Revision, limit: number) => store.readSessionAfter(sessionId, after, limit);
      const events = readWholeCommits(readSession, watcher.position, this.catchUpBatch);
      if (events.length === 0) {
        watcher.position = Math.max(watcher.position, head) as Revision;
        watcher.synced = true;
        watcher.catchUpState = undefined;
        return queued;
      }
      watcher.catchUpState ??= foldSessions(store.readSession(sessionId, watcher.position)).get(sessionId);
      const { commits, after } = commitChanges(watcher.catchUpState, events);
      watcher.catchUpState = after;
      for (const commit of commits) {
        const matching = commit.changes.filter(watcher.subscription.matches);
        if (matching.length > 0) {
          this.enqueue(watcher, commit.revision, matching);
          queued = true;
        }
        watcher.position = commit.revision;
        if (watcher.ending) break;
      }
    }
    return queued;
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
    watcher.catchUpState = undefined;
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
