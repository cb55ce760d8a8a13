/**
 * Feeds the per-principal session limit (src/auth/limits.ts) from the log:
 * whoever's call created a session, by any RPC, on any node, owns it until
 * it ends. The change feed brings what happens from now on (this server's
 * commits and other processes' or nodes', which it catches up); the live
 * sessions the projection started with (from a snapshot or a fold, neither of
 * which goes through the feed) are counted once at start, by the actor of
 * their creating event.
 */
import type { PrincipalLimiter } from '../auth/limits.js';
import type { LedgerService } from '../service/ledger-service.js';

/** With auth on, an actor is `principal` or `principal/label`. */
const principalOfActor = (actor: string): string => actor.split('/', 1)[0] ?? actor;

/**
 * Starts counting; resolves once the sessions live at start are counted
 * (before the server takes calls). Returns the function that stops listening.
 */
export async function feedSessionLimits(service: LedgerService, limiter: PrincipalLimiter): Promise<() => void> {
  // Listening first: a session created or ended while the creators are read is not missed.
  const stop = service.onCommit(({ events }) => {
    for (const event of events) {
      if (event.kind === 'session_created') limiter.sessionCreated(principalOfActor(event.actor), event.sessionId);
      else if (event.kind === 'session_closed' || event.kind === 'session_expired') limiter.sessionEnded(event.sessionId);
    }
  });
  try {
    const creators = await service.liveSessionCreators();
    // Only sessions still live now: one that ended during the read was released before it was counted.
    for (const [sessionId, actor] of creators) {
      if (service.peekSession(sessionId)?.status === 'active') limiter.sessionCreated(principalOfActor(actor), sessionId);
    }
  } catch (error) {
    stop();
    throw error;
  }
  return stop;
}
