/**
 * Changes as watchers see them: each event with the variable's state after
 * it and its value before it, read off the change feed. Pure.
 */
import type { AppliedEvent, Metadata, Revision, SessionState, VariableState } from '../domain/index.js';

export type ChangeKind = 'initial' | 'registered' | 'set' | 'rolled_back' | 'deleted' | 'session_closed' | 'session_expired';

const VARIABLE_CHANGE = {
  variable_registered: 'registered',
  variable_set: 'set',
  variable_rolled_back: 'rolled_back',
  variable_deleted: 'deleted',
} as const;

export interface Change {
  readonly kind: ChangeKind;
  readonly revision: Revision;
  /** The commit's first revision; 0 for `initial`. */
  readonly commitId: Revision;
  /** The variable after the change (for `deleted`, as it was deleted). */
  readonly variable?: VariableState;
  /** The variable before the change, when it existed. */
  readonly previous?: VariableState;
  /** The update's own metadata. */
  readonly metadata: Metadata;
  readonly actor: string;
  readonly time: number;
}

/** A commit's changes, delivered to a watcher as one message. */
export interface CommitChanges {
  /** The commit's last revision in this session. */
  readonly revision: Revision;
  readonly changes: readonly Change[];
}

const terminal: ReadonlySet<ChangeKind> = new Set(['session_closed', 'session_expired']);
export const isTerminal = (change: Change): boolean => terminal.has(change.kind);

/**
 * Turns one session's applied events (from the change feed, or a catch-up
 * fold) into changes grouped by commit. Folds nothing: each applied event
 * already carries the variable before and after it.
 */
export function commitChanges(applied: readonly AppliedEvent[]): CommitChanges[] {
  const commits: CommitChanges[] = [];
  let current: { revision: Revision; commitId: Revision; changes: Change[] } | undefined;
  for (const { event, previous, variable } of applied) {
    if (!current || current.commitId !== event.commitId) {
      if (current) commits.push({ revision: current.revision, changes: current.changes });
      current = { revision: event.revision, commitId: event.commitId, changes: [] };
    }
    current.revision = event.revision;
    const common = { revision: event.revision, commitId: event.commitId, actor: event.actor, time: event.time };
    switch (event.kind) {
      case 'session_created':
      // Tool calls have no variable: watchers do not see them.
      case 'tool_called':
      case 'tool_completed':
      case 'tool_failed':
      // An event of the log, never of a watched session.
      case 'log_compacted':
        break;
      case 'session_closed':
      case 'session_expired':
        current.changes.push({ ...common, kind: event.kind, metadata: {} });
        break;
      case 'variable_registered':
      case 'variable_set':
      case 'variable_rolled_back':
      case 'variable_deleted':
        current.changes.push({
          ...common,
          kind: VARIABLE_CHANGE[event.kind],
          metadata: event.metadata,
          ...(variable && { variable }),
          ...(previous && { previous }),
        });
        break;
      default: {
        const exhaustive: never = event;
        throw new Error(`unhandled event ${JSON.stringify(exhaustive)}`);
      }
    }
  }
  if (current) commits.push({ revision: current.revision, changes: current.changes });
  return commits;
}

/** The matching variables of a session as `initial` changes, in name order. */
export function initialChanges(session: SessionState, matches: (change: Change) => boolean): Change[] {
  return [...session.variables.values()]
    .map(
      (variable): Change => ({
        kind: 'initial',
        revision: variable.modifiedRevision,
        commitId: 0 as Revision,
        variable,
        metadata: {},
        actor: variable.modifiedBy,
        time: variable.updatedAt,
      }),
    )
    .filter(matches)
    .sort((a, b) => ((a.variable?.name ?? '') < (b.variable?.name ?? '') ? -1 : 1));
}
