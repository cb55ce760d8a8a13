/**
 * Snakepit's variable RPCs on the ledger service. Failures travel as gRPC
 * statuses from the one status table, with the native API's codes and
 * messages ("Variable not found: x", "Value 2 is above maximum 1"), as
 * Snakepit's own server raises them; SetVariables alone reports per-key
 * failures in its `errors` map (success=false only when an atomic batch was
 * refused).
 */
import type { Logger } from 'pino';
import {
  CommitRejectedError,
  DomainError,
  parseIdentifier,
  parseSessionId,
  parseVariableName,
  parseVersion,
  type Revision,
  type SessionId,
  type SetVariable,
  type VariableState,
} from '../domain/index.js';
import type { BridgeServiceServer, Variable } from '../gen/snakepit/bridge/snakepit_bridge.js';
import type { CommitResult, LedgerService } from '../service/ledger-service.js';
import { actorOf } from '../server/call-context.js';
import { decodeAny, type ValueEncoding } from './any-codec.js';
import { historyEntryToBridge, typeFromBridge, variableToBridge } from './bridge-wire.js';
import { unaryWith } from './bridge-unary.js';
import { constraintsFromJson } from './constraints-json.js';
import type { EncodingMemory } from './encoding-memory.js';

type VariableRpcs = Pick<
  BridgeServiceServer,
  | 'registerVariable'
  | 'getVariable'
  | 'setVariable'
  | 'getVariables'
  | 'setVariables'
  | 'listVariables'
  | 'deleteVariable'
  | 'getVariableHistory'
  | 'rollbackVariable'
>;

/** proto3 cannot tell 0 from "not sent": 0 means no expectation. */
const expectedVersion = (raw: number) => (raw === 0 ? undefined : parseVersion(raw));

/** Reads are of the current state (Snakepit has no time travel). */
const NOW = 0 as Revision;

export function bridgeVariableHandlers(service: LedgerService, encodings: EncodingMemory, logger: Logger): VariableRpcs {
  const unary = unaryWith(logger);
  const toBridge = (v: VariableState): Variable => variableToBridge(v, encodings);

  return {
    registerVariable: unary(async (req, call) => {
      const sessionId = parseSessionId(req.sessionId);
      const type = typeFromBridge(req.type);
      const decoded = decodeAny(req.initialValue, req.initialBinaryValue, 'initial_value');
      const variable = await service.register(
        {
          sessionId,
          name: parseVariableName(req.name),
          type,
          value: decoded.value,
          constraints: constraintsFromJson(req.constraintsJson),
          metadata: { ...req.metadata },
          description: '',
        },
        actorOf(call.metadata),
      );
      encodings.remember(sessionId, variable.id, decoded.encoding);
      return { success: true, variableId: variable.id, errorMessage: '' };
    }),

    getVariable: unary(async (req) => ({
      variable: toBridge(await service.getVariable(parseSessionId(req.sessionId), parseIdentifier(req.variableIdentifier), NOW)),
      fromCache: false,
    })),

    setVariable: unary(async (req, call) => {
      const sessionId = parseSessionId(req.sessionId);
      const decoded = decodeAny(req.value, req.binaryValue, 'value');
      const variable = await service.set(
        {
          sessionId,
          identifier: parseIdentifier(req.variableIdentifier),
          value: decoded.value,
          metadata: { ...req.metadata },
          expectedVersion: expectedVersion(req.expectedVersion),
        },
        actorOf(call.metadata),
      );
      encodings.remember(sessionId, variable.id, decoded.encoding);
      return { success: true, errorMessage: '', newVersion: variable.version };
    }),

    getVariables: unary(async (req) => {
      const identifiers = req.variableIdentifiers.map(parseIdentifier);
      const result = await service.getVariables(parseSessionId(req.sessionId), identifiers, NOW);
      const variables: { [identifier: string]: Variable } = {};
      for (const [identifier, variable] of result.found) variables[identifier] = toBridge(variable);
      return { variables, missingVariables: result.missing };
    }),

    setVariables: unary(async (req, call) => {
      const sessionId = parseSessionId(req.sessionId);
      const errors: { [key: string]: string } = {};
      const keys: string[] = [];
      const encodingsOf: ValueEncoding[] = [];
      const operations: SetVariable[] = [];
      // One copy for the whole batch: operations only read it.
      const metadata = { ...req.metadata };
      for (const [key, any] of Object.entries(req.updates)) {
        try {
          const decoded = decodeAny(any, req.binaryUpdates[key], `updates[${key}]`);
          operations.push({
            kind: 'set_variable',
            sessionId,
            identifier: parseIdentifier(key),
            value: decoded.value,
            metadata,
          });
          keys.push(key);
          encodingsOf.push(decoded.encoding);
        } catch (error) {
          if (!(error instanceof DomainError)) throw error;
          errors[key] = error.message;
        }
      }
      if (req.atomic && Object.keys(errors).length > 0) return { success: false, errors, newVersions: {} };

      let outcomes: CommitResult['outcomes'];
      try {
        outcomes = (await service.commit({ sessionId, operations, atomic: req.atomic }, actorOf(call.metadata))).outcomes;
      } catch (error) {
        if (!(error instanceof CommitRejectedError)) throw error;
        for (const failure of error.failures) errors[keys[failure.index] ?? failure.identifier] = failure.error.message;
        return { success: false, errors, newVersions: {} };
      }
      const newVersions: { [key: string]: number } = {};
      outcomes.forEach((outcome, i) => {
        const key = keys[i] as string;
        if (!outcome.ok) {
          errors[key] = outcome.error.message;
        } else if (outcome.variable) {
          newVersions[key] = outcome.variable.version;
          encodings.remember(sessionId, outcome.variable.id, encodingsOf[i] ?? 'json');
        }
      });
      // A non-atomic batch was processed even if some keys failed: Snakepit's
      // SessionContext.update_variables reads success=false as "nothing but
      // errors" and would drop the per-key results of the updates that passed.
      return { success: !req.atomic || Object.keys(errors).length === 0, errors, newVersions };
    }),

    listVariables: unary(async (req) => ({
      variables: (await service.listVariables(parseSessionId(req.sessionId), req.pattern, NOW)).variables.map(toBridge),
    })),

    deleteVariable: unary(async (req, call) => {
      const sessionId = parseSessionId(req.sessionId);
      const identifier = parseIdentifier(req.variableIdentifier);
      const variable = await service.getVariable(sessionId, identifier, NOW);
      await service.delete({ sessionId, identifier: variable.id, metadata: {} }, actorOf(call.metadata));
      encodings.forget(sessionId, variable.id);
      return { success: true, errorMessage: '' };
    }),

    getVariableHistory: unary(async (req) => {
      const sessionId: SessionId = parseSessionId(req.sessionId);
      const identifier = parseIdentifier(req.variableIdentifier);
      const variable = await service.getVariable(sessionId, identifier, NOW);
      const limit = req.limit < 0 ? 0 : req.limit;
      return { entries: (await service.history(sessionId, variable.id, limit, 0)).map((e) => historyEntryToBridge(variable.type, e)) };
    }),

    rollbackVariable: unary(async (req, call) => {
      const variable = await service.rollback(
        {
          sessionId: parseSessionId(req.sessionId),
          identifier: parseIdentifier(req.variableIdentifier),
          targetVersion: parseVersion(req.targetVersion),
          metadata: {},
        },
        actorOf(call.metadata),
      );
      return { success: true, variable: toBridge(variable), errorMessage: '' };
    }),
  };
}
