/** Encoding of watch changes as WatchResponse messages. */
import { WatchEventKind, WatchResponse, type WatchEvent } from '../gen/varledger/v1/ledger.js';
import type { Revision } from '../domain/index.js';
import type { Change, ChangeKind } from '../watch/changes.js';
import { valueToWire, variableToWire } from './wire.js';

const KIND_TO_WIRE: Readonly<Record<ChangeKind, WatchEventKind>> = {
  initial: WatchEventKind.WATCH_EVENT_KIND_INITIAL,
  registered: WatchEventKind.WATCH_EVENT_KIND_REGISTERED,
  set: WatchEventKind.WATCH_EVENT_KIND_SET,
  rolled_back: WatchEventKind.WATCH_EVENT_KIND_ROLLED_BACK,
  deleted: WatchEventKind.WATCH_EVENT_KIND_DELETED,
  session_closed: WatchEventKind.WATCH_EVENT_KIND_SESSION_CLOSED,
  session_expired: WatchEventKind.WATCH_EVENT_KIND_SESSION_EXPIRED,
};

function changeToWire(change: Change): WatchEvent {
  const hasPrevious = change.previous !== undefined && change.kind !== 'initial' && change.kind !== 'registered';
  return {
    kind: KIND_TO_WIRE[change.kind],
    variable: change.variable && variableToWire(change.variable),
    previousValue: hasPrevious ? valueToWire(change.previous!.value) : undefined,
    metadata: { ...change.metadata },
    actor: change.actor,
    time: new Date(change.time),
    revision: BigInt(change.revision),
    previousVersion: hasPrevious ? BigInt(change.previous!.version) : 0n,
    commitId: BigInt(change.commitId),
  };
}

/** One encoding per message, shared by every watcher that receives it. */
export function encodeWatchResponse(revision: Revision, changes: readonly Change[]): Uint8Array {
  return WatchResponse.encode({ events: changes.map(changeToWire), revision: BigInt(revision) }).finish();
}
