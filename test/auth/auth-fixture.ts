/**
 * A server with auth on: an auth file with four principals whose tokens the
 * tests hold, and clients that present them. Grants:
 * alice write team-a-*, bob read team-a-*, carol write team-b-*, root admin.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { hashToken } from '../../src/auth/tokens.js';
import { LedgerRpc } from '../../src/client/ledger-rpc.js';
import { startLedger, tempDir, type TestLedger, type TestServerOptions } from '../helpers/harness.js';

export const TOKENS = {
  alice: 'alice-token-0123456789abcdefghijklmnopqrstuvwxyz',
  bob: 'bob-token-0123456789abcdefghijklmnopqrstuvwxyz',
  carol: 'carol-token-0123456789abcdefghijklmnopqrstuvwxyz',
  root: 'root-token-0123456789abcdefghijklmnopqrstuvwxyz',
} as const;
export type Who = keyof typeof TOKENS;

export function authFileJson(extra: { limits?: object; principalLimits?: Partial<Record<Who, object>> } = {}): string {
  const entry = (name: Who, sessions: string, access: string) => ({
    name,
    token_sha256: hashToken(TOKENS[name]),
    allow: [{ sessions, access }],
    ...(extra.principalLimits?.[name] && { limits: extra.principalLimits[name] }),
  });
  return JSON.stringify({
    ...(extra.limits && { limits: extra.limits }),
    principals: [entry('alice', 'team-a-*', 'write'), entry('bob', 'team-a-*', 'read'), entry('carol', 'team-b-*', 'write'), entry('root', '*', 'admin')],
  });
}

export interface AuthLedger extends TestLedger {
  readonly authFile: string;
  /** A client presenting `who`'s token (closed with the ledger). */
  as(who: Who): LedgerRpc;
}

/** A fresh server and database with the fixture's auth file (plus `options`). */
export async function startAuthLedger(
  t: ExecutionContext,
  options: TestServerOptions & { authJson?: string } = {},
): Promise<AuthLedger> {
  const tmp = tempDir('varledger-auth-');
  const authFile = join(tmp.dir, 'auth.json');
  writeFileSync(authFile, options.authJson ?? authFileJson());
  const ledger = await startLedger({ authFile, ...options });
  const clients = new Map<Who, LedgerRpc>();
  t.teardown(async () => {
    for (const c of clients.values()) c.close();
    await ledger.stop();
    tmp.remove();
  });
  return {
    ...ledger,
    authFile,
    as(who) {
      let client = clients.get(who);
      if (!client) clients.set(who, (client = new LedgerRpc(ledger.address, {}, { token: TOKENS[who] })));
      return client;
    },
  };
}
