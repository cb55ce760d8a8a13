/**
 * Keeps a `VariableCache` fresh with one WatchVariables stream over the whole
 * session (include_initial). After a dropped connection the stream reopens
 * with a new snapshot, which also clears variables deleted meanwhile; until
 * it arrives the cache serves nothing.
 */
import type { Caller } from './caller.js';
import { VarledgerError } from './errors.js';
import { status } from '@grpc/grpc-js';
import type { VariableCache } from './variable-cache.js';
import { watchBatches } from './watch-stream.js';

/** After the stream fails for good (e.g. the session does not exist yet), reads retry it at most this often. */
const RESTART_AFTER_FAILURE_MS = 1000;

export class CacheWatcher {
  private controller: AbortController | undefined;
  private ready: Promise<void> | undefined;
  private failedAt = -Infinity;

  constructor(
    private readonly caller: Caller,
    private readonly sessionId: string,
    private readonly cache: VariableCache,
  ) {}

  get running(): boolean {
    return this.controller !== undefined;
  }

  /**
   * Starts the stream unless it runs; resolves once its snapshot is in the
   * cache, rejects if the stream fails first. `force` skips the pause after a failure.
   */
  start(force = false): Promise<void> {
    if (this.ready && this.controller) return this.ready;
    if (!force && performance.now() - this.failedAt < RESTART_AFTER_FAILURE_MS && this.ready) return this.ready;
    const controller = (this.controller = new AbortController());
    let markReady!: () => void;
    let fail!: (error: Error) => void;
    this.ready = new Promise<void>((resolve, reject) => {
      markReady = resolve;
      fail = reject;
    });
    // Reads start the watch without awaiting it; its failure is reported to whoever does await.
    this.ready.catch(() => undefined);
    void this.run(controller, markReady, fail);
    return this.ready;
  }

  stop(): void {
    this.controller?.abort();
    this.controller = undefined;
  }

  private async run(controller: AbortController, markReady: () => void, fail: (error: Error) => void): Promise<void> {
    let failure: Error = new VarledgerError(status.CANCELLED, 'the cache watch was stopped');
    try {
      const batches = watchBatches(
        this.caller,
        this.sessionId,
        {},
        { includeInitial: true, signal: controller.signal },
        { reconnect: 'snapshot', onDisconnect: () => this.cache.setLive(false) },
      );
      for await (const batch of batches) {
        this.cache.apply(batch);
        if (batch.initial) markReady();
      }
      if (!controller.signal.aborted && !this.caller.closed.aborted) {
        failure = new VarledgerError(status.FAILED_PRECONDITION, `Session ended: ${this.sessionId}`);
      }
    } catch (error) {
      failure = error instanceof Error ? error : new Error(String(error));
      this.failedAt = performance.now();
    } finally {
      this.cache.setLive(false);
      fail(failure);
      this.cache.failWaiters(failure);
      if (this.controller === controller) this.controller = undefined;
    }
  }
}
