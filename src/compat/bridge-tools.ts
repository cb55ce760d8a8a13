/**
 * Snakepit's tool RPCs on varledger's tool hub (src/tools): the same tools,
 * calls and log events as the native ExecuteTool / ListTools.
 *
 * Errors, chosen for Snakepit's Python clients (BridgeClient.execute_tool and
 * SessionContext.call_elixir_tool raise on `success=false` and on a gRPC
 * error alike):
 *  - a bad request is a gRPC status from the one status table, as everywhere
 *    on the bridge: bad session id / tool name / parameter → INVALID_ARGUMENT
 *    naming the parameter; unknown session or tool → NOT_FOUND; ended session
 *    → FAILED_PRECONDITION;
 *  - the tool's own failure (its handler threw, its deadline passed, its
 *    worker went away, its result is not JSON) is `success=false` with the
 *    tool's message in `error_message` and its type in `metadata.error_type`,
 *    as Snakepit's servers answer;
 *  - ExecuteStreamingTool has no `success` field: every failure ends the
 *    stream with a status from the table (a tool failure is UNKNOWN with the
 *    `varledger-tool-error-bin` trailer), as Snakepit's worker aborts its
 *    stream.
 */
import { type handleServerStreamingCall, type handleUnaryCall, type ServerUnaryCall, type ServerWritableStream } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { DomainError, parseSessionId, requireActive, ToolFailedError, type ErrorCode, type SessionId } from '../domain/index.js';
import type {
  BridgeServiceServer,
  ExecuteElixirToolResponse,
  ExecuteToolRequest,
  ExecuteToolResponse,
  ToolChunk as BridgeToolChunk,
} from '../gen/snakepit/bridge/snakepit_bridge.js';
import type { Any } from '../gen/google/protobuf/any.js';
import type { LedgerService } from '../service/ledger-service.js';
import { identityOf } from '../server/call-context.js';
import { toGrpcError } from '../server/status-table.js';
import type { ToolCall, ToolHub, ToolSpec } from '../tools/tool-types.js';
import { checkBridgeUtf8 } from './bridge-definition.js';
import { BridgeToolRegistry, toolSpecToBridge, type RegisteredTool } from './bridge-tools-specs.js';
import { decodeToolParameters, resultAny, toolJson, UnencodableResultError } from './bridge-tools-values.js';

type ToolRpcs = Pick<
  BridgeServiceServer,
  'executeTool' | 'executeStreamingTool' | 'registerTools' | 'getExposedElixirTools' | 'executeElixirTool'
>;

/** Without a hub (no tools loaded) there are no tools to list or run. */
const NO_TOOLS: ToolHub = {
  list: () => [],
  execute: (call) => Promise.reject(new DomainError('not_found', `Tool not found: ${call.toolName}`)),
  executeStreaming: (call) => ({
    [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(new DomainError('not_found', `Tool not found: ${call.toolName}`)) }),
  }),
};

/** Failures that belong to the tool rather than the request: `success=false`, not a status. */
const TOOL_SIDE: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['tool_failed', 'deadline_exceeded', 'unavailable']);

interface ToolFailure {
  readonly message: string;
  readonly type: string;
}

function toolFailureOf(error: unknown): ToolFailure | undefined {
  if (error instanceof ToolFailedError) return { message: error.message, type: error.errorType };
  if (error instanceof DomainError && TOOL_SIDE.has(error.code)) return { message: error.message, type: error.code };
  if (error instanceof UnencodableResultError) {
    return { message: `The tool's result cannot be sent as JSON: ${error.message}`, type: 'unencodable_result' };
  }
  return undefined;
}

/** What executing a tool declared only through RegisterTools does: explain, since nobody can run it. */
const notHosted = (tool: RegisteredTool) =>
  new DomainError(
    'unavailable',
    `Tool ${tool.spec.name} was declared by worker ${JSON.stringify(tool.workerId)} with RegisterTools, ` +
      'but varledger cannot call back into Snakepit workers; host it over varledger.v1.Ledger/ServeTools to make it callable',
  );

const elapsedMs = (start: number) => BigInt(Math.max(0, Math.round(performance.now() - start)));

export interface BridgeToolsOptions {
  readonly service: LedgerService;
  readonly hub?: ToolHub | undefined;
  readonly logger: Logger;
  readonly registry?: BridgeToolRegistry;
}

export function bridgeToolHandlers(options: BridgeToolsOptions): ToolRpcs {
  const { service, logger } = options;
  const hub = options.hub ?? NO_TOOLS;
  const registry = options.registry ?? new BridgeToolRegistry();

  const asyncUnary =
    <Req, Res>(handler: (request: Req, call: ServerUnaryCall<Req, Res>) => Promise<Res>): handleUnaryCall<Req, Res> =>
    (call, callback) => {
      (async () => {
        checkBridgeUtf8(call.request as object);
        return handler(call.request, call);
      })().then(
        (reply) => callback(null, reply),
        (error: unknown) => callback(toGrpcError(error, logger)),
      );
    };

  /** Validates the request and builds the hub call; throws request errors. */
  const toolCall = async (
    request: { sessionId: string; toolName: string; parameters: { [key: string]: Any }; metadata: { [key: string]: string } },
    binary: { [key: string]: Buffer },
    call: ServerUnaryCall<unknown, unknown> | ServerWritableStream<unknown, unknown>,
    signal: AbortSignal,
  ): Promise<ToolCall & { sessionId: SessionId }> => {
    const sessionId = parseSessionId(request.sessionId);
    if (request.toolName === '') throw new DomainError('invalid_request', 'tool_name is required');
    // Session errors before parameter errors; the hub's own check expires an idle session.
    // An ended session is looked up (it is not held in memory) only to be refused as closed, not as missing.
    requireActive(service.peekSession(sessionId) ?? (await service.findSession(sessionId)), sessionId);
    const parameters = decodeToolParameters(request.parameters, binary);
    const identity = identityOf(call.metadata);
    const deadline = call.getDeadline();
    const deadlineMs = deadline instanceof Date ? deadline.getTime() : deadline;
    return {
      sessionId,
      toolName: request.toolName,
      parameters,
      actor: identity.actor,
      ...(identity.principal && { principal: identity.principal.name }),
      metadata: { ...request.metadata },
      ...(Number.isFinite(deadlineMs) && { deadline: deadlineMs }),
      signal,
    };
  };

  const abortOnCancel = (call: { on(event: 'cancelled', listener: () => void): unknown }): AbortController => {
    const controller = new AbortController();
    call.on('cancelled', () => controller.abort(new DomainError('cancelled', 'The caller cancelled the call')));
    return controller;
  };

  /** Runs a unary tool call; tool-side failures become `success=false`. */
  const run = async (toolCallOf: ToolCall, check?: (spec: ToolSpec | undefined) => void): Promise<ExecuteToolResponse> => {
    const start = performance.now();
    try {
      if (check) check(hub.list(toolCallOf.sessionId).find((t) => t.name === toolCallOf.toolName));
      let result;
      try {
        result = await hub.execute(toolCallOf);
      } catch (error) {
        const declared = registry.get(toolCallOf.sessionId as SessionId, toolCallOf.toolName);
        if (declared && error instanceof DomainError && error.code === 'not_found') throw notHosted(declared);
        throw error;
      }
      const durationMs = Math.max(0, Math.round(result.durationMs));
      return {
        success: true,
        result: resultAny(result.result),
        errorMessage: '',
        metadata: { execution_time: String(durationMs) },
        executionTimeMs: BigInt(durationMs),
      };
    } catch (error) {
      const failure = toolFailureOf(error);
      if (!failure) throw error;
      return {
        success: false,
        result: undefined,
        errorMessage: failure.message,
        metadata: { error_type: failure.type },
        executionTimeMs: elapsedMs(start),
      };
    }
  };

  const streamTool: handleServerStreamingCall<ExecuteToolRequest, BridgeToolChunk> = (call) => {
    const controller = abortOnCancel(call);
    const waitForDrain = () =>
      new Promise<void>((resolve) => {
        const done = () => {
          call.off('drain', done);
          call.off('cancelled', done);
          resolve();
        };
        call.on('drain', done);
        call.on('cancelled', done);
      });
    void (async () => {
      let request: ToolCall | undefined;
      try {
        checkBridgeUtf8(call.request);
        request = await toolCall(call.request, call.request.binaryParameters, call, controller.signal);
        let count = 0;
        let ended = false;
        const write = async (data: Buffer, isFinal: boolean) => {
          count += 1;
          const ok = call.write({ chunkId: `${call.request.toolName}-${count}`, data, isFinal, metadata: {} });
          if (!ok && !isFinal) await waitForDrain();
        };
        for await (const chunk of hub.executeStreaming(request)) {
          if (controller.signal.aborted) return;
          // A data-less final chunk is a pure end-of-stream marker: empty bytes, as Snakepit's worker sends.
          const data = chunk.isFinal && chunk.data === undefined ? Buffer.alloc(0) : Buffer.from(toolJson(chunk.data), 'utf8');
          await write(data, chunk.isFinal);
          if (chunk.isFinal) {
            ended = true;
            break;
          }
        }
        if (controller.signal.aborted) return;
        // The tool stopped without marking a chunk final: an empty end-of-stream marker, as Snakepit's worker sends.
        if (!ended) await write(Buffer.alloc(0), true);
        call.end();
      } catch (error) {
        if (controller.signal.aborted) return;
        let reported = error;
        const declared = request && registry.get(request.sessionId as SessionId, request.toolName);
        if (declared && error instanceof DomainError && error.code === 'not_found') reported = notHosted(declared);
        if (error instanceof UnencodableResultError) {
          reported = new ToolFailedError('unencodable_result', `The tool's chunk cannot be sent as JSON: ${error.message}`);
        }
        call.emit('error', toGrpcError(reported, logger));
      }
    })();
  };

  return {
    getExposedElixirTools: asyncUnary(async (req) => {
      const sessionId = req.sessionId === '' ? undefined : parseSessionId(req.sessionId);
      return { tools: hub.list(sessionId).filter((t) => t.host === 'server').map(toolSpecToBridge) };
    }),

    executeTool: asyncUnary(async (req, call) => {
      const controller = abortOnCancel(call);
      return run(await toolCall(req, req.binaryParameters, call, controller.signal));
    }),

    executeElixirTool: asyncUnary(async (req, call): Promise<ExecuteElixirToolResponse> => {
      const controller = abortOnCancel(call);
      return run(await toolCall(req, {}, call, controller.signal), (spec) => {
        if (spec && spec.host !== 'server') {
          throw new DomainError(
            'invalid_request',
            `Tool ${spec.name} is hosted by ${spec.host}, not the server; call it with ExecuteTool`,
          );
        }
      });
    }),

    executeStreamingTool: streamTool,

    registerTools: asyncUnary(async (req) => {
      const sessionId = parseSessionId(req.sessionId);
      await service.liveSession(sessionId);
      registry.prune((id) => service.peekSession(id)?.status === 'active');
      const toolIds = registry.register(sessionId, req.workerId, req.tools);
      return { success: true, toolIds, errorMessage: '' };
    }),
  };
}
