/**
 * Server-sent events: one EventSource per page. It reconnects by itself and
 * resumes after the last revision it saw (the server reads `Last-Event-ID`).
 * The header's dot shows whether the page is live.
 */
import type { ChangesEventJson } from '../api-types.js';

export type LiveState = 'connecting' | 'live' | 'reconnecting' | 'stopped';

const listeners = new Set<(state: LiveState) => void>();
let current: LiveState = 'connecting';

export function onLiveState(listener: (state: LiveState) => void): void {
  listeners.add(listener);
  listener(current);
}

function setState(state: LiveState): void {
  current = state;
  for (const l of listeners) l(state);
}

export interface LiveHandlers {
  readonly changes?: (message: ChangesEventJson) => void;
  readonly head?: (revision: number) => void;
}

export function openLive(url: string, handlers: LiveHandlers): () => void {
  const source = new EventSource(url);
  setState('connecting');
  source.addEventListener('open', () => setState('live'));
  source.addEventListener('error', () => setState(source.readyState === EventSource.CLOSED ? 'stopped' : 'reconnecting'));
  source.addEventListener('changes', (e) => handlers.changes?.(JSON.parse((e as MessageEvent<string>).data) as ChangesEventJson));
  source.addEventListener('head', (e) => handlers.head?.((JSON.parse((e as MessageEvent<string>).data) as { revision: number }).revision));
  // The server is stopping; EventSource would retry, which is what we want: it comes back and resumes.
  source.addEventListener('shutdown', () => setState('reconnecting'));
  return () => {
    source.close();
    setState('stopped');
  };
}
