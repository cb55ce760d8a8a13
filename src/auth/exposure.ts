/**
 * Safe defaults: a server reachable from other machines must know who calls
 * it and must not send secrets in clear text.
 */
import { isIP } from 'node:net';

export function isLoopback(host: string): boolean {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (bare === 'localhost') return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  if (isIP(bare) === 6) return bare === '::1' || /^::ffff:127\./i.test(bare);
  return false;
}

/** Why listening on `host` this way is refused, in one line; undefined if it is fine. */
export function exposureProblem(host: string, security: { auth: boolean; tls: boolean; insecure: boolean }): string | undefined {
  if (isLoopback(host) || security.insecure || (security.auth && security.tls)) return undefined;
  const missing = [!security.auth && 'auth (--auth-file or --tls-client-ca)', !security.tls && 'TLS (--tls-cert and --tls-key)'].filter(Boolean).join(' and ');
  return `refusing to listen on ${host} without ${missing}: anyone who reaches the port could read, change and close every session; add them, or pass --insecure if the network is trusted`;
}
