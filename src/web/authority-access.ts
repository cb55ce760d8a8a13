/**
 * The web view's access from the server's authentication (src/auth): the
 * same tokens, principals and grants as the gRPC API. Rollback needs write
 * on the session, verify needs admin; the recorded actor is the principal,
 * labelled `web` (`alice/web`), as a gRPC caller's own name is a label.
 */
import { actorFor, mayAccess, type Authority, type Principal } from '../auth/authority.js';
import { WEB_LABEL, type WebAccess, type WebPrincipal } from './access.js';

export function authorityAccess(authority: Authority): WebAccess {
  // The only principals the web layer holds are the ones `authenticate` returned.
  const principalOf = (p: WebPrincipal | undefined) => p as Principal | undefined;
  return {
    get required() {
      return authority.enabled;
    },
    authenticate: (token) => authority.principalFromToken(token),
    allows(web, permission, sessionId) {
      if (!authority.enabled) return true;
      const principal = principalOf(web);
      if (!principal) return false;
      // No session: the whole ledger, which `*` grants and admins cover.
      return mayAccess(principal, permission, sessionId ?? '');
    },
    actorOf: (web) => actorFor(principalOf(web), WEB_LABEL),
  };
}
