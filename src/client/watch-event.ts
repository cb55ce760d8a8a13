/** Watch events as plain objects. */
import * as wire from '../gen/varledger/v1/ledger.js';
import { fromWireValue, type VariableValue } from './values.js';
import { variableFromWire, type Variable } from './variable.js';

export type WatchEventKind = 'initial' | 'registered' | 'set' | 'deleted' | 'rolled_back' | 'session_closed' | 'session_expired';

export interface WatchEvent {
  readonly kind: WatchEventKind;
  /** The variable's name; empty for session events. */
  readonly name: string;
  /** The variable after the event (for `deleted`: as it was); undefined for session events. */
  readonly variable: Variable | undefined;
  /** The value before the event (`set`, `deleted`, `rolled_back`). */
  readonly previousValue: VariableValue | undefined;
  readonly previousVersion: number;
  /** The update's own metadata (e.g. a `reason`). */
  readonly metadata: Readonly<Record<string, string>>;
  readonly actor: string;
  readonly time: Date | undefined;
  /** The event's position in the log; for `initial` events, the snapshot's revision. */
  readonly revision: number;
  /** Events with the same commit id were written by one commit; 0 for `initial`. */
  readonly commitId: number;
}

/** A stream message: one or more whole commits, or a snapshot, or progress (no events). */
export interface WatchBatch {
  readonly events: readonly WatchEvent[];
  /** Everything matching up to this revision has been delivered. */
  readonly revision: number;
  /** True for the `include_initial` snapshot message. */
  readonly initial: boolean;
  /**
   * Set on the first message after a resync: the watch had to resume at a
   * revision retention had compacted away, so it re-read the current state
   * (this message, `initial` events) and goes on from there. Changes between
   * the two were not delivered one by one.
   */
  readonly resync?: WatchResync;
}

/** Why a watch re-read the current state instead of resuming (see WatchBatch.resync). */
export interface WatchResync {
  /** The revision the watch asked to resume at. */
  readonly requestedRevision: number;
  /** The oldest revision the server still had. */
  readonly oldestRevision: number;
}

const KINDS: Partial<Record<wire.WatchEventKind, WatchEventKind>> = {
  [wire.WatchEventKind.WATCH_EVENT_KIND_INITIAL]: 'initial',
  [wire.WatchEventKind.WATCH_EVENT_KIND_REGISTERED]: 'registered',
  [wire.WatchEventKind.WATCH_EVENT_KIND_SET]: 'set',
  [wire.WatchEventKind.WATCH_EVENT_KIND_DELETED]: 'deleted',
  [wire.WatchEventKind.WATCH_EVENT_KIND_ROLLED_BACK]: 'rolled_back',
  [wire.WatchEventKind.WATCH_EVENT_KIND_SESSION_CLOSED]: 'session_closed',
  [wire.WatchEventKind.WATCH_EVENT_KIND_SESSION_EXPIRED]: 'session_expired',
};

export function watchEventFromWire(e: wire.WatchEvent): WatchEvent {
  const kind = KINDS[e.kind];
  if (!kind) throw new TypeError(`varledger: unknown watch event kind ${e.kind} from the server`);
  const variable = e.variable ? variableFromWire(e.variable) : undefined;
  return {
    kind,
    name: variable?.name ?? '',
    variable,
    previousValue: fromWireValue(e.previousValue),
    previousVersion: Number(e.previousVersion),
    metadata: e.metadata,
    actor: e.actor,
    time: e.time,
    revision: Number(e.revision),
    commitId: Number(e.commitId),
  };
}
