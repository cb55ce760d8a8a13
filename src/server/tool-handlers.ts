/**
 * ListTools, ExecuteTool and ExecuteStreamingTool: parse, hand to the tool
 * hub, translate. The call's gRPC deadline becomes the tool's; a cancelled
 * call aborts the tool's signal. Errors go through the status table only.
 */
import type { Deadline, handleServerStreamingCall, handleUnaryCall, Metadata } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { DomainError, parseSessionId } from '../domain/index.js';
import type { ExecuteToolRequest, ExecuteToolResponse, ListToolsRequest, ListToolsResponse, ToolChunk } from '../gen/varledger/v1/ledger.js';
import { parametersFromJson, toJsonText } from '../tools/tool-json.js';
import type { ToolCall, ToolHub } from '../tools/tool-types.js';
import { identityOf } from './call-context.js';
import { checkUtf8 } from './service-definition.js';
import { toGrpcError } from './status-table.js';
import { toolSpecToWire } from './tool-wire.js';
import { metadataFromWire } from './wire.js';

/** What a unary or server-streaming call offers that a tool call needs. */
interface CallSurface {
  readonly metadata: Metadata;
  getDeadline(): Deadline;
  on(event: 'cancelled', listener: () => void): unknown;
}

/** The hub's call for a request, with the gRPC call's deadline and cancellation. */
function toolCall(request: ExecuteToolRequest, call: CallSurface): ToolCall {
  checkUtf8(request);
  if (request.toolName === '') throw new DomainError('invalid_request', 'tool_name is required');
  const identity = identityOf(call.metadata);
  const controller = new AbortController();
  call.on('cancelled', () => controller.abort());
  const raw = call.getDeadline();
  const deadline = raw instanceof Date ? raw.getTime() : raw;
  return {
    sessionId: parseSessionId(request.sessionId),
    toolName: request.toolName,
    parameters: parametersFromJson(request.parameters),
    actor: identity.actor,
    ...(identity.principal && { principal: identity.principal.name }),
    metadata: metadataFromWire(request.metadata),
    ...(Number.isFinite(deadline) && { deadline }),
    signal: controller.signal,
  };
}

export interface ToolHandlers {
  listTools: handleUnaryCall<ListToolsRequest, ListToolsResponse>;
  executeTool: handleUnaryCall<ExecuteToolRequest, ExecuteToolResponse>;
  executeStreamingTool: handleServerStreamingCall<ExecuteToolRequest, ToolChunk>;
}

export function toolHandlers(hub: ToolHub, logger: Logger): ToolHandlers {
  return {
    listTools: (call, callback) => {
      try {
        checkUtf8(call.request);
        const sessionId = call.request.sessionId === '' ? undefined : parseSessionId(call.request.sessionId);
        callback(null, { tools: hub.list(sessionId).map(toolSpecToWire) });
      } catch (error) {
        callback(toGrpcError(error, logger));
      }
    },
    executeTool: (call, callback) => {
      void (async () => {
        try {
          const { result, durationMs } = await hub.execute(toolCall(call.request, call));
          callback(null, { resultJson: toJsonText(result), durationMs: BigInt(durationMs) });
        } catch (error) {
          callback(toGrpcError(error, logger));
        }
      })();
    },
    executeStreamingTool: (call) => {
      void (async () => {
        try {
          for await (const chunk of hub.executeStreaming(toolCall(call.request, call))) {
            const message: ToolChunk = { dataJson: chunk.data === undefined ? '' : toJsonText(chunk.data), isFinal: chunk.isFinal };
            // Respect flow control: a slow reader slows the tool, not the server's memory.
            if (!call.write(message)) {
              await new Promise<void>((resolve) => {
                // Whichever fires first, drop both: one pair per wait, none left behind.
                const done = () => {
                  call.off('drain', done);
                  call.off('cancelled', done);
                  resolve();
                };
                call.on('drain', done);
                call.on('cancelled', done);
              });
            }
            if (call.cancelled) return;
          }
          call.end();
        } catch (error) {
          if (!call.cancelled) call.emit('error', toGrpcError(error, logger));
        }
      })();
    },
  };
}
