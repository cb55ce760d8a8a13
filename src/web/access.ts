/**
 * Who may do what in the web view: the seam where the server's
 * authentication plugs in. A request's principal comes from
 * `Authorization: Bearer <token>` or the login form's cookie (auth-middleware.ts);
 * `WebAccess` says what the token names and what that principal may do,
 * with the same permission levels as the gRPC API: read < write < admin.
 */
export type Permission = 'read' | 'write' | 'admin';

export interface WebPrincipal {
  readonly name: string;
}

export interface WebAccess {
  /** False when the server runs without authentication: every caller may do everything. */
  readonly required: boolean;
  /** The principal a token stands for; undefined for an unknown or revoked token. */
  authenticate(token: string): WebPrincipal | undefined;
  /**
   * Whether the principal may act on a session (or, without one, on the
   * whole ledger: `admin` there is what `verify` needs). Never throws.
   */
  allows(principal: WebPrincipal | undefined, permission: Permission, sessionId?: string): boolean;
  /** The actor recorded on a change the principal makes through the web view. */
  actorOf(principal: WebPrincipal | undefined): string;
}

/** What the web view calls itself in the audit trail. */
export const WEB_LABEL = 'web';

/** No authentication configured: as on the gRPC API, anyone may read, write and verify. */
export const OPEN_ACCESS: WebAccess = {
  required: false,
  authenticate: () => undefined,
  allows: () => true,
  actorOf: () => WEB_LABEL,
};
