/**
 * Loads an exported log into an empty PostgreSQL log, recomputing the hash
 * chain as rows arrive (the same rule as sqlite-importer.ts). One
 * transaction holds the `log_head` row locked from the emptiness check to
 * the commit, so no node appends meanwhile, and an import that stops
 * half-way writes nothing. Rows go in batches of one INSERT each; the commit
 * moves the head and NOTIFYs it, so running nodes see the imported log.
 */
import type { ClientBase } from 'pg';
import type { LogImporter } from './audit-source.js';
import { EVENT_COLUMNS, type EventRow } from './event-codec.js';
import { chainHash, GENESIS_HASH, type Digest } from './hash-chain.js';
import { LOG_CHANNEL } from './postgres-notifier.js';

/** Rows per INSERT. */
const BATCH = 1_000;

const INSERT_ROWS = `
  WITH inserted_events AS (
    INSERT INTO events (${EVENT_COLUMNS})
    SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::bigint[], $8::text[], $9::text[])
  )
  INSERT INTO event_chain (revision, hash) SELECT * FROM unnest($1::bigint[], $10::text[])`;

export class PostgresImporter implements LogImporter {
  private head: Digest = { revision: 0, hash: GENESIS_HASH };
  private pending: { rows: EventRow[]; hashes: string[] } = { rows: [], hashes: [] };
  private open = true;

  private constructor(private readonly client: ClientBase) {}

  /** Begins the import; rejects, writing nothing, unless the log is empty. */
  static async start(client: ClientBase): Promise<PostgresImporter> {
    await client.query('BEGIN');
    try {
      // Appends by running nodes wait on this lock until the import ends.
      await client.query('SELECT revision FROM log_head FOR UPDATE');
      const count = Number((await client.query<{ n: number }>('SELECT count(*) AS n FROM events')).rows[0]?.n ?? 0);
      if (count > 0) throw new Error(`the database already holds ${count} events; import only into an empty one`);
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
    return new PostgresImporter(client);
  }

  async add(row: EventRow): Promise<string> {
    if (!this.open) throw new Error('the import has ended');
    if (row[0] !== this.head.revision + 1) throw new Error(`expected revision ${this.head.revision + 1}, found ${row[0]}`);
    const hash = chainHash(this.head.hash, row);
    this.pending.rows.push(row);
    this.pending.hashes.push(hash);
    this.head = { revision: row[0], hash };
    if (this.pending.rows.length >= BATCH) await this.flush();
    return hash;
  }

  async commit(): Promise<Digest> {
    if (!this.open) throw new Error('the import has ended');
    await this.flush();
    await this.client.query('UPDATE log_head SET revision = $1, hash = $2', [this.head.revision, this.head.hash]);
    await this.client.query(`SELECT pg_notify('${LOG_CHANNEL}', $1::text)`, [String(this.head.revision)]);
    await this.client.query('COMMIT');
    this.open = false;
    return this.head;
  }

  async rollback(): Promise<void> {
    if (!this.open) return;
    this.open = false;
    await this.client.query('ROLLBACK');
  }

  private async flush(): Promise<void> {
    const { rows, hashes } = this.pending;
    if (rows.length === 0) return;
    this.pending = { rows: [], hashes: [] };
    const columns: unknown[][] = Array.from({ length: 9 }, () => new Array<unknown>(rows.length));
    rows.forEach((row, i) => row.forEach((value, c) => ((columns[c] as unknown[])[i] = value)));
    await this.client.query(INSERT_ROWS, [...columns, hashes]);
  }
}
