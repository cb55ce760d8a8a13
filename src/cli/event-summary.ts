/** The "value" and "details" cells of an event in audit and history tables. */
import type { StoredEvent } from '../domain/index.js';
import { formatMetadata, summarizeValue } from './format.js';

export function valueCell(event: StoredEvent): string {
  switch (event.kind) {
    case 'variable_registered':
    case 'variable_set':
    case 'variable_rolled_back':
      return summarizeValue(event.value);
    case 'tool_called':
      return `${event.tool}(${event.parameters})`;
    case 'tool_completed':
      return event.result;
    case 'tool_failed':
      return `${event.errorType}: ${event.message}`;
    default:
      return '';
  }
}

/** What else the event says: its metadata, plus kind-specific facts. */
export function detailsCell(event: StoredEvent): string {
  const parts: string[] = [];
  switch (event.kind) {
    case 'session_created':
      parts.push(`ttl=${event.ttlSeconds}s`);
      break;
    case 'variable_registered':
      parts.push(`type=${event.type}`);
      break;
    case 'tool_called':
      parts.push(`tool=${event.tool} host=${event.host} call=${event.callId}`);
      break;
    case 'tool_completed':
    case 'tool_failed':
      parts.push(`tool=${event.tool} host=${event.host} call=${event.callId} duration=${event.durationMs}ms`);
      break;
    case 'log_compacted':
      parts.push(
        `removed ${event.sessions.length} sessions, ${event.events} events, horizon=${event.horizon} archive=sha256:${event.archiveSha256.slice(0, 12)}…`,
      );
      break;
    default:
      break;
  }
  if ('metadata' in event) {
    const metadata = formatMetadata(event.metadata);
    if (metadata) parts.push(metadata);
  }
  return parts.join(' ');
}
