/**
 * The session API's one path to the server: every unary call goes through
 * `Caller.call`, which adds the actor and deadline and turns failures into
 * typed `VarledgerError`s.
 */
import type * as wire from '../gen/varledger/v1/ledger.js';
import { toVarledgerError } from './errors.js';
import type { CallOptions, LedgerRpc, RequestOf, ResponseOf, UnaryMethod } from './ledger-rpc.js';

export interface CallerOptions {
  /** Recorded on every change this client makes (the `x-varledger-actor` header). */
  readonly actor?: string;
  /** Deadline of each unary call, in ms; none by default. */
  readonly callTimeoutMs?: number;
}

export class Caller {
  private readonly lifetime = new AbortController();

  constructor(
    readonly rpc: LedgerRpc,
    readonly options: CallerOptions = {},
  ) {}

  /** Aborts when the client closes: every watch of the client stops then. */
  get closed(): AbortSignal {
    return this.lifetime.signal;
  }

  /** Stops the client's watches and closes the channel. */
  close(): void {
    this.lifetime.abort();
    this.rpc.close();
  }

  /** Actor and deadline for one call (a watch stream takes the actor only). */
  callOptions(withDeadline = true): CallOptions {
    const { actor, callTimeoutMs } = this.options;
    return {
      ...(actor !== undefined && { actor }),
      ...(withDeadline && callTimeoutMs !== undefined && { deadline: new Date(Date.now() + callTimeoutMs) }),
    };
  }

  /** Rejects with a `VarledgerError` (never a raw grpc-js error). */
  async call<K extends UnaryMethod>(method: K, request: wire.DeepPartial<RequestOf<K>>): Promise<ResponseOf<K>> {
    try {
      return await this.rpc.call(method, request, this.callOptions());
    } catch (error) {
      throw toVarledgerError(error);
    }
  }
}
