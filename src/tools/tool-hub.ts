/**
 * The tool hub: the registry plus execution. Every call is checked (session
 * live, tool known, parameters valid), recorded as `tool_called`, run under
 * an AbortSignal that fires on cancellation or deadline, and recorded as
 * `tool_completed` or `tool_failed`, each in its own transaction.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { DomainError, parseSessionId } from '../domain/index.js';
import { systemClock, type Clock } from '../service/clock.js';
import type { LedgerService } from '../service/ledger-service.js';
import { summarize } from './tool-json.js';
import { validateParameters } from './tool-parameters.js';
import { ToolRegistry, type RegisteredTool, type ToolInvocation } from './tool-registry.js';
import { asToolFailure, serverTool } from './server-tools.js';
import type { ToolCall, ToolChunk, ToolHub, ToolModuleDefinition, ToolResult, ToolSpec } from './tool-types.js';
import { WorkerHost, type WorkerOutbound } from './worker-host.js';

export const DEFAULT_TOOL_DEADLINE_MS = 5 * 60_000;

/**
 * A caller's own deadline timer fires a little before ours (the server
 * learns the deadline as a timeout, on receipt) and shows up as a plain
 * cancellation: one this close to the deadline is counted as the deadline.
 */
const DEADLINE_SLACK_MS = 250;

export interface ToolHubOptions {
  readonly service: LedgerService;
  readonly logger: Logger;
  /** Deadline of calls that bring none. */
  readonly defaultDeadlineMs?: number;
  /** Wall-clock time for deadlines (deadlines are absolute times); the system clock by default. */
  readonly clock?: Clock;
  /** Hears how each recorded call ended (metrics); must not throw. */
  readonly onCallEnded?: (outcome: ToolOutcome) => void;
}

/**
 * How a call on the record ended: `completed`; `failed` (the tool threw);
 * or what stopped it: `invalid_argument` (parameters refused), `cancelled`,
 * `deadline_exceeded`, `unavailable` (its worker went away or the server stopped).
 */
export type ToolOutcome = 'completed' | 'failed' | 'invalid_argument' | 'cancelled' | 'deadline_exceeded' | 'unavailable';

function outcomeOf(error: DomainError): ToolOutcome {
  switch (error.code) {
    case 'cancelled':
    case 'deadline_exceeded':
    case 'unavailable':
      return error.code;
    default:
      return 'failed';
  }
}

/** A call under way: its abort controller, so shutdown can stop it. */
interface Running {
  readonly controller: AbortController;
  readonly done: Promise<void>;
}

export class LedgerToolHub implements ToolHub {
  readonly registry = new ToolRegistry();
  private readonly running = new Set<Running>();
  /** Tool events on their way to the log. */
  private readonly recording = new Set<Promise<unknown>>();
  private readonly workers = new Set<{ host: WorkerHost; end: (reason: string) => void }>();
  private workerCounter = 0;
  private closed = false;

  constructor(private readonly options: ToolHubOptions) {}

  /** Registers server-side tools (from modules or tests). */
  addServerTools(definitions: readonly ToolModuleDefinition[]): void {
    for (const definition of definitions) this.registry.add(serverTool(definition, this.options.service));
  }

  list(sessionId?: string): ToolSpec[] {
    return this.registry.list(sessionId);
  }

  async execute(call: ToolCall): Promise<ToolResult> {
    const { tool, invocation, finish } = await this.begin(call);
    let result: unknown;
    try {
      result = await raceAbort(tool.runner.unary(invocation), invocation.signal);
    } catch (error) {
      const failure = failureOf(error, invocation.signal);
      finish({ ok: false, error: failure });
      throw failure;
    }
    return { result, durationMs: finish({ ok: true, result }) };
  }

  async *executeStreaming(call: ToolCall): AsyncIterable<ToolChunk> {
    const { tool, invocation, finish } = await this.begin(call);
    let chunks = 0;
    let iterator: AsyncIterator<ToolChunk> | undefined;
    let settled = false;
    try {
      iterator = tool.runner.stream(invocation)[Symbol.asyncIterator]();
      for (;;) {
        const next = await raceAbort(iterator.next(), invocation.signal);
        if (next.done) throw new DomainError('unavailable', `Tool ${tool.spec.name} ended without a final chunk`);
        chunks++;
        if (next.value.isFinal) {
          settled = true;
          finish({ ok: true, result: { chunks } });
          yield next.value;
          return;
        }
        yield next.value;
      }
    } catch (error) {
      settled = true;
      const failure = failureOf(error, invocation.signal);
      finish({ ok: false, error: failure });
      throw failure;
    } finally {
      // The consumer stopped reading early: that is a cancellation.
      if (!settled) {
        finish({ ok: false, error: new DomainError('cancelled', 'The caller stopped reading the stream') });
      }
      void iterator?.return?.().catch(() => undefined);
    }
  }

  /** Resolves when no call is running: tests await it before reading the log. */
  async idle(): Promise<void> {
    while (this.running.size > 0 || this.recording.size > 0) {
      await Promise.all([...[...this.running].map((r) => r.done), ...this.recording]);
    }
  }

  /**
   * Starts hosting a worker's tools. `send` writes to its stream; `end`
   * closes the stream (at shutdown). Returns the host, to feed its answers
   * in, and `declare` / `disconnect`.
   */
  connectWorker(
    requestedId: string,
    send: (message: WorkerOutbound) => void,
    end: (reason: string) => void,
  ): { host: WorkerHost; declare: (sessionId: string, specs: readonly ToolSpec[]) => string[]; disconnect: (reason: string) => void } {
    if (this.closed) throw new DomainError('unavailable', 'The server is shutting down');
    const host = new WorkerHost(requestedId || `w${++this.workerCounter}`, send);
    const entry = { host, end };
    this.workers.add(entry);
    const removals: (() => void)[] = [];
    return {
      host,
      declare: (sessionId, specs) => {
        const session = sessionId === '' ? undefined : parseSessionId(sessionId);
        const tools: RegisteredTool[] = specs.map((spec) => ({
          spec: { ...spec, host: host.host, sessionId: session },
          runner: host.runner(spec),
        }));
        const added: (() => void)[] = [];
        try {
          for (const tool of tools) added.push(this.registry.add(tool));
        } catch (error) {
          // All of a declaration or none of it.
          for (const remove of added) remove();
          throw error;
        }
        removals.push(...added);
        return tools.map((t) => t.spec.name);
      },
      disconnect: (reason) => {
        for (const remove of removals.splice(0)) remove();
        host.close(reason);
        this.workers.delete(entry);
      },
    };
  }

  /** At shutdown: aborts running calls and ends every worker stream. */
  close(reason: string): void {
    this.closed = true;
    for (const running of this.running) running.controller.abort(new DomainError('unavailable', reason));
    for (const { host, end } of [...this.workers]) {
      host.close(reason);
      end(reason);
    }
    this.workers.clear();
  }

  // ── internals ──────────────────────────────────────────────────────────

  /**
   * Checks the call, records `tool_called`, arms the deadline. `finish`
   * records the outcome once (later calls are no-ops) and returns the duration.
   */
  private async begin(call: ToolCall): Promise<{
    tool: RegisteredTool;
    invocation: ToolInvocation;
    finish: (outcome: { ok: true; result: unknown } | { ok: false; error: DomainError }) => number;
  }> {
    const { service } = this.options;
    if (this.closed) throw new DomainError('unavailable', 'The server is shutting down');
    const sessionId = parseSessionId(call.sessionId);
    await service.liveSession(sessionId);
    const tool = this.registry.find(sessionId, call.toolName);
    if (!tool) throw new DomainError('not_found', `Tool not found: ${call.toolName}`);
    const callId = randomUUID();
    const base = { sessionId, callId, tool: tool.spec.name, host: tool.spec.host };
    let parameters: Record<string, unknown>;
    try {
      parameters = validateParameters(tool.spec.name, tool.spec.parameters, call.parameters);
    } catch (error) {
      // Refused calls are on the record too: someone tried.
      this.record(() => service.recordTool({ ...base, kind: 'tool_called', parameters: summarize(call.parameters), metadata: call.metadata }, call.actor));
      const message = error instanceof Error ? error.message : String(error);
      this.record(() => service.recordTool({ ...base, kind: 'tool_failed', durationMs: 0, errorType: 'invalid_argument', message }, call.actor));
      this.options.onCallEnded?.('invalid_argument');
      throw error;
    }
    await service.recordTool({ ...base, kind: 'tool_called', parameters: summarize(parameters), metadata: call.metadata }, call.actor);

    const started = performance.now();
    const deadline = call.deadline ?? this.now() + (this.options.defaultDeadlineMs ?? DEFAULT_TOOL_DEADLINE_MS);
    const controller = new AbortController();
    const timer = setTimeout(
      () => controller.abort(new DomainError('deadline_exceeded', `Tool ${tool.spec.name} ran past its deadline`)),
      // setTimeout overflows past 2^31 ms (~24 days) and would fire at once.
      Math.min(2 ** 31 - 1, Math.max(0, deadline - this.now())),
    );
    timer.unref();
    const onCallerAbort = () => {
      const reason = this.now() >= deadline - DEADLINE_SLACK_MS ? new DomainError('deadline_exceeded', `Tool ${tool.spec.name} ran past its deadline`) : new DomainError('cancelled', 'The caller cancelled the tool call');
      controller.abort(reason);
    };
    if (call.signal?.aborted) onCallerAbort();
    else call.signal?.addEventListener('abort', onCallerAbort, { once: true });
    let markDone!: () => void;
    const running: Running = { controller, done: new Promise<void>((resolve) => (markDone = resolve)) };
    this.running.add(running);

    let durationMs: number | undefined;
    const finish = (outcome: { ok: true; result: unknown } | { ok: false; error: DomainError }): number => {
      if (durationMs !== undefined) return durationMs;
      durationMs = Math.round(performance.now() - started);
      clearTimeout(timer);
      call.signal?.removeEventListener('abort', onCallerAbort);
      // The tool is done: anything it still waits on should stop.
      if (!controller.signal.aborted) controller.abort(new DomainError('cancelled', 'The call is over'));
      const ms = durationMs;
      this.record(() =>
        outcome.ok
          ? service.recordTool({ ...base, kind: 'tool_completed', durationMs: ms, result: summarize(outcome.result) }, call.actor)
          : service.recordTool({ ...base, kind: 'tool_failed', durationMs: ms, errorType: errorTypeOf(outcome.error), message: outcome.error.message }, call.actor),
      );
      this.options.onCallEnded?.(outcome.ok ? 'completed' : outcomeOf(outcome.error));
      this.running.delete(running);
      markDone();
      return ms;
    };
    const invocation: ToolInvocation = {
      callId,
      sessionId,
      toolName: tool.spec.name,
      parameters,
      actor: call.actor,
      ...(call.principal !== undefined && { principal: call.principal }),
      metadata: call.metadata,
      deadline,
      signal: controller.signal,
    };
    return { tool, invocation, finish };
  }

  private now(): number {
    return (this.options.clock ?? systemClock).now();
  }

  /** Records an outcome; a failed write is logged, not thrown over the tool's own answer. */
  private record(write: () => Promise<unknown>): void {
    const pending = Promise.resolve()
      .then(write)
      .catch((error: unknown) => this.options.logger.error({ err: error }, 'recording a tool event failed'))
      .finally(() => this.recording.delete(pending));
    this.recording.add(pending);
  }
}

/** The log's error type: the tool's own, or what stopped the call. */
function errorTypeOf(error: DomainError): string {
  return error.code === 'tool_failed' && 'errorType' in error ? String(error.errorType) : error.code;
}

/** What to report: the abort's reason if the call was stopped, else the error (unexpected ones as tool failures). */
function failureOf(error: unknown, signal: AbortSignal): DomainError {
  // A handler that stops on abort often throws an AbortError of its own: the abort is the story.
  if (signal.aborted && signal.reason instanceof DomainError) return signal.reason;
  return error instanceof DomainError ? error : asToolFailure(error);
}

/** Settles with the promise, or rejects with the signal's reason as soon as it aborts. */
function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(signal.reason as Error);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error as Error);
      },
    );
  });
}
