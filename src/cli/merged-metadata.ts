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
 * events, then followed row by row; when the rows may skip some of its
 * events (`contiguous` false: a kind, actor or time filter), the skipped
 * ones are folded in between.
 */
export class MergedMetadata {
  private readonly current = new Map<string, { revision: number; metadata: Metadata | undefined }>();

  constructor(
    /** A variable's events with afterRevision < revision < beforeRevision, oldest first, in pages. */
    private readonly eventsBetween: (variableId: string, afterRevision: number, beforeRevision: number) => AsyncIterable<readonly EventRow[]>,
    private readonly contiguous: boolean,
  ) {}

  /** The metadata of the row's variable after the row; undefined for events of no variable. */
  async after(row: EventRow, event: StoredEvent = fromRow(row)): Promise<Metadata | undefined> {
    const variableId = row[3];
    if (variableId === null) return undefined;
    const seen = this.current.get(variableId);
    let before = seen?.metadata;
    // A registration starts the metadata afresh: what came before it cannot matter (and a
    // variable first met at its registration, the usual case, costs no lookup).
    if (event.kind !== 'variable_registered' && (!seen || !this.contiguous)) {
      for await (const page of this.eventsBetween(variableId, seen?.revision ?? 0, row[0])) {
        for (const skipped of page) before = metadataAfter(before, fromRow(skipped));
      }
    }
    const metadata = metadataAfter(before, event);
    this.current.set(variableId, { revision: row[0], metadata });
    return metadata;
  }
}
