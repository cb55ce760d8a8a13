/**
 * A variable's metadata after each of its events, for showing beside the
 * event's own metadata. A set or rollback merges its metadata into the
 * variable's (as Snakepit does; the rule `evolve` applies), so after a
 * rollback the variable still shows the `reason` of an earlier set: the
 * change's own metadata is what its writer sent.
 */
import type { Metadata, StoredEvent } from '../domain/index.js';
import { fromRow, type EventRow } from '../store/event-codec.js';

/** The variable's metadata after `event`, given its metadata before (undefined: not registered). */
export function metadataAfter(before: Metadata | undefined, event: StoredEvent): Metadata | undefined {
  switch (event.kind) {
    case 'variable_registered':
      return { ...event.metadata };
    case 'variable_set':
    case 'variable_rolled_back':
      return Object.keys(event.metadata).length > 0 ? { ...before, ...event.metadata } : before;
    case 'variable_deleted':
      return undefined;
    default:
      return before;
  }
}

/**
 * Tracks variables through rows read oldest first. A variable first met
 * after its registration (filters, paging) is folded once from its earlier
 * events, then followed row by row.
 */
export class MergedMetadata {
  private readonly current = new Map<string, Metadata | undefined>();

  constructor(private readonly earlierEvents: (variableId: string, revision: number) => Iterable<EventRow>) {}

  /** The metadata of the row's variable after the row; undefined for events of no variable. */
  after(row: EventRow, event: StoredEvent = fromRow(row)): Metadata | undefined {
    const variableId = row[3];
    if (variableId === null) return undefined;
    let before: Metadata | undefined;
    if (this.current.has(variableId)) before = this.current.get(variableId);
    else for (const earlier of this.earlierEvents(variableId, row[0])) before = metadataAfter(before, fromRow(earlier));
    const after = metadataAfter(before, event);
    this.current.set(variableId, after);
    return after;
  }
}
