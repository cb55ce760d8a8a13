/**
 * A WatchVariables stream that survives dropped connections. On UNAVAILABLE
 * (a server restart, a network blip) it waits with jittered backoff and
 * reopens — either resuming at the last revision seen + 1, so the consumer
 * gets every event exactly once, or (for the cache) with a fresh snapshot.
 */
import { status, type ClientReadableStream } from '@grpc/grpc-js';
import type * as wire from '../gen/varledger/v1/ledger.js';
import { backoffDelay, sleep, type BackoffOptions } from './backoff.js';
import type { Caller } from './caller.js';
import { OutOfRangeError, toVarledgerError, type VarledgerError } from './errors.js';
import { watchEventFromWire, type WatchBatch, type WatchResync } from './watch-event.js';

/** Which variables to watch: names/ids, a glob over names, or (neither) the whole session. */
export interface WatchSelector {
  readonly identifiers?: readonly string[];
  readonly pattern?: string;
}

export interface WatchOptions {
  /** First deliver the matching variables as they are now (kind `initial`). */
  readonly includeInitial?: boolean;
  /** Replay matching events from this revision (inclusive); absent: from now. */
  readonly startRevision?: number | bigint;
  /** Aborting ends the iteration quietly and releases the stream. */
  readonly signal?: AbortSignal;
  /** Delays between reconnection attempts. Default 50 ms doubling to 2 s. */
  readonly backoff?: BackoffOptions;
  /** Consecutive failed reconnections before giving up with the last error. Default: never give up. */
  readonly maxRetries?: number;
  /**
   * Told when the watch must resume at a revision retention compacted away:
   * it then re-reads the current state (an `initial` message, marked
   * `resync`) and resumes from there instead of failing.
   */
  readonly onResync?: (resync: WatchResync) => void;
}

export interface WatchStreamHooks {
  /** `resume`: reopen at last revision + 1. `snapshot`: reopen with include_initial at the head. */
  readonly reconnect: 'resume' | 'snapshot';
  /** Told when the stream dropped and a reconnection is scheduled. */
  readonly onDisconnect?: (error: VarledgerError) => void;
}

const WATCH_BACKOFF: BackoffOptions = { initialMs: 50, maxMs: 2000 };

/** Failures that a later attempt can cure: the server is down or restarting. */
const isTransient = (error: VarledgerError): boolean => error.code === status.UNAVAILABLE;

/**
 * Yields every message of the watch as a `WatchBatch`; returns when the
 * server ends the stream (the session closed or expired) or `signal` aborts;
 * throws a `VarledgerError` on a failure that retrying cannot cure. Closing
 * the client also ends it.
 */
export async function* watchBatches(
  caller: Caller,
  sessionId: string,
  selector: WatchSelector,
  options: WatchOptions,
  hooks: WatchStreamHooks,
): AsyncGenerator<WatchBatch, void, undefined> {
  const { maxRetries = Infinity, backoff = WATCH_BACKOFF } = options;
  const signal = options.signal ? AbortSignal.any([options.signal, caller.closed]) : caller.closed;
  let includeInitial = options.includeInitial ?? false;
  let next = BigInt(options.startRevision ?? 0);
  // "From now" must become a revision before anything can be missed: the
  // session's last change + 1 is gapless for this session's events.
  let resolveStart = hooks.reconnect === 'resume' && next === 0n && !includeInitial;
  let attempt = 0;
  let resync: WatchResync | undefined;
  while (!signal.aborted) {
    let stream: ClientReadableStream<wire.WatchResponse> | undefined;
    const cancel = () => stream?.cancel();
    signal.addEventListener('abort', cancel, { once: true });
    try {
      if (resolveStart) {
        next = (await caller.call('getSession', { sessionId })).modifiedRevision + 1n;
        resolveStart = false;
        if (signal.aborted) return;
      }
      stream = caller.rpc.watch(
        { sessionId, identifiers: [...(selector.identifiers ?? [])], pattern: selector.pattern ?? '', includeInitial, startRevision: next },
        caller.callOptions(false),
      );
      let first = true;
      for await (const message of stream as AsyncIterable<wire.WatchResponse>) {
        attempt = 0;
        const batch: WatchBatch = {
          events: message.events.map(watchEventFromWire),
          revision: Number(message.revision),
          initial: first && includeInitial,
          ...(first && resync && { resync }),
        };
        first = false;
        // Told once the fresh read arrived: a resync that cannot happen (a removed session) fails instead.
        if (batch.resync) options.onResync?.(batch.resync);
        resync = undefined;
        if (hooks.reconnect === 'resume') {
          next = message.revision + 1n;
          includeInitial = false;
        }
        yield batch;
      }
      return;
    } catch (error) {
      if (signal.aborted) return;
      const typed = toVarledgerError(error);
      // Resuming below the retention horizon: re-read the current state and go on from there (never from 0: that would loop).
      if (typed instanceof OutOfRangeError && typed.compacted && next > 0n) {
        resync = { requestedRevision: Number(next), oldestRevision: typed.oldestRevision as number };
        next = 0n;
        includeInitial = true;
        continue;
      }
      if (!isTransient(typed) || attempt >= maxRetries) throw typed;
      hooks.onDisconnect?.(typed);
      await sleep(backoffDelay(attempt++, backoff), signal);
    } finally {
      signal.removeEventListener('abort', cancel);
      // A stream left before its end reports CANCELLED; nobody needs to hear it.
      stream?.on('error', () => undefined).cancel();
    }
  }
}
