/**
 * Adding a principal to an auth file on disk, for `varledger token add`.
 * The file is rewritten whole and renamed into place, so a server watching
 * it never reads half a file; it is created readable by its owner only.
 */
import { randomBytes } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Access } from './access.js';
import { AuthFileError, parseAuthFile } from './auth-file.js';
import { hashToken, newToken } from './tokens.js';

export interface NewPrincipal {
  readonly name: string;
  readonly sessions: string;
  readonly access: Access;
}

async function readRaw(file: string): Promise<{ principals: unknown[] } & Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { principals: [] };
    throw error;
  }
  parseAuthFile(text); // refuse to build on a broken file
  return JSON.parse(text) as { principals: unknown[] } & Record<string, unknown>;
}

/**
 * Adds `principal` with a new random token and returns the token — the only
 * time it exists outside the caller's hands: the file keeps its SHA-256.
 * Throws AuthFileError if the name is taken or the result would not load.
 */
export async function addTokenPrincipal(file: string, principal: NewPrincipal): Promise<string> {
  const raw = await readRaw(file);
  const taken = raw.principals.some((p) => typeof p === 'object' && p !== null && (p as { name?: unknown }).name === principal.name);
  if (taken) throw new AuthFileError(`principal "${principal.name}" is already in ${file}; remove its entry to issue a new token`);
  const token = newToken();
  raw.principals.push({ name: principal.name, token_sha256: hashToken(token), allow: [{ sessions: principal.sessions, access: principal.access }] });
  const text = `${JSON.stringify(raw, null, 2)}\n`;
  parseAuthFile(text); // the name, glob and access are checked exactly as the server will
  const temporary = join(dirname(file), `.${basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  await writeFile(temporary, text, { mode: 0o600 });
  await rename(temporary, file);
  return token;
}
