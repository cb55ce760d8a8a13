/**
 * Which encoding each variable's value last arrived in through the bridge, so
 * replies use what the client itself sends: a worker that pickles a large
 * embedding gets a pickle back, one that sends JSON gets JSON. Kept in memory
 * only: after a restart, or for values written through varledger.v1.Ledger,
 * replies are JSON, which every Snakepit client decodes.
 */
import type { SessionId, VariableId } from '../domain/index.js';
import type { ValueEncoding } from './any-codec.js';

export class EncodingMemory {
  private readonly byVariable = new Map<string, ValueEncoding>();

  private static key(sessionId: SessionId, variableId: VariableId): string {
    return `${sessionId}\u0000${variableId}`;
  }

  remember(sessionId: SessionId, variableId: VariableId, encoding: ValueEncoding): void {
    // The common case — JSON values, nothing binary remembered — costs no key.
    if (encoding === 'json' && this.byVariable.size === 0) return;
    const key = EncodingMemory.key(sessionId, variableId);
    if (encoding === 'json') this.byVariable.delete(key);
    else this.byVariable.set(key, encoding);
  }

  forget(sessionId: SessionId, variableId: VariableId): void {
    this.byVariable.delete(EncodingMemory.key(sessionId, variableId));
  }

  encodingOf(sessionId: SessionId, variableId: VariableId): ValueEncoding {
    if (this.byVariable.size === 0) return 'json';
    return this.byVariable.get(EncodingMemory.key(sessionId, variableId)) ?? 'json';
  }
}
