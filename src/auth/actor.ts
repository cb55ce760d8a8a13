/**
 * The actor recorded on events — the "who" of the audit trail — for any
 * protocol. With auth on it is the principal; what the caller calls itself
 * is only a label after it (`alice/optimizer`). Without auth it is what the
 * caller declares, except the server's own name.
 */
import { DomainError } from '../domain/index.js';
import type { Principal } from './access.js';
import { RESERVED_NAME } from './auth-file.js';

export const ANONYMOUS_ACTOR = 'anonymous';

/**
 * `declared`: the caller's own name for itself (the `x-varledger-actor`
 * header), already length-checked; undefined or empty when none. Throws
 * INVALID_ARGUMENT for a caller without a principal declaring the server's name.
 */
export function actorFor(principal: Principal | undefined, declared: string | undefined): string {
  const label = declared === '' ? undefined : declared;
  if (principal) return label === undefined || label === principal.name ? principal.name : `${principal.name}/${label}`;
  if (label === RESERVED_NAME) {
    throw new DomainError('invalid_request', `The actor may not be "${RESERVED_NAME}": the server records its own events under that name`);
  }
  return label ?? ANONYMOUS_ACTOR;
}
