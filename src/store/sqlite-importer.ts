/**
 * Loads an exported log into an empty database: rows are inserted verbatim
 * and the hash chain recomputed as they arrive. The whole import is one
 * IMMEDIATE transaction held across the (async) read of the input, so an
 * import that stops half-way — a hash that differs, a bad line — writes nothing.
 */
import type Database from 'better-sqlite3';
import { EVENT_COLUMNS, type EventRow } from './event-codec.js';
import { chainHash, GENESIS_HASH, type Digest } from './hash-chain.js';
import type { VariableIndex } from './sqlite-variable-index.js';

export class EventImporter {
  private readonly insertEvent: Database.Statement<EventRow>;
  private readonly insertHash: Database.Statement<[number, string]>;
  private head: Digest = { revision: 0, hash: GENESIS_HASH };
  private open = true;

  constructor(
    private readonly db: Database.Database,
    private readonly variableIndex: VariableIndex,
  ) {
    this.insertEvent = db.prepare<EventRow>(`INSERT INTO events (${EVENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.insertHash = db.prepare<[number, string]>('INSERT INTO event_chain (revision, hash) VALUES (?, ?)');
    db.exec('BEGIN IMMEDIATE');
    const count = db.prepare<[], number>('SELECT count(*) FROM events').pluck().get() ?? 0;
    if (count > 0) {
      this.rollback();
      throw new Error(`the database already holds ${count} events; import only into an empty one`);
    }
  }

  /** Inserts the next event; returns its recomputed chain hash. Throws unless it is revision head + 1. */
  add(row: EventRow): string {
    if (row[0] !== this.head.revision + 1) {
      throw new Error(`expected revision ${this.head.revision + 1}, found ${row[0]}`);
    }
    const hash = chainHash(this.head.hash, row);
    this.insertEvent.run(...row);
    this.insertHash.run(row[0], hash);
    this.head = { revision: row[0], hash };
    return hash;
  }

  /** Commits everything added, with its variable index (no unindexed tail); returns the chain head. */
  commit(): Digest {
    if (this.open) {
      let committed = false;
      try {
        this.variableIndex.indexTail(this.head.revision);
        this.db.exec('COMMIT');
        committed = true;
      } finally {
        this.variableIndex.settled(committed);
      }
    }
    this.open = false;
    return this.head;
  }

  /** Discards everything added. Safe to call more than once. */
  rollback(): void {
    if (this.open && this.db.inTransaction) this.db.exec('ROLLBACK');
    this.open = false;
  }
}
