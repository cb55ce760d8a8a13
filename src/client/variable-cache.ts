/**
 * The session's read cache, keyed by variable name. Every entry remembers
 * the revision it reflects, and nothing older ever replaces something newer:
 * a write's reply and the watch stream may arrive in either order, and the
 * later revision wins (a deletion is kept as a tombstone for that reason).
 *
 * Freshness comes from one of two sources:
 * - `watch`: entries are served only while a WatchVariables stream is live
 *   and has applied its snapshot; every change reaches the cache through it.
 * - `{ ttlMs }`: entries are served for `ttlMs` after they were read or
 *   written by this client; other clients' writes may be missed that long.
 */
import type { WatchBatch } from './watch-event.js';
import type { Variable } from './variable.js';

export type CacheMode = 'none' | 'watch' | { readonly ttlMs: number };

export interface CacheStats {
  readonly hits: number;
  readonly misses: number;
  /** hits / (hits + misses); 0 before any lookup. */
  readonly hitRate: number;
  /** Cached variables (tombstones excluded). */
  readonly size: number;
  /** `watch` mode: the stream is connected and its snapshot applied. */
  readonly live: boolean;
  /** `watch` mode: every change up to this revision has been applied. */
  readonly revision: number;
}

interface Entry {
  /** undefined: deleted at `revision`. */
  readonly variable: Variable | undefined;
  readonly revision: number;
  storedAt: number;
}

interface Waiter {
  readonly revision: number;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

export class VariableCache {
  private readonly entries = new Map<string, Entry>();
  private readonly waiters = new Set<Waiter>();
  private hits = 0;
  private misses = 0;
  private live = false;
  private revision = 0;

  constructor(
    readonly mode: Exclude<CacheMode, 'none'>,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** The cached variable if it may be served now; counts a hit or a miss. */
  lookup(name: string): Variable | undefined {
    const entry = this.entries.get(name);
    const fresh =
      entry?.variable !== undefined && (this.mode === 'watch' ? this.live : this.now() - entry.storedAt < this.mode.ttlMs);
    if (fresh) this.hits++;
    else this.misses++;
    return fresh ? entry.variable : undefined;
  }

  /** The cached variable, fresh or not, without counting a lookup. */
  peek(name: string): Variable | undefined {
    return this.entries.get(name)?.variable;
  }

  /** Records a variable as of its `modifiedRevision`, unless something newer is cached. */
  store(variable: Variable): void {
    this.put(variable.name, variable, variable.modifiedRevision);
  }

  /** Records that `name` was deleted at `revision`. */
  remove(name: string, revision: number): void {
    this.put(name, undefined, revision);
  }

  /** Applies a watch message; an `initial` one replaces everything not newer than it. */
  apply(batch: WatchBatch): void {
    if (batch.initial) {
      for (const [name, entry] of this.entries) if (entry.revision <= batch.revision) this.entries.delete(name);
    }
    for (const event of batch.events) {
      switch (event.kind) {
        case 'initial':
        case 'registered':
        case 'set':
        case 'rolled_back':
          if (event.variable) this.store(event.variable);
          break;
        case 'deleted':
          this.remove(event.name, event.revision);
          break;
        case 'session_closed':
        case 'session_expired':
          this.setLive(false);
          break;
        default: {
          const _exhaustive: never = event.kind;
          return _exhaustive;
        }
      }
    }
    if (batch.initial) this.live = true;
    this.revision = Math.max(this.revision, batch.revision);
    for (const waiter of this.waiters) {
      if (this.live && this.revision >= waiter.revision) waiter.resolve();
    }
  }

  /** `watch` mode: whether entries may be served. Going offline keeps entries (the guard still applies) but stops serving them. */
  setLive(live: boolean): void {
    this.live = live;
  }

  get isLive(): boolean {
    return this.live;
  }

  /** Resolves once the watch has applied every change up to `revision`. */
  waitFor(revision: number, signal?: AbortSignal): Promise<void> {
    if (this.live && this.revision >= revision) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const settle = (error?: Error) => {
        this.waiters.delete(waiter);
        signal?.removeEventListener('abort', abort);
        if (error) reject(error);
        else resolve();
      };
      const waiter: Waiter = { revision, resolve: () => settle(), reject: settle };
      const abort = () => settle(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
      if (signal?.aborted) return abort();
      signal?.addEventListener('abort', abort, { once: true });
      this.waiters.add(waiter);
    });
  }

  /** The watch stopped for good: nobody waiting for a revision will get it. */
  failWaiters(error: Error): void {
    for (const waiter of [...this.waiters]) waiter.reject(error);
  }

  clear(): void {
    this.entries.clear();
  }

  stats(): CacheStats {
    let size = 0;
    for (const entry of this.entries.values()) if (entry.variable) size++;
    const lookups = this.hits + this.misses;
    return {
      hits: this.hits,
      misses: this.misses,
      hitRate: lookups === 0 ? 0 : this.hits / lookups,
      size,
      live: this.live,
      revision: this.revision,
    };
  }

  private put(name: string, variable: Variable | undefined, revision: number): void {
    const existing = this.entries.get(name);
    if (existing && existing.revision > revision) return;
    if (existing && existing.revision === revision) {
      existing.storedAt = this.now();
      return;
    }
    this.entries.set(name, { variable, revision, storedAt: this.now() });
  }
}
