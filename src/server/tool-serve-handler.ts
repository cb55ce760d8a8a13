/**
 * ServeTools: a worker's bidirectional stream. The worker declares tools
 * (each declaration acknowledged with ToolsDeclared), then answers the
 * invocations the server sends with results, chunks or errors. When the
 * stream ends or breaks, the worker's tools leave the registry and its open
 * calls fail UNAVAILABLE.
 */
import { status, type handleBidiStreamingCall } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { DomainError } from '../domain/index.js';
import type { ServeToolsRequest, ServeToolsResponse } from '../gen/varledger/v1/ledger.js';
import { fromJsonText, parametersToJson } from '../tools/tool-json.js';
import type { LedgerToolHub } from '../tools/tool-hub.js';
import type { WorkerOutbound } from '../tools/worker-host.js';
import { checkUtf8 } from './service-definition.js';
import { toGrpcError } from './status-table.js';
import { toolSpecFromWire } from './tool-wire.js';

function outboundToWire(message: WorkerOutbound): ServeToolsResponse {
  switch (message.kind) {
    case 'invocation': {
      const inv = message.invocation;
      return {
        msg: {
          $case: 'invocation',
          invocation: {
            callId: inv.callId,
            sessionId: inv.sessionId,
            toolName: inv.toolName,
            parameters: parametersToJson(inv.parameters),
            actor: inv.actor,
            deadline: new Date(inv.deadline),
            streaming: message.streaming,
            metadata: inv.metadata,
          },
        },
      };
    }
    case 'cancellation':
      return { msg: { $case: 'cancellation', cancellation: { callId: message.callId, reason: message.reason } } };
    default: {
      const exhaustive: never = message;
      throw new Error(`unhandled message ${JSON.stringify(exhaustive)}`);
    }
  }
}

export function serveToolsHandler(hub: LedgerToolHub, logger: Logger): handleBidiStreamingCall<ServeToolsRequest, ServeToolsResponse> {
  return (call) => {
    let open = true;
    const send = (message: WorkerOutbound) => {
      if (open) call.write(outboundToWire(message));
    };
    let worker: ReturnType<LedgerToolHub['connectWorker']> | undefined;
    /** Ends the worker's session with the server, once. */
    const finish = (reason: string) => {
      if (!open) return false;
      open = false;
      worker?.disconnect(reason);
      logger.info({ worker: worker?.host.workerId, reason }, 'tool worker disconnected');
      return true;
    };
    /** A protocol error: the worker gets the status and its tools go. */
    const fail = (error: unknown) => {
      if (finish('protocol error')) call.emit('error', toGrpcError(error, logger));
    };
    const end = (reason: string) => {
      if (finish(reason)) call.emit('error', { code: status.UNAVAILABLE, details: reason });
    };

    call.on('data', (request: ServeToolsRequest) => {
      if (!open) return;
      try {
        checkUtf8(request);
        const msg = request.msg;
        if (!msg) throw new DomainError('invalid_request', 'Empty ServeTools message: set declare, result, chunk or error');
        if (msg.$case === 'declare') {
          const declare = msg.declare;
          if (worker && declare.workerId !== '' && declare.workerId !== worker.host.workerId) {
            throw new DomainError('invalid_request', `This stream serves worker ${worker.host.workerId}, not ${declare.workerId}`);
          }
          worker ??= hub.connectWorker(declare.workerId, send, end);
          const names = worker.declare(declare.sessionId, declare.tools.map(toolSpecFromWire));
          logger.info({ worker: worker.host.workerId, session: declare.sessionId || undefined, tools: names }, 'tool worker declared tools');
          call.write({ msg: { $case: 'declared', declared: { workerId: worker.host.workerId, tools: names } } });
          return;
        }
        if (!worker) throw new DomainError('invalid_request', 'Declare tools before answering calls');
        switch (msg.$case) {
          case 'result':
            worker.host.result(msg.result.callId, fromJsonText(msg.result.resultJson, 'result_json') ?? null);
            return;
          case 'chunk':
            worker.host.chunk(msg.chunk.callId, fromJsonText(msg.chunk.dataJson, 'data_json'), msg.chunk.isFinal);
            return;
          case 'error':
            worker.host.error(msg.error.callId, msg.error.type, msg.error.message);
            return;
          default: {
            const exhaustive: never = msg;
            throw new Error(`unhandled message ${JSON.stringify(exhaustive)}`);
          }
        }
      } catch (error) {
        fail(error);
      }
    });
    // The worker half-closed: it serves no more calls, so end our side too.
    call.on('end', () => {
      if (finish('the worker closed its stream')) call.end();
    });
    call.on('cancelled', () => finish('the worker went away'));
    call.on('error', () => finish('the worker stream broke'));
    call.on('close', () => finish('the worker stream closed'));
  };
}
