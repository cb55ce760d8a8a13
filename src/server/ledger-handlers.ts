/**
 * gRPC handlers of varledger.v1.Ledger: parse the request, call the ledger
 * service, translate the reply. Errors go through the status table only.
 */
import type { handleUnaryCall, ServerUnaryCall } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import {
  DomainError,
  parseIdentifier,
  parseRevision,
  parseSessionId,
  parseVariableName,
  parseVersion,
  type Metadata,
  type Operation,
  type SessionId,
} from '../domain/index.js';
import type { LedgerServer, LedgerService as LedgerDefinition, Operation as WireOperation } from '../gen/varledger/v1/ledger.js';
import type { LedgerService, SessionView } from '../service/ledger-service.js';
import { actorOf, callerMay } from './call-context.js';
import { checkUtf8 } from './service-definition.js';
import { statusName, toGrpcError } from './status-table.js';
import {
  constraintsFromWire,
  expectedVersionFromWire,
  historyEntryToWire,
  metadataFromWire,
  sessionToWire,
  typeFromWire,
  valueFromWire,
  variableToWire,
} from './wire.js';

const MAX_PAGE_SIZE = 1000;
const DEFAULT_PAGE_SIZE = 100;

/** Watch and tool methods have handlers of their own (watch-handler.ts, tool-handlers.ts, tool-serve-handler.ts). */
type OwnHandlers = 'watchVariables' | 'listTools' | 'executeTool' | 'executeStreamingTool' | 'serveTools';
type UnaryHandlers = { [K in Exclude<keyof typeof LedgerDefinition, OwnHandlers>]: LedgerServer[K] };

type Unary<Req, Res> = (request: Req, call: ServerUnaryCall<Req, Res>) => Res | Promise<Res>;

function operationFromWire(op: WireOperation, sessionId: SessionId, shared: Metadata, index: number): Operation {
  const kind = op.op;
  if (!kind) throw new DomainError('invalid_request', `operations[${index}] is empty: set register, set or delete`);
  switch (kind.$case) {
    case 'register': {
      const r = kind.register;
      return {
        kind: 'register_variable',
        sessionId,
        name: parseVariableName(r.name),
        type: typeFromWire(r.type),
        value: valueFromWire(r.initialValue, `operations[${index}].register.initial_value`),
        constraints: constraintsFromWire(r.constraints),
        metadata: { ...shared, ...metadataFromWire(r.metadata) },
        description: r.description,
      };
    }
    case 'set': {
      const s = kind.set;
      return {
        kind: 'set_variable',
        sessionId,
        identifier: parseIdentifier(s.identifier),
        value: valueFromWire(s.value, `operations[${index}].set.value`),
        metadata: { ...shared, ...metadataFromWire(s.metadata) },
        expectedVersion: expectedVersionFromWire(s.expectedVersion),
      };
    }
    case 'delete': {
      const d = kind.delete;
      return {
        kind: 'delete_variable',
        sessionId,
        identifier: parseIdentifier(d.identifier),
        metadata: { ...shared, ...metadataFromWire(d.metadata) },
        expectedVersion: expectedVersionFromWire(d.expectedVersion),
      };
    }
    default: {
      const exhaustive: never = kind;
      throw new DomainError('invalid_request', `Unknown operation ${JSON.stringify(exhaustive)}`);
    }
  }
}

/** The unary handlers; WatchVariables lives in watch-handler.ts. */
export function ledgerHandlers(service: LedgerService, logger: Logger): UnaryHandlers {
  // A plain function rather than an async one: a reply that is ready (or a
  // refusal thrown at once) is answered without another promise per call.
  const unary =
    <Req, Res>(handler: Unary<Req, Res>): handleUnaryCall<Req, Res> =>
    (call, callback) => {
      let reply: Res | Promise<Res>;
      try {
        checkUtf8(call.request as object);
        reply = handler(call.request, call);
      } catch (error) {
        callback(toGrpcError(error, logger));
        return;
      }
      if (!(reply instanceof Promise)) {
        callback(null, reply);
        return;
      }
      reply.then(
        (value) => callback(null, value),
        (error: unknown) => callback(toGrpcError(error, logger)),
      );
    };

  return {
    createSession: unary(async (req, call) =>
      sessionToWire(
        await service.createSession(
          {
            ...(req.sessionId !== '' && { sessionId: parseSessionId(req.sessionId) }),
            metadata: metadataFromWire(req.metadata),
            ttlSeconds: req.ttlSeconds,
          },
          actorOf(call.metadata),
        ),
      ),
    ),
    getSession: unary(async (req) => sessionToWire(await service.getSession(parseSessionId(req.sessionId)))),
    heartbeat: unary(async (req) => sessionToWire(await service.heartbeat(parseSessionId(req.sessionId)))),
    closeSession: unary(async (req, call) => sessionToWire(await service.closeSession(parseSessionId(req.sessionId), actorOf(call.metadata)))),
    listSessions: unary(async (req, call) => {
      const pageSize = req.pageSize === 0 ? DEFAULT_PAGE_SIZE : Math.min(req.pageSize, MAX_PAGE_SIZE);
      // Only the sessions the caller may read; pages fill up past the hidden ones.
      const sessions: SessionView[] = [];
      let pageToken = req.pageToken;
      do {
        const page = await service.listSessions(pageSize - sessions.length, pageToken);
        for (const view of page.sessions) if (callerMay(call.metadata, 'read', view.session.id)) sessions.push(view);
        pageToken = page.nextPageToken;
      } while (pageToken !== '' && sessions.length < pageSize);
      const last = sessions[sessions.length - 1];
      return { sessions: sessions.map(sessionToWire), nextPageToken: pageToken !== '' && last ? last.session.id : '' };
    }),

    registerVariable: unary(async (req, call) =>
      variableToWire(
        await service.register(
          {
            sessionId: parseSessionId(req.sessionId),
            name: parseVariableName(req.name),
            type: typeFromWire(req.type),
            value: valueFromWire(req.initialValue, 'initial_value'),
            constraints: constraintsFromWire(req.constraints),
            metadata: metadataFromWire(req.metadata),
            description: req.description,
          },
          actorOf(call.metadata),
        ),
      ),
    ),
    getVariable: unary(async (req) =>
      variableToWire(
        await service.getVariable(parseSessionId(req.sessionId), parseIdentifier(req.identifier), parseRevision(req.atRevision)),
      ),
    ),
    getVariables: unary(async (req) => {
      const identifiers = req.identifiers.map(parseIdentifier);
      const result = await service.getVariables(parseSessionId(req.sessionId), identifiers, parseRevision(req.atRevision));
      const variables: Record<string, ReturnType<typeof variableToWire>> = {};
      for (const [identifier, variable] of result.found) variables[identifier] = variableToWire(variable);
      return { variables, missing: result.missing, revision: BigInt(result.revision) };
    }),
    listVariables: unary(async (req) => {
      const result = await service.listVariables(parseSessionId(req.sessionId), req.pattern, parseRevision(req.atRevision));
      return { variables: result.variables.map(variableToWire), revision: BigInt(result.revision) };
    }),
    setVariable: unary(async (req, call) =>
      variableToWire(
        await service.set(
          {
            sessionId: parseSessionId(req.sessionId),
            identifier: parseIdentifier(req.identifier),
            value: valueFromWire(req.value, 'value'),
            metadata: metadataFromWire(req.metadata),
            expectedVersion: expectedVersionFromWire(req.expectedVersion),
          },
          actorOf(call.metadata),
        ),
      ),
    ),
    deleteVariable: unary(async (req, call) => {
      const revision = await service.delete(
        {
          sessionId: parseSessionId(req.sessionId),
          identifier: parseIdentifier(req.identifier),
          metadata: metadataFromWire(req.metadata),
          expectedVersion: expectedVersionFromWire(req.expectedVersion),
        },
        actorOf(call.metadata),
      );
      return { revision: BigInt(revision) };
    }),
    getHistory: unary(async (req) => ({
      entries: (
        await service.history(parseSessionId(req.sessionId), parseIdentifier(req.identifier), req.limit, Number(parseVersion(req.beforeVersion)))
      ).map(historyEntryToWire),
    })),
    rollbackVariable: unary(async (req, call) =>
      variableToWire(
        await service.rollback(
          {
            sessionId: parseSessionId(req.sessionId),
            identifier: parseIdentifier(req.identifier),
            targetVersion: parseVersion(req.targetVersion),
            metadata: metadataFromWire(req.metadata),
            expectedVersion: expectedVersionFromWire(req.expectedVersion),
          },
          actorOf(call.metadata),
        ),
      ),
    ),
    getDigest: unary(async () => {
      const digest = await service.digest();
      return { revision: BigInt(digest.revision), hash: digest.hash };
    }),
    commit: unary(async (req, call) => {
      const sessionId = parseSessionId(req.sessionId);
      const shared = metadataFromWire(req.metadata);
      const operations = req.operations.map((op, i) => operationFromWire(op, sessionId, shared, i));
      const result = await service.commit({ sessionId, operations, atomic: req.atomic }, actorOf(call.metadata));
      return {
        revision: BigInt(result.revision),
        results: result.outcomes.map((outcome, index) =>
          outcome.ok
            ? { index, ok: true, variable: outcome.variable && variableToWire(outcome.variable), errorCode: '', error: '' }
            : { index, ok: false, variable: undefined, errorCode: statusName(outcome.error.code), error: outcome.error.message },
        ),
      };
    }),
  };
}
