/**
 * The server's side of one worker connected over ServeTools: sends it
 * invocations, correlates its answers by call id (many calls may be in
 * flight at once), and fails every open call when the worker goes away.
 * Protocol-neutral: the gRPC handler supplies `send` and feeds answers in.
 */
import { DomainError, ToolFailedError } from '../domain/index.js';
import { AsyncQueue } from './async-queue.js';
import type { ToolInvocation, ToolRunner } from './tool-registry.js';
import type { ToolChunk, ToolSpec } from './tool-types.js';

export type WorkerOutbound =
  | { readonly kind: 'invocation'; readonly invocation: ToolInvocation; readonly streaming: boolean }
  | { readonly kind: 'cancellation'; readonly callId: string; readonly reason: string };

export class WorkerHost {
  private readonly open = new Map<string, AsyncQueue<ToolChunk>>();
  private closedReason: string | undefined;

  constructor(
    readonly workerId: string,
    private readonly send: (message: WorkerOutbound) => void,
  ) {}

  get host(): string {
    return `worker:${this.workerId}`;
  }

  /** Calls in flight, for tests and logs. */
  get openCalls(): number {
    return this.open.size;
  }

  runner(spec: ToolSpec): ToolRunner {
    return {
      unary: async (inv) => {
        const chunks: unknown[] = [];
        for await (const chunk of this.invoke(inv, spec.supportsStreaming)) {
          if (!spec.supportsStreaming) return chunk.data;
          if (!chunk.isFinal || chunk.data !== undefined) chunks.push(chunk.data);
        }
        return chunks;
      },
      stream: (inv) => this.invoke(inv, spec.supportsStreaming),
    };
  }

  /** A unary result from the worker. */
  result(callId: string, data: unknown): void {
    const queue = this.take(callId);
    queue?.push({ data, isFinal: true });
    queue?.end();
  }

  chunk(callId: string, data: unknown, isFinal: boolean): void {
    const queue = isFinal ? this.take(callId) : this.open.get(callId);
    queue?.push({ data, isFinal });
    if (isFinal) queue?.end();
  }

  error(callId: string, type: string, message: string): void {
    this.take(callId)?.fail(new ToolFailedError(type || 'Error', message));
  }

  /** The worker is gone: every open call fails UNAVAILABLE, and no new one starts. */
  close(reason: string): void {
    this.closedReason ??= reason;
    for (const [callId, queue] of this.open) {
      this.open.delete(callId);
      queue.fail(new DomainError('unavailable', `Tool worker ${this.workerId} went away during the call: ${reason}`));
    }
  }

  private async *invoke(inv: ToolInvocation, streaming: boolean): AsyncIterable<ToolChunk> {
    if (this.closedReason !== undefined) throw new DomainError('unavailable', `Tool worker ${this.workerId} is gone: ${this.closedReason}`);
    const queue = new AsyncQueue<ToolChunk>();
    this.open.set(inv.callId, queue);
    const onAbort = () => {
      if (this.take(inv.callId)) {
        const reason = inv.signal.reason instanceof Error ? inv.signal.reason.message : 'cancelled';
        this.send({ kind: 'cancellation', callId: inv.callId, reason });
      }
      queue.fail(inv.signal.reason);
    };
    inv.signal.addEventListener('abort', onAbort, { once: true });
    try {
      this.send({ kind: 'invocation', invocation: inv, streaming });
      for await (const chunk of queue) {
        yield chunk;
        if (chunk.isFinal) return;
      }
      throw new DomainError('unavailable', `Tool worker ${this.workerId} ended call ${inv.callId} without a final chunk`);
    } finally {
      inv.signal.removeEventListener('abort', onAbort);
      // Left early (the caller stopped reading): tell the worker to stop.
      if (this.take(inv.callId)) this.send({ kind: 'cancellation', callId: inv.callId, reason: 'the caller stopped reading' });
    }
  }

  private take(callId: string): AsyncQueue<ToolChunk> | undefined {
    const queue = this.open.get(callId);
    this.open.delete(callId);
    return queue;
  }
}
