/**
 * WatchVariables for Snakepit clients: the same watch hub machinery as the
 * native API (live when synced, catch-up from the log when behind), with an
 * encoder that turns each change into one VariableUpdate message.
 *
 * The hub queues one byte buffer per commit; a commit may touch several
 * variables, so the buffer holds length-prefixed VariableUpdate messages
 * and the sink writes each as its own stream message.
 */
import type { handleServerStreamingCall, ServerWritableStream } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { DomainError, parseIdentifier, parseSessionId, requireActive, type ErrorCode, type Revision } from '../domain/index.js';
import { VariableUpdate, type WatchVariablesRequest } from '../gen/snakepit/bridge/snakepit_bridge.js';
import type { LedgerService } from '../service/ledger-service.js';
import { toGrpcError } from '../server/status-table.js';
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
/**
 * A length no message has: the frame after it says why a change could not be
 * encoded. The stream must end there with that error — skipping the change
 * would break "a watcher sees every event".
 */
const FAILED = 0xffffffff;

/** A change the encoder could not turn into a VariableUpdate. */
export interface EncodeFailure {
  readonly code: ErrorCode | undefined;
  readonly message: string;
}

function frame(parts: readonly (Uint8Array | EncodeFailure)[]): Uint8Array {
  const chunks: Uint8Array[] = [];
  for (const part of parts) {
    const head = Buffer.allocUnsafe(LENGTH_BYTES);
    if (part instanceof Uint8Array) {
      head.writeUInt32BE(part.length);
      chunks.push(head, part);
    } else {
      head.writeUInt32BE(FAILED);
      const body = Buffer.from(JSON.stringify(part));
      const length = Buffer.allocUnsafe(LENGTH_BYTES);
      length.writeUInt32BE(body.length);
      chunks.push(head, length, body);
    }
  }
  return Buffer.concat(chunks);
}

/** Splits a framed buffer back into its messages; a failure ends the list. */
export function unframe(bytes: Uint8Array): (Buffer | EncodeFailure)[] {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const messages: (Buffer | EncodeFailure)[] = [];
  let offset = 0;
  while (offset < buffer.length) {
    const length = buffer.readUInt32BE(offset);
    if (length === FAILED) {
      const bodyLength = buffer.readUInt32BE(offset + LENGTH_BYTES);
      const start = offset + 2 * LENGTH_BYTES;
      messages.push(JSON.parse(buffer.subarray(start, start + bodyLength).toString()) as EncodeFailure);
      return messages;
    }
    messages.push(buffer.subarray(offset + LENGTH_BYTES, offset + LENGTH_BYTES + length));
    offset += LENGTH_BYTES + length;
  }
  return messages;
}

function failure(change: Change, revision: Revision, error: unknown): EncodeFailure {
  const reason = error instanceof Error ? error.message : String(error);
  return {
    code: error instanceof DomainError ? error.code : undefined,
    message: `Variable ${JSON.stringify(change.variable?.name)} at revision ${revision} cannot be sent as a Snakepit VariableUpdate (${reason}); this watch ends here so that no change is skipped`,
  };
}

/**
 * The hub's encoder: a commit's changes as framed VariableUpdate messages
 * (none for progress). Never throws: a change it cannot encode becomes a
 * failure frame, which ends the stream with an error after the changes
 * before it.
 */
export function bridgeWatchEncoder(encodings: EncodingMemory) {
  return (revision: Revision, changes: readonly Change[]): Uint8Array => {
    const parts: (Uint8Array | EncodeFailure)[] = [];
    for (const change of changes) {
      const updateType = UPDATE_TYPE[change.kind];
      if (!updateType || !change.variable) continue;
      try {
        const update: VariableUpdate = {
          variableId: change.variable.id,
          variable: variableToBridge(change.variable, encodings),
          updateSource: change.actor,
          updateMetadata: { ...change.metadata },
          timestamp: new Date(change.time),
          updateType,
        };
        parts.push(VariableUpdate.encode(update).finish());
      } catch (error) {
        parts.push(failure(change, revision, error));
        break;
      }
    }
    return frame(parts);
  };
}

export function bridgeWatchHandler(
  service: LedgerService,
  hub: WatchHub,
  logger: Logger,
): handleServerStreamingCall<WatchVariablesRequest, VariableUpdate> {
  // The hub hands over length-prefixed batches: one VariableUpdate per change,
  // or a failure that ends the stream (the watcher is released on 'error').
  const writeFramed = (call: ServerWritableStream<WatchVariablesRequest, VariableUpdate>) => (bytes: Uint8Array) => {
    let ok = true;
    for (const part of unframe(bytes)) {
      if (!(part instanceof Uint8Array)) {
        const error = part.code ? new DomainError(part.code, part.message) : new Error(part.message);
        call.emit('error', toGrpcError(error, logger));
        return true;
      }
      ok = call.write(part as unknown as VariableUpdate);
    }
    return ok;
  };
  return (call) =>
    serveWatch(
      call,
      logger,
      async (sink) => {
        const request = call.request;
        checkBridgeUtf8(request);
        const sessionId = parseSessionId(request.sessionId);
        const identifiers = request.variableIdentifiers.map(parseIdentifier);
        const matches = makeFilter({ identifiers, pattern: '' });
        await service.liveSession(sessionId);
        // Read together, in one turn: the session as of `position`, nothing applied in between.
        const session = requireActive(service.peekSession(sessionId), sessionId);
        const position = service.head;
        const initial = request.includeInitialValues ? initialChanges(session, matches) : undefined;
        return hub.subscribe({ sessionId, matches, sink, position, ...(initial && { initial }) });
      },
      writeFramed(call),
    );
}
