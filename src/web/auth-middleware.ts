/**
 * The web view's one place for authentication and access: a middleware that
 * resolves the caller's principal from `Authorization: Bearer <token>` or the
 * login form's cookie, and a guard each route states its permission with.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { getCookie } from 'hono/cookie';
import type { Permission, WebAccess, WebPrincipal } from './access.js';
import { httpError } from './http-errors.js';

export const TOKEN_COOKIE = 'varledger_token';

export interface WebEnv {
  Variables: { principal: WebPrincipal | undefined; access: WebAccess };
}

function tokenOf(c: Context): string | undefined {
  const header = c.req.header('authorization');
  const bearer = header?.match(/^Bearer\s+(\S+)\s*$/i)?.[1];
  return bearer ?? getCookie(c, TOKEN_COOKIE);
}

/** Sets `principal` (undefined when anonymous). A token that names nobody is refused outright. */
export function resolvePrincipal(access: WebAccess): MiddlewareHandler<WebEnv> {
  return async (c, next) => {
    c.set('access', access);
    const token = access.required ? tokenOf(c) : undefined;
    const principal = token === undefined ? undefined : access.authenticate(token);
    if (token !== undefined && !principal && c.req.path.startsWith('/api/')) {
      throw httpError(401, 'Unknown or expired token: sign in again');
    }
    c.set('principal', principal);
    await next();
  };
}

/** Whether the caller may act on a session (`:session` route parameter) or, without one, on the ledger. */
export function may(c: Context<WebEnv>, permission: Permission, sessionId?: string): boolean {
  return c.get('access').allows(c.get('principal'), permission, sessionId);
}

/** Refuses the request unless the caller has `permission` on the route's session (or the ledger). */
export function guard(permission: Permission): MiddlewareHandler<WebEnv> {
  return async (c, next) => {
    const sessionId = c.req.param('session');
    if (!may(c, permission, sessionId)) {
      if (!c.get('principal') && c.get('access').required) throw httpError(401, 'Sign in: this server needs a token');
      const what = sessionId === undefined ? 'this ledger' : `session ${sessionId}`;
      throw httpError(403, `${c.get('principal')?.name ?? 'Anonymous'} may not ${permission} ${what}`);
    }
    await next();
  };
}
