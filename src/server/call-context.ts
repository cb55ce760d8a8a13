/**
 * What a call says about its caller. The auth interceptor (auth-interceptor.ts)
 * decides who the caller is and attaches it to the call's metadata; handlers
 * read it here: the actor to record and which sessions the caller may see.
 */
import type { Metadata } from '@grpc/grpc-js';
import { mayAccess, type Access, type Principal } from '../auth/access.js';
import { actorFor } from '../auth/actor.js';
import { DomainError } from '../domain/index.js';

/** Request header naming who makes a change; with auth on, a label after the principal. */
export const ACTOR_HEADER = 'x-varledger-actor';
const MAX_ACTOR_LENGTH = 256;

/** Who makes a call, as the interceptor established it. */
export interface CallIdentity {
  /** Undefined when auth is off: everyone may do everything, as before auth existed. */
  readonly principal: Principal | undefined;
  /** Recorded on every event the call causes. */
  readonly actor: string;
}

/**
 * Where the identity rides on the call's metadata: grpc-js's opaque data,
 * which is never sent and which no header can set.
 */
const IDENTITY_KEY = 'varledger.call-identity';

/** The declared `x-varledger-actor`, checked; undefined when absent or empty. */
function declaredActor(metadata: Metadata): string | undefined {
  const raw = metadata.get(ACTOR_HEADER)[0];
  if (raw === undefined || raw === '') return undefined;
  const actor = typeof raw === 'string' ? raw : raw.toString('utf8');
  if (actor.length > MAX_ACTOR_LENGTH) {
    throw new DomainError('invalid_request', `${ACTOR_HEADER} is longer than ${MAX_ACTOR_LENGTH} characters`);
  }
  return actor;
}

/** The identity of a call from its headers and principal (see actorFor). */
export function identify(metadata: Metadata, principal: Principal | undefined): CallIdentity {
  return { principal, actor: actorFor(principal, declaredActor(metadata)) };
}

/** Called by the interceptor once per call. */
export function attachIdentity(metadata: Metadata, identity: CallIdentity): void {
  metadata.setOpaque(IDENTITY_KEY, identity);
}

/**
 * The call's identity. Fails closed: a call the interceptor did not see (a
 * handler registered outside startServer) gets INTERNAL, never a pass.
 */
export function identityOf(metadata: Metadata): CallIdentity {
  const identity = metadata.getOpaque(IDENTITY_KEY) as CallIdentity | undefined;
  if (!identity) throw new Error('call without an identity: it did not pass the auth interceptor');
  return identity;
}

/** The actor recorded on every event the call causes. */
export function actorOf(metadata: Metadata): string {
  return identityOf(metadata).actor;
}

/** May the caller do `access` on session `sessionId`? Always, with auth off. */
export function callerMay(metadata: Metadata, access: Access, sessionId: string): boolean {
  const { principal } = identityOf(metadata);
  return principal === undefined || mayAccess(principal, access, sessionId);
}
