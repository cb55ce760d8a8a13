/**
 * What the web view needs from the ledger, declared here (the way kysely's
 * core declares the few driver methods it uses), and the adapter that
 * provides it from the service. Every read is side-effect free: looking at a
 * session in a browser does not refresh its idle timer or extend its life.
 */
import { DomainError, type Revision, type SessionId, type SessionState, type VariableId, type VariableState } from '../domain/index.js';
import type { CommitListener, HistoryEntry, LedgerService, SessionView, VariablesAt } from '../service/ledger-service.js';
import type { EventStore } from '../store/event-store.js';
import type { Digest } from '../store/hash-chain.js';
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
  listSessions(pageSize: number, pageToken: string): { sessions: SessionView[]; nextPageToken: string };
  /** A session in any state, or undefined. */
  session(sessionId: SessionId): SessionState | undefined;
  /** Variables matching a glob as of a revision (the head when 0); works on ended sessions. */
  variablesAt(sessionId: SessionId, pattern: string, atRevision: Revision): VariablesAt;
  /** A variable's versions below `beforeVersion`, newest first. */
  history(variableId: VariableId, beforeVersion: number, limit: number): HistoryEntry[];
  /** The newest event of a session: who did what last. */
  lastEvent(session: SessionState): LastEvent | undefined;
  /** When the event at a revision happened. */
  revisionTime(revision: Revision): number | undefined;
  rollback(command: Omit<RollbackVariable, 'kind' | 'targetValue'>, actor: string): VariableState;
  digest(): Digest;
  onCommit(listener: CommitListener): () => void;
  /** The log, for the live feed's catch-up reads. */
  readonly store: EventStore;
}

export function webLedger(service: LedgerService): WebLedger {
  const store = service.store;
  return {
    head: () => service.head,
    listSessions: (pageSize, pageToken) => service.listSessions(pageSize, pageToken),
    session: (sessionId) => service.peekSession(sessionId),
    variablesAt(sessionId, pattern, atRevision) {
      const at = atRevision > 0 ? atRevision : service.head;
      if (at === 0) throw new DomainError('not_found', `Session not found: ${sessionId}`);
      return service.listVariables(sessionId, pattern, at);
    },
    history: (variableId, beforeVersion, limit) =>
      store.readHistory(variableId, beforeVersion, limit).flatMap((e) =>
        e.kind === 'variable_registered' || e.kind === 'variable_set' || e.kind === 'variable_rolled_back'
          ? [{ version: e.version, value: e.value, revision: e.revision, time: e.time, actor: e.actor, metadata: e.metadata, kind: e.kind }]
          : [],
      ),
    lastEvent(session) {
      const [event] = store.readSessionAfter(session.id, (session.modifiedRevision - 1) as Revision, 1);
      return event && { revision: event.revision, time: event.time, actor: event.actor, kind: event.kind };
    },
    revisionTime(revision) {
      const [event] = revision > 0 ? store.readAfter((revision - 1) as Revision, 1) : [];
      return event?.time;
    },
    rollback: (command, actor) => service.rollback(command, actor),
    digest: () => store.digest(),
    onCommit: (listener) => service.onCommit(listener),
    store,
  };
}
