/**
 * evolve: folds stored events into a session's state. One `applyEvent`
 * recipe serves both paths: under immer for live writes (each write yields a
 * new immutable state, so readers holding the old one see a consistent
 * snapshot), and directly on plain objects for bulk folds at start-up and for
 * reads at a past revision, where drafting a million events would only cost time.
 */
import { createDraft, enableMapSet, freeze, produce, type Draft } from 'immer';
import { isToolEvent, type NewEvent, type SessionCreated, type StoredEvent } from './events.js';
import type { Revision } from './ids.js';
import type { SessionState } from './state.js';

enableMapSet();

type MutableSession = Draft<SessionState>;

function createSession(event: SessionCreated, revision: Revision): MutableSession {
  return {
    id: event.sessionId,
    metadata: { ...event.metadata },
    ttlSeconds: event.ttlSeconds,
    status: 'active',
    createdAt: event.time,
    createdRevision: revision,
    modifiedRevision: revision,
    modifiedAt: event.time,
    variables: new Map(),
    names: new Map(),
  } as MutableSession;
}

function applyEvent(session: MutableSession, event: NewEvent, revision: Revision): void {
  // A tool call is a record, not a change of state (see ToolEvent).
  if (isToolEvent(event)) return;
  session.modifiedRevision = revision;
  session.modifiedAt = event.time;
  switch (event.kind) {
    case 'session_created':
      throw new Error(`session ${event.sessionId} created twice (revision ${revision})`);
    case 'session_closed':
      session.status = 'closed';
      return;
    case 'session_expired':
      session.status = 'expired';
      return;
    case 'variable_registered':
      session.variables.set(event.variableId, {
        id: event.variableId,
        sessionId: event.sessionId,
        name: event.name,
        type: event.type,
        value: event.value,
        constraints: event.constraints,
        metadata: { ...event.metadata },
        description: event.description,
        version: event.version,
        createdRevision: revision,
        modifiedRevision: revision,
        createdAt: event.time,
        updatedAt: event.time,
        modifiedBy: event.actor,
      } as Draft<SessionState['variables'] extends ReadonlyMap<unknown, infer V> ? V : never>);
      session.names.set(event.name, event.variableId);
      return;
    case 'variable_set':
    case 'variable_rolled_back': {
      const variable = session.variables.get(event.variableId);
      if (!variable) throw new Error(`set of unknown variable ${event.variableId} (revision ${revision})`);
      variable.value = event.value as Draft<typeof event.value>;
      variable.version = event.version;
      variable.modifiedRevision = revision;
      variable.updatedAt = event.time;
      variable.modifiedBy = event.actor;
      if (Object.keys(event.metadata).length > 0) Object.assign(variable.metadata, event.metadata);
      return;
    }
    case 'variable_deleted': {
      const variable = session.variables.get(event.variableId);
      if (!variable) throw new Error(`delete of unknown variable ${event.variableId} (revision ${revision})`);
      session.variables.delete(event.variableId);
      session.names.delete(variable.name);
      return;
    }
    default: {
      const exhaustive: never = event;
      throw new Error(`unhandled event ${JSON.stringify(exhaustive)}`);
    }
  }
}

/**
 * Applies events, in order, to one session's state. The first event of a
 * session that does not exist yet must be `session_created`. Pure: the input
 * state is never changed.
 */
export function evolve(session: SessionState | undefined, events: readonly StoredEvent[]): SessionState {
  let start = 0;
  let base = session;
  if (!base) {
    const first = events[0];
    if (first?.kind !== 'session_created') throw new Error('the first event of a new session must be session_created');
    base = freeze(createSession(first, first.revision), true);
    start = 1;
  }
  if (start === events.length) return base;
  return produce(base, (draft) => {
    for (let i = start; i < events.length; i++) {
      const event = events[i] as StoredEvent;
      applyEvent(draft, event, event.revision);
    }
  });
}

/**
 * A scratch copy of a session for deciding a batch: each operation's events
 * are applied in place (an immer draft, so only what changes is copied, once
 * per batch rather than once per operation) and the next operation is
 * decided against the result. Never published. Revisions in it are
 * placeholders: decisions may depend on names, versions and values, never on
 * revisions.
 */
export class ScratchSession {
  private draft: MutableSession | undefined;

  constructor(session: SessionState | undefined) {
    this.draft = session ? createDraft(session) : undefined;
  }

  get state(): SessionState | undefined {
    return this.draft as SessionState | undefined;
  }

  apply(events: readonly NewEvent[]): void {
    for (const event of events) {
      if (event.kind === 'session_created') {
        this.draft = createSession(event, 0 as Revision);
        continue;
      }
      if (!this.draft) throw new Error('the first event of a new session must be session_created');
      applyEvent(this.draft, event, 0 as Revision);
    }
  }
}

/**
 * Folds a long stream of events of many sessions into fresh states without
 * immer (one mutable pass), then freezes them. Used at start-up and for
 * reads at a past revision.
 */
export function foldSessions(events: Iterable<StoredEvent>, start?: Map<string, SessionState>): Map<string, SessionState> {
  // `start` (e.g. decoded from a snapshot) must hold fresh, unfrozen objects
  // the caller owns: they are updated in place, then frozen.
  const working = (start ?? new Map()) as unknown as Map<string, MutableSession>;
  for (const event of events) {
    if (event.kind === 'session_created') {
      working.set(event.sessionId, createSession(event, event.revision));
      continue;
    }
    // Tool events change no state; skipping them also keeps a fold robust to one
    // recorded for a session this fold does not hold.
    if (isToolEvent(event)) continue;
    const session = working.get(event.sessionId);
    if (!session) throw new Error(`event for unknown session ${event.sessionId} (revision ${event.revision})`);
    applyEvent(session, event, event.revision);
  }
  for (const session of working.values()) freeze(session, true);
  return working as unknown as Map<string, SessionState>;
}
