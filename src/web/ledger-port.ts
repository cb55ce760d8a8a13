/**
 * What the web view needs from the ledger, declared here (the way kysely's
 * core declares the few driver methods it uses), and the adapter that
 * provides it from the service. Every read is side-effect free: looking at a
 * session in a browser does not refresh its idle timer or extend its life.
 */
import { DomainError, type Revision, type SessionId, type SessionState, type VariableId, type VariableState } from '../domain/index.js';
import type { CommitListener, HistoryEntry, LedgerService, SessionView, VariablesAt } from '../service/ledger-service.js';
import type { Digest } from '../store/hash-chain.js';
import type { WatchLog } from '../watch/watch-hub.js';
import type { RollbackVariable } from '../domain/index.js';

export interface LastEvent {
  readonly revision: number;
  readonly time: number;
  readonly actor: string;
  readonly kind: string;
}

export interface WebLedger {
  head(): Revision;
  /** Sessions in id order after `pageToken`. */
  listSessions(pageSize: number, pageToken: string): Promise<{ sessions: SessionView[]; nextPageToken: string }>;
  /** A session in any state (an ended one without its variables), or undefined. */
  session(sessionId: SessionId): Promise<SessionState | undefined>;
  /** A session with its variables as of now, in any state (an ended one is folded from the log). */
  sessionWithVariables(sessionId: SessionId): Promise<SessionState | undefined>;
  /** Variables matching a glob as of a revision (the head when 0); works on ended sessions. */
  variablesAt(sessionId: SessionId, pattern: string, atRevision: Revision): Promise<VariablesAt>;
  /** A variable's versions below `beforeVersion`, newest first. */
  history(variableId: VariableId, beforeVersion: number, limit: number): Promise<HistoryEntry[]>;
  /** The newest event of a session: who did what last. */
  lastEvent(session: SessionState): Promise<LastEvent | undefined>;
  /** When the event at a revision happened. */
  revisionTime(revision: Revision): Promise<number | undefined>;
  rollback(command: Omit<RollbackVariable, 'kind' | 'targetValue'>, actor: string): Promise<VariableState>;
  digest(): Promise<Digest>;
  onCommit(listener: CommitListener): () => void;
  /** The log, for the live feed's catch-up reads. */
  readonly log: WatchLog;
}

export function webLedger(service: LedgerService): WebLedger {
  return {
    head: () => service.head,
    listSessions: (pageSize, pageToken) => service.listSessions(pageSize, pageToken),
    session: (sessionId) => service.findSession(sessionId),
    async sessionWithVariables(sessionId) {
      const session = service.peekSession(sessionId);
      // The projection keeps ended sessions without their variables.
      return session?.status === 'active' ? session : service.pastSession(sessionId, service.head);
    },
    async variablesAt(sessionId, pattern, atRevision) {
      const at = atRevision > 0 ? atRevision : service.head;
      if (at === 0) throw new DomainError('not_found', `Session not found: ${sessionId}`);
      return service.listVariables(sessionId, pattern, at);
    },
    history: (variableId, beforeVersion, limit) => service.variableHistory(variableId, beforeVersion, limit),
    async lastEvent(session) {
      const event = await service.eventAfter((session.modifiedRevision - 1) as Revision, session.id);
      return event && { revision: event.revision, time: event.time, actor: event.actor, kind: event.kind };
    },
    async revisionTime(revision) {
      return revision > 0 ? (await service.eventAfter((revision - 1) as Revision))?.time : undefined;
    },
    rollback: (command, actor) => service.rollback(command, actor),
    digest: () => service.digest(),
    onCommit: (listener) => service.onCommit(listener),
    log: service,
  };
}
