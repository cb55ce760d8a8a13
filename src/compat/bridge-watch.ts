/**
 * WatchVariables for Snakepit clients: the same watch hub machinery as the
 * native API (live when synced, catch-up from the log when behind), with an
 * encoder that turns each change into one VariableUpdate message.
 *
 * The hub queues one byte buffer per commit; a commit may touch several
 * variables, so the buffer holds length-prefixed VariableUpdate messages
 * and the sink writes each as its own stream message.
 */
import type { handleServerStreamingCall } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { parseIdentifier, parseSessionId, type Revision } from '../domain/index.js';
import { VariableUpdate, type WatchVariablesRequest } from '../gen/snakepit/bridge/snakepit_bridge.js';
import type { LedgerService } from '../service/ledger-service.js';
import { serveWatch } from '../server/watch-stream.js';
import { initialChanges, type Change, type ChangeKind } from '../watch/changes.js';
import { makeFilter } from '../watch/watch-filter.js';
import type { WatchHub } from '../watch/watch-hub.js';
import { checkBridgeUtf8 } from './bridge-definition.js';
import { variableToBridge } from './bridge-wire.js';
import type { EncodingMemory } from './encoding-memory.js';

/** Snakepit's `update_type` for each change; session events end the stream instead. */
const UPDATE_TYPE: Readonly<Record<ChangeKind, string | undefined>> = {
  initial: 'initial_value',
  registered: 'registered',
  set: 'value_change',
  rolled_back: 'rolled_back',
  deleted: 'deleted',
  session_closed: undefined,
  session_expired: undefined,
};

const LENGTH_BYTES = 4;

function frame(messages: readonly Uint8Array[]): Uint8Array {
  const out = Buffer.allocUnsafe(messages.reduce((n, m) => n + LENGTH_BYTES + m.length, 0));
  let offset = 0;
  for (const m of messages) {
    out.writeUInt32BE(m.length, offset);
    out.set(m, offset + LENGTH_BYTES);
    offset += LENGTH_BYTES + m.length;
  }
  return out;
}

/** Splits a framed buffer back into its messages. */
export function unframe(bytes: Uint8Array): Buffer[] {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const messages: Buffer[] = [];
  let offset = 0;
  while (offset < buffer.length) {
    const length = buffer.readUInt32BE(offset);
    messages.push(buffer.subarray(offset + LENGTH_BYTES, offset + LENGTH_BYTES + length));
    offset += LENGTH_BYTES + length;
  }
  return messages;
}

/** The hub's encoder: a commit's changes as framed VariableUpdate messages (none for progress). */
export function bridgeWatchEncoder(encodings: EncodingMemory) {
  return (_revision: Revision, changes: readonly Change[]): Uint8Array => {
    const messages: Uint8Array[] = [];
    for (const change of changes) {
      const updateType = UPDATE_TYPE[change.kind];
      if (!updateType || !change.variable) continue;
      const update: VariableUpdate = {
        variableId: change.variable.id,
        variable: variableToBridge(change.variable, encodings),
        updateSource: change.actor,
        updateMetadata: { ...change.metadata },
        timestamp: new Date(change.time),
        updateType,
      };
      messages.push(VariableUpdate.encode(update).finish());
    }
    return frame(messages);
  };
}

export function bridgeWatchHandler(
  service: LedgerService,
  hub: WatchHub,
  logger: Logger,
): handleServerStreamingCall<WatchVariablesRequest, VariableUpdate> {
  // The hub hands over length-prefixed batches: one VariableUpdate per change.
  const writeFramed = (call: { write(message: VariableUpdate): boolean }) => (bytes: Uint8Array) => {
    let ok = true;
    for (const message of unframe(bytes)) ok = call.write(message as unknown as VariableUpdate);
    return ok;
  };
  return (call) =>
    serveWatch(
      call,
      logger,
      (sink) => {
        const request = call.request;
        checkBridgeUtf8(request);
        const sessionId = parseSessionId(request.sessionId);
        const identifiers = request.variableIdentifiers.map(parseIdentifier);
        const matches = makeFilter({ identifiers, pattern: '' });
        const session = service.liveSession(sessionId);
        const position = service.head;
        const initial = request.includeInitialValues ? initialChanges(session, matches) : undefined;
        return hub.subscribe({ sessionId, matches, sink, position, ...(initial && { initial }) });
      },
      writeFramed(call),
    );
}
