/**
 * Snakepit's session RPCs on varledger sessions. InitializeSession is
 * idempotent for a live session (workers call it on every start);
 * CleanupSession closes the session and is idempotent too; Heartbeat answers
 * `session_valid=false` rather than an error for an unknown or ended session.
 */
import type { Logger } from 'pino';
import { DomainError, parseSessionId, requireActive, variableCount, type SessionId } from '../domain/index.js';
import type { BridgeServiceServer, Variable } from '../gen/snakepit/bridge/snakepit_bridge.js';
import type { LedgerService } from '../service/ledger-service.js';
import { actorOf } from '../server/call-context.js';
import { variableToBridge } from './bridge-wire.js';
import { unaryWith } from './bridge-unary.js';
import type { EncodingMemory } from './encoding-memory.js';
import type { ToolHub } from '../tools/tool-types.js';
import { toolSpecToBridge } from './bridge-tools-specs.js';

type SessionRpcs = Pick<BridgeServiceServer, 'ping' | 'initializeSession' | 'cleanupSession' | 'getSession' | 'heartbeat'>;

const isSessionGone = (error: unknown) =>
  error instanceof DomainError && (error.code === 'not_found' || error.code === 'session_ended');

export function bridgeSessionHandlers(
  service: LedgerService,
  encodings: EncodingMemory,
  logger: Logger,
  toolHub?: ToolHub,
): SessionRpcs {
  const unary = unaryWith(logger);
  /** The tools a session's workers can call: global ones and the session's own. */
  const tools = (sessionId: SessionId) => toolHub?.list(sessionId) ?? [];

  const liveVariables = async (sessionId: SessionId): Promise<{ [name: string]: Variable }> => {
    const out: { [name: string]: Variable } = {};
    for (const v of (await service.liveSession(sessionId)).variables.values()) out[v.name] = variableToBridge(v, encodings);
    return out;
  };

  return {
    ping: unary(async (req) => ({ message: `pong: ${req.message}`, serverTime: new Date() })),

    initializeSession: unary(async (req, call) => {
      const sessionId = parseSessionId(req.sessionId);
      const existing = await service.findSession(sessionId);
      if (existing) {
        requireActive(existing, sessionId);
      } else {
        try {
          await service.createSession({ sessionId, metadata: { ...req.metadata }, ttlSeconds: 0 }, actorOf(call.metadata));
        } catch (error) {
          // Another worker created it between our look and our write: that is success too.
          if (!(error instanceof DomainError && error.code === 'already_exists')) throw error;
        }
      }
      const availableTools = Object.fromEntries(tools(sessionId).map((spec) => [spec.name, toolSpecToBridge(spec)]));
      return { success: true, errorMessage: '', availableTools, initialVariables: await liveVariables(sessionId) };
    }),

    cleanupSession: unary(async (req, call) => {
      const sessionId = parseSessionId(req.sessionId);
      if (service.peekSession(sessionId)?.status !== 'active') return { success: true, resourcesCleaned: 0 };
      try {
        await service.closeSession(sessionId, actorOf(call.metadata));
      } catch (error) {
        if (!isSessionGone(error)) throw error;
        return { success: true, resourcesCleaned: 0 };
      }
      return { success: true, resourcesCleaned: 1 };
    }),

    getSession: unary(async (req) => {
      const { session } = await service.getSession(parseSessionId(req.sessionId));
      return {
        sessionId: session.id,
        metadata: { ...session.metadata },
        createdAt: new Date(session.createdAt),
        variableCount: variableCount(session),
        toolCount: tools(session.id).length,
      };
    }),

    heartbeat: unary(async (req) => {
      const sessionId = parseSessionId(req.sessionId);
      let sessionValid = true;
      try {
        await service.heartbeat(sessionId);
      } catch (error) {
        if (!isSessionGone(error)) throw error;
        sessionValid = false;
      }
      return { serverTime: new Date(), sessionValid };
    }),
  };
}
