/**
 * Web view test helpers: a ledger with the web view on port 0, JSON calls,
 * and a reader for server-sent events that awaits frames (never a sleep).
 */
import type { ExecutionContext } from 'ava';
import { startLedger, type TestLedger, type TestServerOptions } from '../helpers/harness.js';

export interface WebLedger extends TestLedger {
  readonly base: string;
}

export async function webLedger(t: ExecutionContext, options: TestServerOptions = {}): Promise<WebLedger> {
  const ledger = await startLedger({ httpPort: 0, ...options });
  t.teardown(() => ledger.stop());
  return Object.assign(ledger, { base: `http://127.0.0.1:${ledger.server.httpPort}` });
}

export async function getJson<T = any>(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: T }> {
  const response = await fetch(url, { headers });
  return { status: response.status, body: (await response.json()) as T };
}

export async function postJson<T = any>(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: T }> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as T };
}

export interface SseFrame {
  readonly event: string;
  readonly id?: string;
  readonly data: any;
}

/** An open event stream: `next()` resolves with the next frame, `close()` disconnects. */
export interface SseStream {
  readonly status: number;
  next(): Promise<SseFrame | undefined>;
  /** The next frame of a kind, skipping others (e.g. progress). */
  nextOf(event: string): Promise<SseFrame>;
  close(): void;
}

export async function openSse(url: string, headers: Record<string, string> = {}): Promise<SseStream> {
  const controller = new AbortController();
  const response = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: controller.signal });
  const reader = response.body?.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  const next = async (): Promise<SseFrame | undefined> => {
    for (;;) {
      const end = buffer.indexOf('\n\n');
      if (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (block.startsWith(':')) continue; // a comment (keep-alive)
        const fields = new Map(block.split('\n').map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 2)] as const));
        return { event: fields.get('event') ?? 'message', ...(fields.has('id') && { id: fields.get('id') }), data: JSON.parse(fields.get('data') ?? 'null') };
      }
      const chunk = await reader?.read();
      if (!chunk || chunk.done) return undefined;
      buffer += decoder.decode(chunk.value, { stream: true });
    }
  };
  return {
    status: response.status,
    next,
    async nextOf(event) {
      for (;;) {
        const frame = await next();
        if (!frame) throw new Error(`stream ended before a ${event} event`);
        if (frame.event === event) return frame;
      }
    },
    close: () => controller.abort(),
  };
}
