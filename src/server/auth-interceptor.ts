/**
 * The one place that decides who a call is and whether it may go on, for
 * every service on the port: varledger.v1.Ledger, the Snakepit bridge, the
 * tool RPCs, reflection and health alike. It is the admission step of the
 * server's one interceptor (call-gate.ts), which sees every call before its
 * handler — the headers, the client certificate, and each decoded request
 * message — so no handler can forget a check, and a refused call never
 * reaches one: nothing is written.
 *
 * Per call: at the headers, the principal (client certificate CN or bearer
 * token; UNAUTHENTICATED without one), the actor to record, and the call
 * rate; at the request message, the session access the method needs
 * (method-access.ts; PERMISSION_DENIED), the byte and session limits
 * (RESOURCE_EXHAUSTED with a retry hint). With auth off only the actor is
 * worked out, exactly as before auth existed.
 *
 * Whether a call creates its session decides both the access it needs and
 * whether the session limit applies, so it must not depend on what the
 * server holds in memory: a session it no longer holds (ended, let go by a
 * snapshot) is looked up in the store before the call goes on
 * (auth-session-exists.ts), and a place under the limit is held from
 * admission until the call is answered (limits.ts reservations).
 */
import { Metadata, type ServerInterceptingCallInterface } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { mayAccess, type Access, type Principal } from '../auth/access.js';
import type { Authority } from '../auth/authority.js';
import type { LimitBreach, PrincipalLimiter, SessionReservation } from '../auth/limits.js';
import { DomainError, LimitExceededError } from '../domain/index.js';
import { attachIdentity, identify, type CallIdentity } from './call-context.js';
import type { CallAdmission } from './call-gate.js';
import { ruleOf, type MethodRule } from './method-access.js';
import { toGrpcError } from './status-table.js';
import { AUTHORIZATION_HEADER } from '../auth/tokens.js';

type SessionRule = Extract<MethodRule, { kind: 'session' }>;

export interface AuthInterceptorOptions {
  readonly authority: Authority;
  readonly limiter: PrincipalLimiter;
  /**
   * Does the session exist (in any state)? A call that may create a session
   * is a creation only when it does not. Synchronous for sessions the server
   * holds in memory; a promise when the answer needs the store (an ended
   * session it let go of, an id never seen): the answer must not depend on
   * what happens to be held.
   */
  readonly sessionExists: (sessionId: string) => boolean | Promise<boolean>;
  readonly logger: Logger;
  /** Hears each refusal by its reason (metrics); must not throw. */
  readonly onDenied?: (reason: DenialReason) => void;
}

/** Why a call was refused: no or unknown credentials, no grant, or over a rate, byte or session limit. */
export type DenialReason = 'unauthenticated' | 'permission_denied' | 'limit_exceeded' | 'other';

function denialReason(error: unknown): DenialReason {
  if (!(error instanceof DomainError)) return 'other';
  return error.code === 'unauthenticated' || error.code === 'permission_denied' || error.code === 'limit_exceeded' ? error.code : 'other';
}

/** The session a request names ('' when none). Every session-bound request has a string `sessionId`. */
function sessionOf(message: unknown): string {
  const id = (message as { sessionId?: unknown } | null)?.sessionId;
  return typeof id === 'string' ? id : '';
}

/** The session of a ServeTools message that declares tools, or undefined for other messages. */
function declaredSession(message: unknown): string | undefined {
  const msg = (message as { msg?: { $case?: string; declare?: { sessionId?: unknown } } } | null)?.msg;
  if (msg?.$case !== 'declare') return undefined;
  return typeof msg.declare?.sessionId === 'string' ? msg.declare.sessionId : '';
}

const seconds = (ms: number) => (ms / 1000).toFixed(ms < 10_000 ? 2 : 0);

function limitError(breach: LimitBreach): LimitExceededError {
  const hint = breach.retryAfterMs > 0 ? `; retry in ${seconds(breach.retryAfterMs)} s` : '';
  return new LimitExceededError(`Limit exceeded: ${breach.message}${hint}`, breach.retryAfterMs);
}

function denied(principal: Principal, access: Access, sessionId: string, what: string): DomainError {
  const target = sessionId === '' ? 'every session' : `session ${sessionId}`;
  return new DomainError('permission_denied', `Permission denied: ${principal.name} may not ${what} (${access} access on ${target} needed)`);
}

/** Who a call is when it gets past the headers; undefined for `open` methods, which ask no one. */
export type Admitted = CallIdentity | undefined;

/** A refusal at the headers after the caller was identified (over the call rate): logged with the principal. */
class IdentifiedRefusal {
  constructor(
    readonly error: unknown,
    readonly identity: CallIdentity,
  ) {}
}

export function authInterceptor(options: AuthInterceptorOptions): CallAdmission<Admitted> {
  const { authority, limiter, logger } = options;

  /**
   * Session places held by calls admitted as creating, until answered. A
   * place is taken when the call is admitted, so creates admitted together
   * (each waiting for its lookup or its round) cannot all pass one count.
   */
  const reservations = new Map<CallIdentity, SessionReservation>();

  /** The session rule's checks, once it is known whether the call would create the session. */
  const checkSession = (rule: SessionRule, identity: CallIdentity, principal: Principal, sessionId: string, bytes: number, creating: boolean): void => {
    const access: Access = creating && rule.access === 'read' ? 'write' : rule.access;
    if (!(rule.emptyIsGlobal && sessionId === '') && !mayAccess(principal, access, sessionId)) {
      throw denied(principal, access, sessionId, `${access} ${sessionId === '' ? 'without naming a session' : 'here'}`);
    }
    if (access !== 'read') {
      const breach = limiter.takeBytes(principal.name, principal.limits, bytes);
      if (breach) throw limitError(breach);
    }
    if (creating) {
      const reserved = limiter.reserveNewSession(principal.name, principal.limits, sessionId);
      if ('limit' in reserved) throw limitError(reserved);
      reservations.get(identity)?.release();
      reservations.set(identity, reserved);
    }
  };

  /** Checks a request message against the method's rule; throws the refusal, or returns a promise of it when it must look the session up. */
  const checkMessage = (rule: MethodRule, identity: CallIdentity, principal: Principal, message: unknown, bytes: number): void | Promise<void> => {
    switch (rule.kind) {
      case 'open':
      case 'principal':
        return;
      case 'session': {
        const sessionId = sessionOf(message);
        if (rule.creates !== true) return checkSession(rule, identity, principal, sessionId, bytes, false);
        // Refused either way: no lookup for a caller who may not even touch the session.
        if (!mayAccess(principal, rule.access, sessionId)) return checkSession(rule, identity, principal, sessionId, bytes, false);
        const exists = options.sessionExists(sessionId);
        if (typeof exists === 'boolean') return checkSession(rule, identity, principal, sessionId, bytes, !exists);
        return exists.then((found) => checkSession(rule, identity, principal, sessionId, bytes, !found));
      }
      case 'serve-tools': {
        const sessionId = declaredSession(message);
        if (sessionId === undefined) return;
        // Global tools answer calls in every session: only an admin may offer them.
        const access: Access = sessionId === '' ? 'admin' : 'write';
        if (!mayAccess(principal, access, sessionId)) throw denied(principal, access, sessionId, 'serve tools there');
        return;
      }
      default: {
        const exhaustive: never = rule;
        throw new Error(`unhandled rule ${JSON.stringify(exhaustive)}`);
      }
    }
  };

  const identifyCall = (metadata: Metadata, call: ServerInterceptingCallInterface): CallIdentity => {
    if (!authority.enabled) return identify(metadata, undefined);
    const certificate = call.getAuthContext().sslPeerCertificate;
    const principal = authority.authenticate({
      authorization: metadata.get(AUTHORIZATION_HEADER),
      certificateSubject: certificate ? subjectCommonName(certificate.subject) : undefined,
    });
    return identify(metadata, principal);
  };

  return {
    admitHeaders(path, metadata, call) {
      if (ruleOf(path).kind === 'open') return undefined;
      const identity = identifyCall(metadata, call);
      const principal = identity.principal;
      if (principal) {
        const breach = limiter.takeRequest(principal.name, principal.limits);
        if (breach) throw new IdentifiedRefusal(limitError(breach), identity);
      }
      attachIdentity(metadata, identity);
      return identity;
    },

    admitMessage(path, admitted, message, bytes) {
      const principal = admitted?.principal;
      return principal && admitted ? checkMessage(ruleOf(path), admitted, principal, message, bytes) : undefined;
    },

    answered(admitted) {
      // Most calls hold no place: one size check.
      if (reservations.size === 0 || !admitted) return;
      reservations.get(admitted)?.release();
      reservations.delete(admitted);
    },

    refusal(thrown, path, admitted, message, call) {
      const error = thrown instanceof IdentifiedRefusal ? thrown.error : thrown;
      const identity = thrown instanceof IdentifiedRefusal ? thrown.identity : admitted;
      options.onDenied?.(denialReason(error));
      const grpcError = toGrpcError(error, logger);
      if (error instanceof DomainError) {
        const sessionId = message === undefined ? undefined : ruleOf(path).kind === 'serve-tools' ? declaredSession(message) : sessionOf(message);
        logger.warn(
          { principal: identity?.principal?.name ?? null, method: path, session: sessionId ?? null, peer: call.getPeer(), code: error.code, reason: error.message },
          'call refused',
        );
      }
      return { code: grpcError.code, details: grpcError.details, metadata: grpcError.metadata ?? new Metadata() };
    },
  };
}

/** A certificate's subject CN; node gives a string, or an array when the subject repeats it (refused: which one would it be?). */
function subjectCommonName(subject: { CN?: string | string[] } | undefined): string {
  const cn = subject?.CN;
  if (typeof cn === 'string') return cn;
  throw new DomainError('unauthenticated', 'Unauthenticated: the client certificate has no single subject CN');
}
