/** What a call says about its caller, read from gRPC request headers. */
import type { Metadata } from '@grpc/grpc-js';
import { DomainError } from '../domain/index.js';

/** Request header naming who makes a change; recorded on every event. */
export const ACTOR_HEADER = 'x-varledger-actor';
const DEFAULT_ACTOR = 'anonymous';
const MAX_ACTOR_LENGTH = 256;

export function actorOf(metadata: Metadata): string {
  const raw = metadata.get(ACTOR_HEADER)[0];
  if (raw === undefined || raw === '') return DEFAULT_ACTOR;
  const actor = typeof raw === 'string' ? raw : raw.toString('utf8');
  if (actor.length > MAX_ACTOR_LENGTH) {
    throw new DomainError('invalid_request', `${ACTOR_HEADER} is longer than ${MAX_ACTOR_LENGTH} characters`);
  }
  return actor;
}
