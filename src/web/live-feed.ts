/**
 * Live updates for the browser as server-sent events. Session pages get the
 * watch hub's machinery, with its own JSON encoding: each open page is one
 * watcher with a bounded buffer, fed live while it keeps up and from the log
 * when it falls behind, released when the browser disconnects. Each event's
 * `id` is its revision, so a reconnecting EventSource resumes after the last
 * one it saw (`Last-Event-ID`) with no gap and no duplicate. The sessions
 * list only needs to know that the log moved: it gets at most one `head`
 * event per quarter second, and nothing queues up for a reader that stalls.
 */
import type { Revision, SessionId } from '../domain/index.js';
import type { Change } from '../watch/changes.js';
import { WatchHub, type WatchSink } from '../watch/watch-hub.js';
import type { ChangesEventJson } from './api-types.js';
import { changeJson } from './json.js';
import type { WebLedger } from './ledger-port.js';

export interface LiveFeedOptions {
  /** Bytes queued per session page before it falls back to reading the log. */
  readonly maxBufferBytes?: number;
  /** An idle stream gets an event this often, so proxies keep it open and dead peers are noticed. */
  readonly keepAliveMs?: number;
  /** Open streams at most; more are refused (503). */
  readonly maxStreams?: number;
  readonly onError: (error: unknown) => void;
}

const DEFAULT_MAX_BUFFER_BYTES = 1024 * 1024;
const DEFAULT_KEEP_ALIVE_MS = 15_000;
const DEFAULT_MAX_STREAMS = 1_000;
/** Bytes the response stream holds before the hub is told to wait. */
const STREAM_HIGH_WATER_BYTES = 64 * 1024;
const HEAD_THROTTLE_MS = 250;

const encoder = new TextEncoder();

function frame(event: string, id: number | undefined, data: unknown): Uint8Array {
  return encoder.encode(`${id !== undefined ? `id: ${id}\n` : ''}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

/** One commit's changes, or none (a keep-alive carrying the position). */
function encodeChanges(revision: Revision, changes: readonly Change[]): Uint8Array {
  if (changes.length === 0) return frame('progress', revision, { revision });
  const message: ChangesEventJson = { revision, changes: changes.map(changeJson) };
  return frame('changes', revision, message);
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  return Buffer.concat(parts);
}

export const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-store',
  'x-accel-buffering': 'no',
} as const;

/** A response body that is a watch sink: enqueue until full, resume on pull, stop on cancel. */
function streamingSink(onCancel: () => void): { stream: ReadableStream<Uint8Array>; sink: WatchSink & { readonly closed: boolean; readonly ready: boolean } } {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let closed = false;
  const drainListeners = new Set<() => void>();
  const stream = new ReadableStream<Uint8Array>(
    {
      start: (c) => {
        controller = c;
      },
      pull: () => {
        for (const listener of [...drainListeners]) listener();
      },
      cancel: () => {
        closed = true;
        drainListeners.clear();
        onCancel();
      },
    },
    new ByteLengthQueuingStrategy({ highWaterMark: STREAM_HIGH_WATER_BYTES }),
  );
  const close = () => {
    if (closed) return;
    closed = true;
    drainListeners.clear();
    controller.close();
  };
  const sink = {
    get closed() {
      return closed;
    },
    /** Room in the response stream: the reader keeps up. */
    get ready() {
      return !closed && (controller.desiredSize ?? 0) > 0;
    },
    write(bytes: Uint8Array): boolean {
      if (closed) return true;
      controller.enqueue(bytes);
      return (controller.desiredSize ?? 0) > 0;
    },
    onDrain(listener: () => void) {
      drainListeners.add(listener);
      return () => drainListeners.delete(listener);
    },
    end: close,
    abort(reason: string) {
      if (!closed) controller.enqueue(frame('shutdown', undefined, { reason }));
      close();
    },
  };
  return { stream, sink };
}

interface HeadStream {
  readonly sink: ReturnType<typeof streamingSink>['sink'];
  dirty: boolean;
}

export class LiveFeed {
  private readonly hub: WatchHub;
  private readonly heads = new Set<HeadStream>();
  private headTimer: NodeJS.Timeout | undefined;
  private keepAliveTimer: NodeJS.Timeout | undefined;
  private readonly stopListening: () => void;
  private readonly maxStreams: number;
  private readonly keepAliveMs: number;
  private closed = false;

  constructor(
    private readonly ledger: WebLedger,
    options: LiveFeedOptions,
  ) {
    this.maxStreams = options.maxStreams ?? DEFAULT_MAX_STREAMS;
    this.keepAliveMs = options.keepAliveMs ?? DEFAULT_KEEP_ALIVE_MS;
    this.hub = new WatchHub({
      log: ledger.log,
      head: () => ledger.head(),
      encode: encodeChanges,
      merge: concat,
      maxBufferBytes: options.maxBufferBytes ?? DEFAULT_MAX_BUFFER_BYTES,
      progressIntervalMs: this.keepAliveMs,
      onError: options.onError,
    });
    this.stopListening = ledger.onCommit((notice) => {
      this.hub.publish(notice);
      this.headMoved();
    });
  }

  /** Open streams (session pages and session lists). */
  get size(): number {
    return this.hub.size + this.heads.size;
  }

  get full(): boolean {
    return this.closed || this.size >= this.maxStreams;
  }

  /**
   * A session's changes after `position` that `matches` accepts, as a
   * response body. The caller checked the session and the position.
   */
  sessionStream(sessionId: SessionId, position: Revision, matches: (change: Change) => boolean): ReadableStream<Uint8Array> {
    let unsubscribe: (() => void) | undefined;
    const { stream, sink } = streamingSink(() => unsubscribe?.());
    unsubscribe = this.hub.subscribe({ sessionId, matches, sink, position });
    return stream;
  }

  /** `head` events (the newest revision) whenever the log moves, at most one per throttle period. */
  headStream(): ReadableStream<Uint8Array> {
    const entry: HeadStream = { dirty: false, sink: undefined as never };
    const { stream, sink } = streamingSink(() => this.removeHead(entry));
    (entry as { sink: HeadStream['sink'] }).sink = sink;
    this.heads.add(entry);
    // Stalled readers are skipped; a pull (the reader is back) sends what they missed.
    sink.onDrain(() => this.sendHead(entry));
    sink.write(frame('head', undefined, { revision: this.ledger.head() }));
    this.keepAliveTimer ??= setInterval(() => this.keepAlive(), this.keepAliveMs).unref();
    return stream;
  }

  /** Ends every stream (shutdown): each gets a `shutdown` event saying why. */
  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.stopListening();
    this.hub.closeAll(reason);
    for (const entry of [...this.heads]) {
      entry.sink.abort(reason);
      this.removeHead(entry);
    }
  }

  private headMoved(): void {
    if (this.heads.size === 0) return;
    for (const entry of this.heads) entry.dirty = true;
    this.headTimer ??= setTimeout(() => {
      this.headTimer = undefined;
      for (const entry of this.heads) this.sendHead(entry);
    }, HEAD_THROTTLE_MS);
  }

  private sendHead(entry: HeadStream): void {
    if (!entry.dirty || !entry.sink.ready) return;
    entry.dirty = false;
    entry.sink.write(frame('head', undefined, { revision: this.ledger.head() }));
  }

  private keepAlive(): void {
    // An SSE comment: browsers ignore it, but writing it finds dead connections.
    const comment = encoder.encode(': keep-alive\n\n');
    for (const entry of this.heads) if (entry.sink.ready) entry.sink.write(comment);
  }

  private removeHead(entry: HeadStream): void {
    this.heads.delete(entry);
    if (this.heads.size === 0) {
      clearInterval(this.keepAliveTimer);
      this.keepAliveTimer = undefined;
      clearTimeout(this.headTimer);
      this.headTimer = undefined;
    }
  }
}
