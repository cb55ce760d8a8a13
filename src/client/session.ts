/**
 * A session handle: dict-style access to its variables, batches, safe
 * read-modify-write, history, time travel and watching — the TypeScript
 * counterpart of Snakepit's Python `SessionContext`, with a cache kept
 * correct by the event log instead of a TTL guess.
 */
import { status } from '@grpc/grpc-js';
import type { VariableType } from '../domain/types.js';
import { backoffDelay, sleep, type BackoffOptions } from './backoff.js';
import { BatchBuilder, batchResultFromWire, type BatchOptions, type BatchResult, type DeleteOptions, type RegisterOptions, type SetOptions } from './batch.js';
import { CacheWatcher } from './cache-watcher.js';
import type { Caller } from './caller.js';
import { NotFoundError, VarledgerError, VersionConflictError } from './errors.js';
import { listVariables, readVariable, readVariables, valuesOf, type ReadTarget } from './reads.js';
import { SessionAt } from './session-at.js';
import { constraintsToWire, toWireValue, typeToWire, type VariableValue } from './values.js';
import { VariableCache, type CacheMode, type CacheStats } from './variable-cache.js';
import { historyEntryFromWire, sessionFromWire, variableFromWire, type HistoryEntry, type SessionInfo, type Variable } from './variable.js';
import type { WatchBatch, WatchEvent } from './watch-event.js';
import { watchBatches as openWatch, type WatchOptions } from './watch-stream.js';

export interface SessionOptions {
  /** `'none'` (default): every read asks the server. `'watch'`: see `enableWatchCache`. `{ ttlMs }`: reads are reused that long. */
  readonly cache?: CacheMode;
  /** Retries of `update` after a version conflict. Default 20. */
  readonly updateRetries?: number;
  /** Delays between those retries. Default 5 ms doubling to 200 ms, jittered. */
  readonly updateBackoff?: BackoffOptions;
}

export interface UpdateOptions {
  readonly metadata?: Record<string, string>;
  readonly retries?: number;
  readonly backoff?: BackoffOptions;
}

export interface HistoryOptions {
  /** At most this many entries (server default 100). */
  readonly limit?: number;
  /** Only versions below this one, to page backwards. */
  readonly beforeVersion?: number;
}

const UPDATE_BACKOFF: BackoffOptions = { initialMs: 5, maxMs: 200 };

export class Session {
  private cache: VariableCache | undefined;
  private watcher: CacheWatcher | undefined;
  /** Types seen in replies, so a `number` goes out as float or integer as the variable needs. */
  private readonly types = new Map<string, VariableType>();
  private readonly current: ReadTarget;

  constructor(
    private readonly caller: Caller,
    readonly id: string,
    private readonly options: SessionOptions = {},
  ) {
    this.current = { caller, sessionId: id, atRevision: 0n };
    const mode = options.cache ?? 'none';
    if (mode !== 'none') this.useCache(mode);
  }

  // ── reads ──────────────────────────────────────────────────────────────

  /**
   * The variable's value (see `VariableValue` for the TypeScript shapes).
   * `T` is an unchecked convenience cast. Throws `NotFoundError`.
   */
  async get<T extends VariableValue = VariableValue>(name: string): Promise<T> {
    return (await this.getVariable(name)).value as T;
  }

  /** The whole variable: value, type, version, metadata, revisions, who wrote it. */
  async getVariable(name: string): Promise<Variable> {
    const cached = this.lookup(name);
    if (cached) return cached;
    return this.remember(await readVariable(this.current, name));
  }

  /** `{ name: value }` for the names that exist; missing names are left out. One call for all cache misses. */
  async getMany(names: readonly string[]): Promise<Record<string, VariableValue>> {
    const found = new Map<string, Variable>();
    const missing: string[] = [];
    for (const name of names) {
      const cached = this.lookup(name);
      if (cached) found.set(name, cached);
      else missing.push(name);
    }
    if (missing.length > 0) {
      for (const [name, variable] of await readVariables(this.current, missing)) found.set(name, this.remember(variable));
    }
    return valuesOf(found);
  }

  async has(name: string): Promise<boolean> {
    try {
      await this.getVariable(name);
      return true;
    } catch (error) {
      if (error instanceof NotFoundError) return false;
      throw error;
    }
  }

  /** Variables whose names match the glob (`*` any run, `?` one character; empty = all), from the server. */
  async list(pattern = ''): Promise<Variable[]> {
    return (await listVariables(this.current, pattern)).map((v) => this.remember(v));
  }

  /** Versions newest first. */
  async history(name: string, options: HistoryOptions = {}): Promise<HistoryEntry[]> {
    const reply = await this.caller.call('getHistory', {
      sessionId: this.id,
      identifier: name,
      limit: options.limit ?? 0,
      beforeVersion: BigInt(options.beforeVersion ?? 0),
    });
    return reply.entries.map(historyEntryFromWire);
  }

  /** A read-only view of the session as it was at `revision`. */
  at(revision: number | bigint): SessionAt {
    return new SessionAt({ caller: this.caller, sessionId: this.id, atRevision: BigInt(revision) });
  }

  // ── writes ─────────────────────────────────────────────────────────────

  /** Registers a typed variable (creating the session if needed). Throws `AlreadyExistsError`, `ConstraintError`. */
  async register(name: string, type: VariableType, value: VariableValue, options: RegisterOptions = {}): Promise<Variable> {
    const reply = await this.caller.call('registerVariable', {
      sessionId: this.id,
      name,
      type: typeToWire(type),
      initialValue: toWireValue(value, type),
      constraints: constraintsToWire(options.constraints),
      metadata: options.metadata ?? {},
      description: options.description ?? '',
    });
    return this.written(variableFromWire(reply));
  }

  /** Sets a value; once it resolves, `get` on this handle returns it (or something newer). */
  async set(name: string, value: VariableValue, options: SetOptions = {}): Promise<Variable> {
    const reply = await this.caller.call('setVariable', {
      sessionId: this.id,
      identifier: name,
      value: toWireValue(value, this.typeOf(name)),
      metadata: options.metadata ?? {},
      ...(options.expectedVersion !== undefined && { expectedVersion: BigInt(options.expectedVersion) }),
    });
    return this.written(variableFromWire(reply));
  }

  /** Deletes a variable; returns the revision of the deletion. */
  async delete(name: string, options: DeleteOptions = {}): Promise<number> {
    const reply = await this.caller.call('deleteVariable', {
      sessionId: this.id,
      identifier: name,
      metadata: options.metadata ?? {},
      ...(options.expectedVersion !== undefined && { expectedVersion: BigInt(options.expectedVersion) }),
    });
    const revision = Number(reply.revision);
    this.cache?.remove(name, revision);
    this.types.delete(name);
    return revision;
  }

  /** Appends a new version holding the value `version` had (history is never rewritten). */
  async rollback(name: string, version: number, options: SetOptions = {}): Promise<Variable> {
    const reply = await this.caller.call('rollbackVariable', {
      sessionId: this.id,
      identifier: name,
      targetVersion: BigInt(version),
      metadata: options.metadata ?? {},
      ...(options.expectedVersion !== undefined && { expectedVersion: BigInt(options.expectedVersion) }),
    });
    return this.written(variableFromWire(reply));
  }

  /**
   * Read-modify-write: reads the variable, computes `fn(value)`, and writes it
   * only if nobody wrote in between (`expected_version`); on a conflict it
   * re-reads from the server and tries again after a jittered, growing pause.
   * Throws `VersionConflictError` once the retries are spent.
   */
  async update<T extends VariableValue = VariableValue>(
    name: string,
    fn: (value: T, variable: Variable) => T | Promise<T>,
    options: UpdateOptions = {},
  ): Promise<Variable> {
    const retries = options.retries ?? this.options.updateRetries ?? 20;
    const backoff = options.backoff ?? this.options.updateBackoff ?? UPDATE_BACKOFF;
    for (let attempt = 0; ; attempt++) {
      // A cached read is fine the first time: a stale one only costs a retry.
      const current = attempt === 0 ? await this.getVariable(name) : this.remember(await readVariable(this.current, name));
      const next = await fn(current.value as T, current);
      try {
        return await this.set(name, next, {
          ...(options.metadata && { metadata: options.metadata }),
          expectedVersion: current.version,
        });
      } catch (error) {
        if (!(error instanceof VersionConflictError) || attempt >= retries) throw error;
        await sleep(backoffDelay(attempt, backoff));
      }
    }
  }

  /**
   * Collects operations and sends them as one Commit (atomic unless
   * `atomic: false`). An atomic failure rejects with `CommitRejectedError`
   * whose `failures` name every failing operation; nothing is written then.
   */
  async batch(build: (batch: BatchBuilder) => void | Promise<void>, options: BatchOptions = {}): Promise<BatchResult> {
    const builder = new BatchBuilder((name) => this.typeOf(name));
    await build(builder);
    const reply = await this.caller.call('commit', {
      sessionId: this.id,
      operations: builder.operations,
      atomic: options.atomic ?? true,
      metadata: options.metadata ?? {},
    });
    const result = batchResultFromWire(builder, reply);
    for (const r of result.results) {
      if (!r.ok) continue;
      if (r.kind === 'delete') {
        // No other commit can land inside this one, so its last revision is a safe tombstone.
        this.cache?.remove(r.variable.name, result.revision);
        this.types.delete(r.variable.name);
      } else {
        this.written(r.variable);
      }
    }
    return result;
  }

  // ── session ────────────────────────────────────────────────────────────

  async info(): Promise<SessionInfo> {
    return sessionFromWire(await this.caller.call('getSession', { sessionId: this.id }));
  }

  /** Restarts the session's idle timer. */
  async heartbeat(): Promise<SessionInfo> {
    return sessionFromWire(await this.caller.call('heartbeat', { sessionId: this.id }));
  }

  /** Closes the session on the server (later writes get `SessionClosedError`) and stops the cache watch. */
  async close(): Promise<SessionInfo> {
    this.stopWatching();
    return sessionFromWire(await this.caller.call('closeSession', { sessionId: this.id }));
  }

  // ── watching ───────────────────────────────────────────────────────────

  /**
   * Changes as they happen, one event at a time: `for await (const e of session.watch(['temperature']))`.
   * Select by names/ids (array), a glob (string), or nothing for the whole session.
   * Survives server restarts: it reconnects with backoff and resumes at the
   * last revision seen + 1, so no event is missed or repeated. Ends when the
   * session closes or expires (after that event) or when `signal` aborts.
   */
  async *watch(selector?: string | readonly string[], options: WatchOptions = {}): AsyncGenerator<WatchEvent, void, undefined> {
    for await (const batch of this.watchBatches(selector, options)) yield* batch.events;
  }

  /** Like `watch`, one message at a time (whole commits together; no events = progress). */
  watchBatches(selector?: string | readonly string[], options: WatchOptions = {}): AsyncGenerator<WatchBatch, void, undefined> {
    const which = typeof selector === 'string' ? { pattern: selector } : { identifiers: selector ?? [] };
    return openWatch(this.caller, this.id, which, options, { reconnect: 'resume' });
  }

  /**
   * Serves `get`/`getMany`/`has` from memory, kept fresh by one watch stream
   * over the session. Resolves once the stream's snapshot is loaded (from then
   * on reads of existing variables are local); rejects if the stream cannot start.
   */
  async enableWatchCache(): Promise<void> {
    if (this.cache?.mode !== 'watch') this.useCache('watch');
    await this.watcher?.start(true);
  }

  /**
   * Resolves once the cache watch has applied every change up to `revision`
   * — e.g. another client's write, by the `modifiedRevision` it returned.
   */
  async waitForRevision(revision: number, options: { signal?: AbortSignal } = {}): Promise<void> {
    if (!this.cache || !this.watcher) throw new VarledgerError(status.FAILED_PRECONDITION, 'waitForRevision needs the watch cache (cache: "watch")');
    this.watcher.start();
    await this.cache.waitFor(revision, options.signal);
  }

  /** Cache hits and misses (all zero without a cache). */
  stats(): CacheStats {
    return this.cache?.stats() ?? { hits: 0, misses: 0, hitRate: 0, size: 0, live: false, revision: 0 };
  }

  /** Stops the cache's watch stream (the session itself stays open). */
  stopWatching(): void {
    this.watcher?.stop();
    this.watcher = undefined;
  }

  // ── internals ──────────────────────────────────────────────────────────

  private useCache(mode: Exclude<CacheMode, 'none'>): void {
    this.watcher?.stop();
    this.cache = new VariableCache(mode);
    this.watcher = mode === 'watch' ? new CacheWatcher(this.caller, this.id, this.cache) : undefined;
  }

  private lookup(name: string): Variable | undefined {
    if (!this.cache) return undefined;
    // Reads start the watch lazily and do not wait for it; they ask the server until it is live.
    if (this.watcher && !this.watcher.running) this.watcher.start();
    return this.cache.lookup(name);
  }

  /** The variable's type if this handle has seen it (a number is then sent as float or integer accordingly). */
  private typeOf(name: string): VariableType | undefined {
    return this.types.get(name) ?? this.cache?.peek(name)?.type;
  }

  /** Notes a variable read from the server. */
  private remember(variable: Variable): Variable {
    this.types.set(variable.name, variable.type);
    this.cache?.store(variable);
    return variable;
  }

  /** Notes a variable this handle just wrote: read-your-writes, whatever the watch delivers later. */
  private written(variable: Variable): Variable {
    if (this.watcher && !this.watcher.running) this.watcher.start(true);
    return this.remember(variable);
  }
}
