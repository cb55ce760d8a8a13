/**
 * `session.batch(b => …)`: operations collected by a builder and sent as one
 * Commit. Atomic (the default) means all or nothing; a failure rejects with
 * `CommitRejectedError` listing every failing operation.
 */
import type * as wire from '../gen/varledger/v1/ledger.js';
import type { Constraints, VariableType } from '../domain/types.js';
import { errorFor, statusOfName, type VarledgerError } from './errors.js';
import { constraintsToWire, toWireValue, typeToWire, type VariableValue } from './values.js';
import { variableFromWire, type Variable } from './variable.js';

export interface RegisterOptions {
  readonly constraints?: Constraints;
  readonly metadata?: Record<string, string>;
  readonly description?: string;
}

export interface SetOptions {
  /** The update's metadata, e.g. `{ reason: '…' }`; recorded in the log. */
  readonly metadata?: Record<string, string>;
  /** Write only if the variable is still at this version (else `VersionConflictError`). */
  readonly expectedVersion?: number;
}

export type DeleteOptions = SetOptions;

export interface BatchOptions {
  /** true (default): all operations or none. false: each on its own; the successes still commit together. */
  readonly atomic?: boolean;
  /** Merged under each operation's own metadata. */
  readonly metadata?: Record<string, string>;
}

export type OperationKind = 'register' | 'set' | 'delete';

export type OperationResult =
  | { readonly index: number; readonly kind: OperationKind; readonly name: string; readonly ok: true; readonly variable: Variable }
  | { readonly index: number; readonly kind: OperationKind; readonly name: string; readonly ok: false; readonly error: VarledgerError };

export interface BatchResult {
  /** Revision of the commit's last event; 0 when nothing was written. */
  readonly revision: number;
  /** One per operation, in the order they were added. */
  readonly results: readonly OperationResult[];
}

/** Collects operations; every method returns the builder, so calls chain. */
export class BatchBuilder {
  /** @internal */ readonly operations: wire.DeepPartial<wire.Operation>[] = [];
  /** @internal */ readonly kinds: { kind: OperationKind; name: string }[] = [];

  constructor(private readonly typeOf: (name: string) => VariableType | undefined) {}

  register(name: string, type: VariableType, value: VariableValue, options: RegisterOptions = {}): this {
    const register: wire.DeepPartial<wire.RegisterOperation> = {
      name,
      type: typeToWire(type),
      initialValue: toWireValue(value, type),
      constraints: constraintsToWire(options.constraints),
      metadata: options.metadata ?? {},
      description: options.description ?? '',
    };
    return this.add('register', name, { $case: 'register', register });
  }

  set(name: string, value: VariableValue, options: SetOptions = {}): this {
    const set: wire.DeepPartial<wire.SetOperation> = {
      identifier: name,
      value: toWireValue(value, this.typeOf(name)),
      metadata: options.metadata ?? {},
      ...(options.expectedVersion !== undefined && { expectedVersion: BigInt(options.expectedVersion) }),
    };
    return this.add('set', name, { $case: 'set', set });
  }

  delete(name: string, options: DeleteOptions = {}): this {
    const del: wire.DeepPartial<wire.DeleteOperation> = {
      identifier: name,
      metadata: options.metadata ?? {},
      ...(options.expectedVersion !== undefined && { expectedVersion: BigInt(options.expectedVersion) }),
    };
    return this.add('delete', name, { $case: 'delete', delete: del });
  }

  get size(): number {
    return this.operations.length;
  }

  private add(kind: OperationKind, name: string, op: wire.DeepPartial<wire.Operation>['op']): this {
    this.operations.push({ op });
    this.kinds.push({ kind, name });
    return this;
  }
}

export function batchResultFromWire(builder: BatchBuilder, reply: wire.CommitResponse): BatchResult {
  const results = reply.results.map((r): OperationResult => {
    const { kind, name } = builder.kinds[r.index] ?? { kind: 'set' as const, name: '' };
    if (r.ok && r.variable) return { index: r.index, kind, name, ok: true, variable: variableFromWire(r.variable) };
    return { index: r.index, kind, name, ok: false, error: errorFor(statusOfName(r.errorCode), r.error) };
  });
  return { revision: Number(reply.revision), results };
}
