/**
 * Whether a session exists, as the auth interceptor asks it to tell a call
 * that would create a session from a call on an existing one (creating
 * needs write access and a place under the principal's session limit).
 *
 * The projection holds live sessions only, and ended ones only until a
 * snapshot lets them go; an ended session exists all the same (its id stays
 * taken, writes to it are refused as closed). So a session not held is
 * looked up the way the service looks it up (ended-sessions.ts): the answer
 * is the same whichever sessions happen to be held in memory.
 */
import { parseSessionId, type SessionId } from '../domain/index.js';
import type { LedgerService } from '../service/ledger-service.js';

/** Synchronous for a session held in memory (the common case); a promise when the store must say. */
export function sessionExists(service: LedgerService, id: string): boolean | Promise<boolean> {
  if (id === '') return false;
  if (service.peekSession(id as SessionId)) return true;
  // An id the log never had (most creates): no store read, no wait.
  if (!service.mayHaveSession(id as SessionId)) return false;
  let sessionId: SessionId;
  try {
    sessionId = parseSessionId(id);
  } catch {
    // Cannot name a session: none exists, and the handler refuses the id with INVALID_ARGUMENT.
    return false;
  }
  return service.findSession(sessionId).then((session) => session !== undefined);
}
