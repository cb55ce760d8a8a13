/**
 * Bearer tokens: made random, stored only as SHA-256 hashes, read from the
 * `authorization` header. A token is worth its 256 random bits; the hash
 * lets the auth file be read by people who must not hold the tokens.
 */
import { createHash, randomBytes } from 'node:crypto';

export const AUTHORIZATION_HEADER = 'authorization';

/** Longer presented tokens are refused before hashing. */
const MAX_TOKEN_LENGTH = 1024;

/** 32 random bytes, base64url: 43 characters that fit any header or shell. */
export const newToken = (): string => randomBytes(32).toString('base64url');

export const hashToken = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');

/**
 * The token of an `authorization` header's values, or why there is none.
 * Exactly one header, scheme `Bearer` (any case, RFC 6750), then a token
 * made of the RFC's token68 characters.
 */
export function bearerToken(values: readonly (string | Buffer)[]): { token: string } | { problem: string } {
  if (values.length === 0) return { problem: 'no authorization header' };
  if (values.length > 1) return { problem: 'more than one authorization header' };
  const raw = values[0];
  if (typeof raw !== 'string') return { problem: 'the authorization header is not text' };
  const match = /^bearer +([A-Za-z0-9._~+/-]+=*) *$/i.exec(raw);
  if (!match?.[1]) return { problem: 'the authorization header is not "Bearer <token>"' };
  if (match[1].length > MAX_TOKEN_LENGTH) return { problem: 'the token is too long' };
  return { token: match[1] };
}
