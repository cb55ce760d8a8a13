/**
 * Who may do what: principals, their grants over session globs, and the one
 * check every protocol asks (`mayAccess`). Pure: no I/O, no clock.
 */
import { compileGlob, type GlobMatcher } from '../domain/index.js';

/** Ordered: each level includes the ones before it. */
export const ACCESS_LEVELS = ['read', 'write', 'admin'] as const;
export type Access = (typeof ACCESS_LEVELS)[number];

const RANK: Readonly<Record<Access, number>> = { read: 1, write: 2, admin: 3 };

export const isAccess = (value: unknown): value is Access => typeof value === 'string' && value in RANK;

/** `access` on the sessions matching `sessions` (a glob: `*`, `?`). */
export interface Grant {
  readonly sessions: string;
  readonly access: Access;
}

/** Per-principal limits; see limits.ts. */
export interface Limits {
  /** Calls per second, sustained. */
  readonly requestsPerSecond: number;
  /** Calls allowed at once above the sustained rate. */
  readonly burst: number;
  /** Live sessions created by the principal. */
  readonly sessions: number;
  /** Request bytes of writing calls per minute. */
  readonly bytesPerMinute: number;
}

export interface Principal {
  readonly name: string;
  readonly grants: readonly Grant[];
  readonly limits: Limits;
}

/** The principal holds admin on some glob: admin is server-wide (every session, global tools). */
export const isAdmin = (principal: Principal): boolean => principal.grants.some((g) => g.access === 'admin');

/**
 * May `principal` do `access` on session `sessionId`? Admin anywhere means
 * admin everywhere (ListSessions across all, global tools). The empty session
 * id stands for "no session named": it matches only a `*` grant, which is
 * what creating a session with a generated id needs.
 */
export function mayAccess(principal: Principal, access: Access, sessionId: string): boolean {
  if (isAdmin(principal)) return true;
  if (access === 'admin') return false;
  const needed = RANK[access];
  return principal.grants.some((g) => RANK[g.access] >= needed && grantGlob(g.sessions)(sessionId));
}

/**
 * Grant globs compiled once, not on every call's access check. They come
 * from the auth file and a few constants, so the map stays small; it is
 * emptied if it ever grows past GLOB_CACHE_SIZE (reloads with ever new globs).
 */
const globs = new Map<string, GlobMatcher>();
const GLOB_CACHE_SIZE = 4096;

function grantGlob(pattern: string): GlobMatcher {
  let matcher = globs.get(pattern);
  if (!matcher) {
    matcher = compileGlob(pattern);
    if (globs.size >= GLOB_CACHE_SIZE) globs.clear();
    globs.set(pattern, matcher);
  }
  return matcher;
}
