/**
 * Read-only queries for the audit CLI: filters the log in SQL (so `audit
 * --session s1` on a big log reads one session's index, not every row) and
 * resolves variable names from their registration events. Returns raw rows:
 * the CLI prints the payload as stored.
 */
import type Database from 'better-sqlite3';
import type { EventFilter as AuditFilter, Registration } from './audit-source.js';
import { EVENT_COLUMNS, type EventRow } from './event-codec.js';

export type { Registration } from './audit-source.js';

export interface EventFilter extends AuditFilter {
  /** Keep only the newest `limit` matches (still returned oldest first). */
  readonly limit?: number | undefined;
}

/** A registration's name; migrations/0008_registrations_by_name.sql indexes exactly this expression (with kind = 'variable_registered'). */
const NAME = "json_extract(payload, '$.name')";

/**
 * The revisions of a variable's events, through its index and the unindexed
 * tail (the `variable_events` view, migrations/0006_variable_versions.sql).
 */
const revisionsOf = (condition: string) => `revision IN (SELECT revision FROM variable_events WHERE ${condition})`;

export class AuditQueries {
  private readonly names = new Map<string, string | undefined>();
  private readonly nameOf: Database.Statement<[string], string>;
  private readonly registrations: Database.Statement<[string, string, string], [string, string, number]>;
  private readonly variableEvents: Database.Statement<[string, string], EventRow>;
  private readonly lastAtTime: Database.Statement<[number], number>;
  private between: Database.Statement<[string, number, number], EventRow> | undefined;

  constructor(private readonly db: Database.Database) {
    // version = 0 rows of a variable are its registration: the (variable_id, version) index finds them.
    this.nameOf = db
      .prepare<[string], string>(
        `SELECT ${NAME} FROM events WHERE ${revisionsOf('variable_id = ? AND version = 0')} AND kind = 'variable_registered' LIMIT 1`,
      )
      .pluck();
    this.registrations = db
      .prepare<[string, string, string], [string, string, number]>(
        `SELECT variable_id, ${NAME}, revision FROM events
         WHERE session_id = ? AND kind = 'variable_registered' AND (variable_id = ? OR ${NAME} = ?)
         ORDER BY revision DESC`,
      )
      .raw();
    this.variableEvents = db
      .prepare<[string, string], EventRow>(
        `SELECT ${EVENT_COLUMNS} FROM events WHERE ${revisionsOf('variable_id = ?')} AND session_id = ? ORDER BY revision DESC`,
      )
      .raw();
    this.lastAtTime = db.prepare<[number], number>('SELECT coalesce(max(revision), 0) FROM events WHERE time <= ?').pluck();
  }

  /** Matching events, oldest first, streamed. */
  events(filter: EventFilter): IterableIterator<EventRow> {
    const { condition, params } = this.where(filter);
    const sql =
      filter.limit === undefined
        ? `SELECT ${EVENT_COLUMNS} FROM events ${condition} ORDER BY revision`
        : `SELECT * FROM (SELECT ${EVENT_COLUMNS} FROM events ${condition} ORDER BY revision DESC LIMIT @limit) ORDER BY revision`;
    if (filter.limit !== undefined) params.limit = filter.limit;
    return this.db.prepare<[Record<string, string | number>], EventRow>(sql).raw().iterate(params);
  }

  /** The revision of the n-th newest matching event (n ≥ 1), if there are that many. */
  nthNewestRevision(filter: EventFilter, n: number): number | undefined {
    const { condition, params } = this.where(filter);
    return this.db
      .prepare<[Record<string, string | number>], number>(`SELECT revision FROM events ${condition} ORDER BY revision DESC LIMIT 1 OFFSET @offset`)
      .pluck()
      .get({ ...params, offset: n - 1 });
  }

  /** One variable's events strictly between two revisions, oldest first, streamed. */
  variableEventsBetween(variableId: string, afterRevision: number, beforeRevision: number): IterableIterator<EventRow> {
    this.between ??= this.db
      .prepare<[string, number, number], EventRow>(
        `SELECT ${EVENT_COLUMNS} FROM events WHERE ${revisionsOf('variable_id = ? AND revision > ? AND revision < ?')} ORDER BY revision`,
      )
      .raw();
    return this.between.iterate(variableId, afterRevision, beforeRevision);
  }

  private where(filter: EventFilter): { condition: string; params: Record<string, string | number> } {
    const where: string[] = [];
    const params: Record<string, string | number> = {};
    const add = (clause: string, name: string, value: string | number | undefined) => {
      if (value === undefined) return;
      where.push(clause);
      params[name] = value;
    };
    add('session_id = @session', 'session', filter.sessionId);
    add(
      revisionsOf(`variable_id = @variable OR variable_id IN (SELECT variable_id FROM events WHERE kind = 'variable_registered' AND ${NAME} = @variable)`),
      'variable',
      filter.variable,
    );
    add('actor = @actor', 'actor', filter.actor);
    add('time >= @since', 'since', filter.since);
    add('time <= @until', 'until', filter.until);
    add('revision > @after', 'after', filter.afterRevision);
    add('revision < @before', 'before', filter.beforeRevision);
    if (filter.kinds && filter.kinds.length > 0) {
      const names = filter.kinds.map((kind, i) => {
        params[`kind${i}`] = kind;
        return `@kind${i}`;
      });
      where.push(`kind IN (${names.join(', ')})`);
    }
    return { condition: where.length > 0 ? `WHERE ${where.join(' AND ')}` : '', params };
  }

  /** The name a variable was registered with (cached: names never change). */
  variableName(variableId: string): string | undefined {
    if (!this.names.has(variableId)) this.names.set(variableId, this.nameOf.get(variableId));
    return this.names.get(variableId);
  }

  /** Registrations in a session whose id or name is `identifier`, newest first. */
  findVariable(sessionId: string, identifier: string): Registration[] {
    return this.registrations.all(sessionId, identifier, identifier).map(([variableId, name, revision]) => ({ variableId, name, revision }));
  }

  /** Every event of one variable (registration, sets, rollbacks, deletion), newest first. */
  eventsOfVariable(sessionId: string, variableId: string): EventRow[] {
    return this.variableEvents.all(variableId, sessionId);
  }

  /** The newest revision whose time is at or before `time`; 0 if none. */
  lastRevisionAt(time: number): number {
    return this.lastAtTime.get(time) ?? 0;
  }
}
