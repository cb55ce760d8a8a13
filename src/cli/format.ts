/**
 * Rendering shared by the audit commands: colour only when stdout is a
 * terminal (and NO_COLOR is unset), fixed-width text tables written a row at
 * a time, values shortened for tables but encoded in full, as in the event
 * payload, for --json.
 */
import pc from 'picocolors';
import { quote, formatShape, type Metadata, type Value } from '../domain/index.js';
import type { EventRow } from '../store/event-codec.js';
import { TextTable, type Column } from './text-table.js';

function colourWanted(stream: NodeJS.WriteStream): boolean {
  // https://no-color.org: present and not empty disables colour.
  if (process.env.NO_COLOR) return false;
  return stream.isTTY === true && process.env.TERM !== 'dumb';
}

/** Colours for stdout; every function is the identity when colour is off. */
export const colour = pc.createColors(colourWanted(process.stdout));

export const iso = (ms: number): string => (Number.isFinite(ms) ? new Date(ms).toISOString() : String(ms));

const MAX_VECTOR_SHOWN = 4;

/** A value short enough for a table cell. */
export function summarizeValue(value: Value): string {
  switch (value.kind) {
    case 'float':
      return String(value.value);
    case 'integer':
      return value.value.toString();
    case 'string':
      return quote(value.value);
    case 'boolean':
      return String(value.value);
    case 'vector': {
      const shown = value.values.slice(0, MAX_VECTOR_SHOWN).join(', ');
      const more = value.values.length > MAX_VECTOR_SHOWN ? `, … (${value.values.length})` : '';
      return `[${shown}${more}]`;
    }
    case 'tensor':
      return `${value.dtype} tensor ${formatShape(value.shape)}`;
    default: {
      const exhaustive: never = value;
      return String(exhaustive);
    }
  }
}

/** `reason="lower loss" step="3"`: values quoted so spaces stay unambiguous. */
export function formatMetadata(metadata: Metadata): string {
  return Object.entries(metadata)
    .map(([key, value]) => `${key}=${quote(value)}`)
    .join(' ');
}

/** A fixed-width table with the given columns, widths fitted to `sample`; plain text unless colour is on. */
export function table(columns: readonly Column[], sample: Iterable<readonly string[]> = []): TextTable {
  return new TextTable(columns, sample, { header: colour.bold, rule: colour.gray });
}

/**
 * Prints rows the caller already holds (a session's variables, one
 * variable's versions), or a note on stderr when there are none.
 */
export function printTable(head: readonly string[], rows: readonly string[][], none: string): void {
  if (rows.length === 0) {
    process.stderr.write(`${none}\n`);
    return;
  }
  const out = table(
    head.map((title) => ({ title })),
    rows,
  );
  let text = out.header();
  for (const row of rows) text += out.row(row);
  process.stdout.write(text);
}

/**
 * One event as a JSON object for --json output: the columns, the variable's
 * name, and the payload's fields (values, constraints and metadata encoded
 * exactly as stored).
 */
export function eventJson(row: EventRow, variableName: string | undefined): Record<string, unknown> {
  const [revision, commitId, sessionId, variableId, kind, version, time, actor, payload] = row;
  const { name: _registeredName, ...fields } = JSON.parse(payload) as Record<string, unknown>;
  return {
    revision,
    commit_id: commitId,
    time: iso(time),
    time_ms: time,
    session_id: sessionId,
    variable_id: variableId,
    variable_name: variableName ?? null,
    kind,
    version,
    actor,
    ...fields,
  };
}

export const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

export const writeJsonLine = (value: unknown): boolean => process.stdout.write(`${JSON.stringify(value)}\n`);
