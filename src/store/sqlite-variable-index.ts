/**
 * The per-variable index of the SQLite log, kept off the commit path
 * (migration 0006). Commits add no index rows; once an append leaves more
 * than `tailLimit` events after the watermark, the same transaction indexes
 * that whole tail with one INSERT … SELECT and moves the watermark. So the
 * tail is bounded after every append, with no timer and no extra
 * transaction, and two processes on one file need no agreement: whoever
 * appends under the write lock indexes, and the watermark makes it
 * idempotent. Reads merge the index with the tail (`variable_events`).
 */
import type Database from 'better-sqlite3';

/**
 * How many unindexed events an append may leave. Indexing a tail costs about
 * one page write per distinct variable in it, so the larger the tail, the
 * more events share each page (a commit of 100 sets over 100 variables wrote
 * ~100 index pages when every commit indexed its own events); every read by
 * variable also scans the tail by revision range, so it must stay short.
 * 512 events: a tail scan is tens of µs, and a commit of 100 sets over 100
 * variables pays ~100 index pages once in 5 commits instead of in every one.
 */
export const DEFAULT_INDEX_TAIL = 512;

export class VariableIndex {
  private readonly statements;
  /**
   * A committed watermark, possibly older than the file's (another process
   * may have indexed since): only a hint that saves reading it on every
   * append. Never ahead of the file's, so it can only make us look again.
   */
  private knownThrough = 0;
  /** The watermark this transaction moved to, adopted once it commits. */
  private pending: number | undefined;

  constructor(
    db: Database.Database,
    private readonly tailLimit = DEFAULT_INDEX_TAIL,
  ) {
    this.statements = {
      watermark: db.prepare<[], number>('SELECT indexed_through FROM variable_index_state').pluck(),
      // In key order: the B-tree is filled left to right rather than at random places.
      index: db.prepare<[number, number]>(
        `INSERT INTO variable_versions (variable_id, version, revision)
         SELECT variable_id, coalesce(version, -1), revision FROM events
         WHERE revision > ? AND revision <= ? AND variable_id IS NOT NULL ORDER BY 1, 2, 3`,
      ),
      advance: db.prepare<[number]>('UPDATE variable_index_state SET indexed_through = ?'),
      // The removed sessions' events, found by the session index; each index row then by its key.
      forget: db.prepare<[string]>(
        `DELETE FROM variable_versions WHERE (variable_id, version, revision) IN (
           SELECT e.variable_id, coalesce(e.version, -1), e.revision
           FROM json_each(?) s CROSS JOIN events e ON e.session_id = s.value WHERE e.variable_id IS NOT NULL)`,
      ),
    };
  }

  /**
   * Inside a write transaction whose appends reached `head`: indexes the
   * tail if it is longer than the limit. Call `settled` once the transaction ends.
   */
  afterAppend(head: number): void {
    if (head - this.knownThrough <= this.tailLimit) return;
    const through = this.statements.watermark.get() as number;
    if (head - through > this.tailLimit) this.indexThrough(through, head);
    else this.pending = through;
  }

  /** Indexes every unindexed event up to `head` (opening a file, an import). Inside a write transaction. */
  indexTail(head: number): void {
    const through = this.statements.watermark.get() as number;
    if (head > through) this.indexThrough(through, head);
  }

  /** True when the tail is longer than the limit (read outside a transaction: opening the file). */
  tailTooLong(head: number): boolean {
    return head - (this.statements.watermark.get() as number) > this.tailLimit;
  }

  /** The transaction ended: adopt its watermark only if it committed. */
  settled(committed: boolean): void {
    if (committed && this.pending !== undefined) this.knownThrough = Math.max(this.knownThrough, this.pending);
    this.pending = undefined;
  }

  /** Compaction: drops the index rows of the sessions' events (a JSON array of ids), before the events go. */
  forgetSessions(sessionIdsJson: string): void {
    this.statements.forget.run(sessionIdsJson);
  }

  private indexThrough(from: number, head: number): void {
    this.statements.index.run(from, head);
    this.statements.advance.run(head);
    this.pending = head;
  }
}
