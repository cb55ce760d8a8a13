/**
 * The auth file (`--auth-file`): principals, their token hashes, grants and
 * limits. Parsing is pure and strict — an unknown key or a bad value is
 * refused with its path, so a typo never silently opens or closes access.
 *
 * ```json
 * { "limits": { "requests_per_second": 500 },
 *   "principals": [{ "name": "alice", "token_sha256": "<hex>",
 *                    "allow": [{ "sessions": "team-a-*", "access": "write" }] }] }
 * ```
 */
import { isAccess, type Grant, type Limits, type Principal } from './access.js';

/** Generous: a busy pipeline never meets them; a runaway client does. */
export const DEFAULT_LIMITS: Limits = {
  requestsPerSecond: 1000,
  burst: 2000,
  sessions: 10_000,
  bytesPerMinute: 256 * 1024 * 1024,
};

/** The server's own actor (expiry events); no principal may take it. */
export const RESERVED_NAME = 'varledger';

export interface AuthConfig {
  readonly principals: readonly Principal[];
  /** SHA-256 (hex) of each token → its principal. */
  readonly byTokenHash: ReadonlyMap<string, Principal>;
  readonly byName: ReadonlyMap<string, Principal>;
  /** Limits of principals the file does not list (certificate subjects without an entry). */
  readonly defaultLimits: Limits;
}

export class AuthFileError extends Error {
  override name = 'AuthFileError';
}

const LIMIT_KEYS: Readonly<Record<string, keyof Limits>> = {
  requests_per_second: 'requestsPerSecond',
  burst: 'burst',
  sessions: 'sessions',
  bytes_per_minute: 'bytesPerMinute',
};

const MAX_NAME_LENGTH = 128;

/** Why a principal name is unusable, or undefined. Names head the recorded actor, so `/` is refused. */
export function principalNameProblem(name: string): string | undefined {
  if (name.length === 0 || name.length > MAX_NAME_LENGTH) return `must be 1 to ${MAX_NAME_LENGTH} characters`;
  if (name === RESERVED_NAME) return `"${RESERVED_NAME}" is the server's own name`;
  // eslint-disable-next-line no-control-regex
  if (/[/\u0000-\u001f\u007f]/.test(name)) return 'may not contain "/" or control characters';
  return undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkKeys(value: Record<string, unknown>, allowed: readonly string[], where: string): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) throw new AuthFileError(`${where}: unknown key "${key}" (expected ${allowed.join(', ')})`);
  }
}

function parseLimits(raw: unknown, base: Limits, where: string): Limits {
  if (raw === undefined) return base;
  if (!isObject(raw)) throw new AuthFileError(`${where} must be an object`);
  checkKeys(raw, Object.keys(LIMIT_KEYS), where);
  const out: Record<keyof Limits, number> = { ...base };
  for (const [key, field] of Object.entries(LIMIT_KEYS)) {
    const value = raw[key];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      throw new AuthFileError(`${where}.${key} must be a positive number`);
    }
    out[field] = value;
  }
  return out;
}

function parseGrant(raw: unknown, where: string): Grant {
  if (!isObject(raw)) throw new AuthFileError(`${where} must be an object`);
  checkKeys(raw, ['sessions', 'access'], where);
  const { sessions, access } = raw;
  if (typeof sessions !== 'string' || sessions === '' || sessions.length > 256) {
    throw new AuthFileError(`${where}.sessions must be a session glob of 1 to 256 characters`);
  }
  if (!isAccess(access)) throw new AuthFileError(`${where}.access must be "read", "write" or "admin"`);
  return { sessions, access };
}

/** Parses the file's JSON text. Throws AuthFileError naming the bad entry. */
export function parseAuthFile(text: string): AuthConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new AuthFileError(`not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (!isObject(raw)) throw new AuthFileError('the top level must be an object with "principals"');
  checkKeys(raw, ['principals', 'limits'], 'top level');
  const defaultLimits = parseLimits(raw.limits, DEFAULT_LIMITS, 'limits');
  if (!Array.isArray(raw.principals)) throw new AuthFileError('"principals" must be an array');
  const principals: Principal[] = [];
  const byTokenHash = new Map<string, Principal>();
  const byName = new Map<string, Principal>();
  raw.principals.forEach((entry: unknown, i) => {
    const where = `principals[${i}]`;
    if (!isObject(entry)) throw new AuthFileError(`${where} must be an object`);
    checkKeys(entry, ['name', 'token_sha256', 'allow', 'limits'], where);
    const { name, token_sha256: hash, allow } = entry;
    if (typeof name !== 'string') throw new AuthFileError(`${where}.name must be a string`);
    const problem = principalNameProblem(name);
    if (problem) throw new AuthFileError(`${where}.name ${problem}`);
    if (byName.has(name)) throw new AuthFileError(`${where}: principal "${name}" is listed twice`);
    if (hash !== undefined && (typeof hash !== 'string' || !/^[0-9a-f]{64}$/.test(hash))) {
      throw new AuthFileError(`${where}.token_sha256 must be 64 lower-case hex digits (the SHA-256 of the token)`);
    }
    if (!Array.isArray(allow)) throw new AuthFileError(`${where}.allow must be an array of grants`);
    const principal: Principal = {
      name,
      grants: allow.map((g: unknown, j) => parseGrant(g, `${where}.allow[${j}]`)),
      limits: parseLimits(entry.limits, defaultLimits, `${where}.limits`),
    };
    if (hash !== undefined) {
      if (byTokenHash.has(hash)) throw new AuthFileError(`${where}: the same token hash belongs to two principals`);
      byTokenHash.set(hash, principal);
    }
    byName.set(name, principal);
    principals.push(principal);
  });
  return { principals, byTokenHash, byName, defaultLimits };
}
