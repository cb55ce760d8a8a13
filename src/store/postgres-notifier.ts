/**
 * "The log moved" on PostgreSQL: a dedicated connection LISTENs on the
 * channel every append NOTIFYs (the payload is only the new head; readers
 * then read by revision from the table), plus a slow poll of the head row as
 * a safety net. A dropped LISTEN connection is reconnected with backoff, and
 * listeners are woken after every reconnect so followers re-read from their
 * cursor: notifications sent while it was down are lost, rows are not.
 */
import pg from 'pg';
import type { LogNotifier } from './event-store.js';

export const LOG_CHANNEL = 'varledger_log';

export interface PostgresNotifierOptions {
  readonly connectionString: string;
  /** Poll the head this often as a fallback; at most 1 s. */
  readonly pollMs?: number;
  /** Reads the head revision (through the store's pool). */
  readonly readHead: () => Promise<number>;
  /** Called with a connection failure that is being retried (for the log). */
  readonly onError?: (error: Error) => void;
}

const MAX_BACKOFF_MS = 2_000;

export class PostgresNotifier implements LogNotifier {
  private readonly listeners = new Set<() => void>();
  private client: pg.Client | undefined;
  private poller: NodeJS.Timeout | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private lastHead = -1;
  private closed = false;
  private backoffMs = 50;

  constructor(private readonly options: PostgresNotifierOptions) {}

  /** Starts listening; resolves once the LISTEN is in place (so no commit after it is missed). */
  async start(): Promise<void> {
    await this.connect();
    const pollMs = Math.min(this.options.pollMs ?? 1_000, 1_000);
    this.poller = setInterval(() => void this.poll(), pollMs).unref();
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Wakes every listener now (after our own appends, and after a reconnect). */
  notify(): void {
    for (const listener of [...this.listeners]) listener();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.poller);
    clearTimeout(this.reconnectTimer);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.options.connectionString });
    client.on('notification', (message) => {
      const head = Number(message.payload);
      if (Number.isFinite(head)) this.lastHead = Math.max(this.lastHead, head);
      this.notify();
    });
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client, new Error('LISTEN connection ended')));
    await client.connect();
    await client.query(`LISTEN ${LOG_CHANNEL}`);
    this.client = client;
    this.backoffMs = 50;
  }

  private lost(client: pg.Client, error: Error): void {
    if (this.closed || this.client !== client) return;
    this.client = undefined;
    this.options.onError?.(error);
    client.end().catch(() => undefined);
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.closed) return;
    this.reconnectTimer = setTimeout(() => {
      this.connect().then(
        () => this.notify(),
        (error: Error) => {
          this.options.onError?.(error);
          this.backoffMs = Math.min(this.backoffMs * 2, MAX_BACKOFF_MS);
          this.scheduleReconnect();
        },
      );
    }, this.backoffMs);
    this.reconnectTimer.unref();
  }

  private async poll(): Promise<void> {
    if (this.closed || this.listeners.size === 0) return;
    try {
      const head = await this.options.readHead();
      if (head > this.lastHead) {
        this.lastHead = head;
        this.notify();
      }
    } catch (error) {
      this.options.onError?.(error as Error);
    }
  }
}
