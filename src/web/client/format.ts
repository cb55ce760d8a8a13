/** How values, times and events read on the page. */
import type { FloatJson, ValueJson } from '../api-types.js';

const floatText = (x: FloatJson): string => (typeof x === 'number' ? String(x) : x);

export function numberList(values: readonly (number | null)[]): string {
  return values.map((x) => (x === null ? 'NaN' : formatNumber(x))).join(', ');
}

function formatNumber(x: number): string {
  return Math.abs(x) >= 1e6 || (x !== 0 && Math.abs(x) < 1e-4) ? x.toExponential(3) : String(Number(x.toPrecision(6)));
}

/** A value on one line; long ones shortened (the variable page shows strings whole). */
export function valueText(value: ValueJson): string {
  switch (value.kind) {
    case 'float':
      return floatText(value.value);
    case 'integer':
      return value.value;
    case 'boolean':
      return String(value.value);
    case 'string':
      return value.truncated ? `${value.value}… (${value.length.toLocaleString()} characters)` : value.value;
    case 'vector':
    case 'tensor': {
      const more = value.length > value.head.length ? ', …' : '';
      const shape = value.shape ? ` shape [${value.shape.join('×')}]` : ` ${value.length} dims`;
      const norm = value.norm === null ? 'NaN' : formatNumber(value.norm);
      return `[${numberList(value.head.slice(0, 4))}${value.head.length > 4 ? ', …' : more}]${shape}, ‖x‖ ${norm}`;
    }
  }
}

/** A value as a number for plotting, or null for a gap. */
export function valueNumber(value: ValueJson): number | null {
  switch (value.kind) {
    case 'float':
      return typeof value.value === 'number' ? value.value : null;
    case 'integer':
      return Number(value.value);
    case 'boolean':
      return value.value ? 1 : 0;
    case 'vector':
    case 'tensor':
      return value.norm;
    case 'string':
      return null;
  }
}

const timeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

export const absoluteTime = (ms: number): string => timeFormat.format(new Date(ms));

export function relativeTime(ms: number, now = Date.now()): string {
  const seconds = Math.round((now - ms) / 1000);
  if (Math.abs(seconds) < 5) return 'just now';
  const units: [Intl.RelativeTimeFormatUnit, number][] = [
    ['day', 86400],
    ['hour', 3600],
    ['minute', 60],
    ['second', 1],
  ];
  const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
  for (const [unit, size] of units) {
    if (Math.abs(seconds) >= size || unit === 'second') return rtf.format(-Math.round(seconds / size), unit);
  }
  return '';
}

const KIND_TEXT: Record<string, string> = {
  session_created: 'created the session',
  session_closed: 'closed the session',
  session_expired: 'session expired',
  variable_registered: 'registered',
  variable_set: 'set',
  variable_rolled_back: 'rolled back',
  variable_deleted: 'deleted',
  tool_called: 'called a tool',
  tool_completed: 'tool finished',
  tool_failed: 'tool failed',
  log_compacted: 'log compacted',
};

export const kindText = (kind: string): string => KIND_TEXT[kind] ?? kind.replace(/_/g, ' ');

export const metadataText = (metadata: Readonly<Record<string, string>>): string =>
  Object.entries(metadata)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(' ');
