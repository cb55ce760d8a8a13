/**
 * Branded identifiers. A plain string or number becomes one only through a
 * parse function, so an unchecked value cannot reach the domain by accident.
 */
import { DomainError } from './errors.js';

declare const brand: unique symbol;
type Brand<T, B extends string> = T & { readonly [brand]: B };

export type SessionId = Brand<string, 'SessionId'>;
export type VariableId = Brand<string, 'VariableId'>;
/** Global, gapless position of an event in the log (1, 2, 3 …). */
export type Revision = Brand<number, 'Revision'>;
/** Per variable: 0 at registration, +1 per set or rollback. */
export type Version = Brand<number, 'Version'>;

const MAX_ID_LENGTH = 128;
export const MAX_NAME_LENGTH = 256;

/** Text an identifier may not hold: control characters, and U+FFFD, which
 * is what a protobuf decoder leaves where the bytes were not valid UTF-8. */
const FORBIDDEN = /[\u0000-\u001f\u007f\ufffd]/u;

function checkText(what: string, raw: string, max: number): string {
  if (raw.length === 0) throw new DomainError('invalid_request', `${what} is required`);
  if (raw.length > max) throw new DomainError('invalid_request', `${what} is longer than ${max} characters`);
  if (FORBIDDEN.test(raw)) {
    throw new DomainError('invalid_request', `${what} must be valid UTF-8 without control characters`);
  }
  return raw;
}

export const parseSessionId = (raw: string): SessionId => checkText('session_id', raw, MAX_ID_LENGTH) as SessionId;

export const parseVariableName = (raw: string): string => checkText('name', raw, MAX_NAME_LENGTH);

/** An identifier is a variable's name or its id; both are looked up later. */
export const parseIdentifier = (raw: string): string => checkText('identifier', raw, MAX_NAME_LENGTH + 64);

export const makeVariableId = (name: string, suffix: string): VariableId => `var_${name}_${suffix}` as VariableId;

export function parseRevision(raw: number | bigint): Revision {
  const n = Number(raw);
  if (n < 0 || Number.isNaN(n)) throw new DomainError('invalid_request', `Invalid revision: ${raw}`);
  // No log reaches 2^53 events: a larger revision is simply in the future.
  if (!Number.isSafeInteger(n)) throw new DomainError('revision_out_of_range', `Revision ${raw} is beyond the head of the log`);
  return n as Revision;
}

export function parseVersion(raw: number | bigint): Version {
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) throw new DomainError('invalid_request', `Invalid version: ${raw}`);
  return n as Version;
}
